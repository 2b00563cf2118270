/*---
name: clinical.rms_mutation_prediction_patients
description: RMS-Mutation-Prediction patients with their demographics, diagnosis and samples - three clinical tables joined on dicom_patient_id, then to imaging (same collection), as IDC's RMS notebook does; copy it for other multi-table collections (see clinical.tables).
parameters:
  sample_type: {type: STRING, default: null, description: "e.g. Primary Tumor"}
tables: [dicom_all, clinical.rms_mutation_prediction_demographics, clinical.rms_mutation_prediction_diagnosis, clinical.rms_mutation_prediction_sample]
output: {PatientID: STRING, slides: INT64, gender: STRING, primary_diagnosis: STRING, sample_id: STRING, sample_type: STRING, sample_anatomic_site: STRING}
examples:
  all: {}
  primary: {sample_type: Primary Tumor}
---*/
WITH imaging AS (
  SELECT PatientID, COUNT(DISTINCT SeriesInstanceUID) AS slides
  FROM {{ table('dicom_all') }}
  WHERE collection_id = 'rms_mutation_prediction' AND Modality = 'SM'
  GROUP BY PatientID
)
SELECT
  imaging.PatientID,
  imaging.slides,
  demographics.gender,
  diagnosis.primary_diagnosis,
  sample.sample_id,
  sample.sample_type,
  sample.sample_anatomic_site
FROM imaging
JOIN {{ table('clinical.rms_mutation_prediction_demographics') }} AS demographics
  ON demographics.dicom_patient_id = imaging.PatientID
JOIN {{ table('clinical.rms_mutation_prediction_diagnosis') }} AS diagnosis
  ON diagnosis.dicom_patient_id = imaging.PatientID
JOIN {{ table('clinical.rms_mutation_prediction_sample') }} AS sample
  ON sample.dicom_patient_id = imaging.PatientID
WHERE (@sample_type IS NULL OR sample.sample_type = @sample_type)
ORDER BY imaging.PatientID, sample.sample_id
