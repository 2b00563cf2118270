/*---
name: clinical.values_by_dictionary
description: Every clinical value of one table (nsclc_radiomics_interobserver1_clinical) as patient, column, label and value, labelled and decoded through the dataset's dictionary (column_metadata) and restricted to imaging patients of the same collection; for another table, change the table name and the column list.
parameters:
  label_pattern: {type: STRING, default: null, description: "RE2 regex matched partially against LOWER(column_label)"}
tables: [dicom_all, clinical.nsclc_radiomics_interobserver1_clinical, clinical.column_metadata]
output: {PatientID: STRING, column_name: STRING, column_label: STRING, value: STRING, coded: BOOL, value_description: STRING}
examples:
  all: {}
  stage: {label_pattern: stage}
---*/
WITH imaging AS (
  SELECT DISTINCT PatientID
  FROM {{ table('dicom_all') }}
  WHERE collection_id = 'nsclc_radiomics_interobserver1'
),
cells AS (
  SELECT c.dicom_patient_id, cell.column_name, cell.value
  FROM {{ table('clinical.nsclc_radiomics_interobserver1_clinical') }} AS c
  CROSS JOIN UNNEST([
    STRUCT('ageyears' AS column_name, CAST(c.ageyears AS STRING) AS value),
    STRUCT('sex' AS column_name, c.sex AS value),
    STRUCT('histology' AS column_name, c.histology AS value),
    STRUCT('clinicaltstage' AS column_name, c.clinicaltstage AS value),
    STRUCT('overallstage' AS column_name, c.overallstage AS value)
  ]) AS cell
),
dictionary AS (
  SELECT `column` AS column_name, column_label, `values` AS options
  FROM {{ table('clinical.column_metadata') }}
  WHERE collection_id = 'nsclc_radiomics_interobserver1'
    AND SPLIT(table_name, '.')[SAFE_OFFSET(2)] = 'nsclc_radiomics_interobserver1_clinical'
)
SELECT
  imaging.PatientID,
  cells.column_name,
  dictionary.column_label,
  cells.value,
  ARRAY_LENGTH(dictionary.options) > 0 AS coded,
  (SELECT MAX(o.option_description) FROM UNNEST(dictionary.options) AS o
    WHERE o.option_code = cells.value) AS value_description
FROM imaging
JOIN cells ON cells.dicom_patient_id = imaging.PatientID
JOIN dictionary ON dictionary.column_name = cells.column_name
WHERE (@label_pattern IS NULL OR REGEXP_CONTAINS(LOWER(dictionary.column_label), LOWER(@label_pattern)))
ORDER BY imaging.PatientID, cells.column_name
