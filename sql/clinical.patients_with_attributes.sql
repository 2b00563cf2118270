/*---
name: clinical.patients_with_attributes
description: Imaging patients of NSCLC-Radiomics-Interobserver1 joined to their clinical row (PatientID = dicom_patient_id, same collection), with series counts; copy it for another clinical table.
parameters:
  modality: {type: STRING, default: null}
tables: [dicom_all, clinical.nsclc_radiomics_interobserver1_clinical]
output: {PatientID: STRING, series: INT64, modalities: STRING, ageyears: INT64, sex: STRING, overallstage: STRING}
examples:
  all: {}
  ct: {modality: CT}
---*/
WITH imaging AS (
  SELECT
    PatientID,
    COUNT(DISTINCT SeriesInstanceUID) AS series,
    STRING_AGG(DISTINCT Modality, ',' ORDER BY Modality) AS modalities
  FROM {{ table('dicom_all') }}
  WHERE collection_id = 'nsclc_radiomics_interobserver1'
    AND (@modality IS NULL OR Modality = @modality)
  GROUP BY PatientID
)
SELECT
  imaging.PatientID,
  imaging.series,
  imaging.modalities,
  clinical.ageyears,
  clinical.sex,
  clinical.overallstage
FROM imaging
JOIN {{ table('clinical.nsclc_radiomics_interobserver1_clinical') }} AS clinical
  ON clinical.dicom_patient_id = imaging.PatientID
ORDER BY imaging.PatientID
