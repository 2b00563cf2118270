/*---
name: cohort.studies_of_patient
description: The studies of one patient (PatientID is unique only within a collection) with date, description, modalities and series count.
parameters:
  patient_id: {type: STRING, required: true, example: QIN-LSC-0009}
  collection_id: {type: STRING, default: null}
tables: [dicom_all]
output: {collection_id: STRING, PatientID: STRING, StudyInstanceUID: STRING, StudyDate: DATE, StudyDescription: STRING, modalities: STRING, series: INT64, instances: INT64}
examples:
  qin_lsc_0009: {patient_id: QIN-LSC-0009, collection_id: qin_lung_ct}
  unknown_patient: {patient_id: NO-SUCH-PATIENT}
---*/
SELECT
  collection_id,
  PatientID,
  StudyInstanceUID,
  ANY_VALUE(StudyDate) AS StudyDate,
  ANY_VALUE(StudyDescription) AS StudyDescription,
  STRING_AGG(DISTINCT Modality, ',' ORDER BY Modality) AS modalities,
  COUNT(DISTINCT SeriesInstanceUID) AS series,
  COUNT(DISTINCT SOPInstanceUID) AS instances
FROM {{ table('dicom_all') }}
WHERE PatientID = @patient_id
  AND (@collection_id IS NULL OR collection_id = @collection_id)
GROUP BY collection_id, PatientID, StudyInstanceUID
ORDER BY StudyDate, StudyInstanceUID
