/*---
name: cohort.series_by_modality
description: One row per series of the given modalities (optionally one collection), with instance count and size.
parameters:
  modalities: {type: ARRAY<STRING>, required: true, example: [CT, MR], description: DICOM Modality values}
  collection_id: {type: STRING, default: null, description: restrict to one collection (IDC collection_id)}
tables: [dicom_all]
output: {collection_id: STRING, PatientID: STRING, StudyInstanceUID: STRING, SeriesInstanceUID: STRING, Modality: STRING, crdc_series_uuid: STRING, instance_count: INT64, series_size_bytes: INT64}
examples:
  ct_mr: {modalities: [CT, MR]}
  pet_one_collection: {modalities: [PT], collection_id: qin_pet_phantom}
  nothing: {modalities: []}
---*/
SELECT
  ANY_VALUE(collection_id) AS collection_id,
  ANY_VALUE(PatientID) AS PatientID,
  ANY_VALUE(StudyInstanceUID) AS StudyInstanceUID,
  SeriesInstanceUID,
  ANY_VALUE(Modality) AS Modality,
  ANY_VALUE(crdc_series_uuid) AS crdc_series_uuid,
  COUNT(DISTINCT SOPInstanceUID) AS instance_count,
  SUM(instance_size) AS series_size_bytes
FROM {{ table('dicom_all') }}
WHERE Modality IN UNNEST(@modalities)
  AND (@collection_id IS NULL OR collection_id = @collection_id)
GROUP BY SeriesInstanceUID
ORDER BY collection_id, PatientID, StudyInstanceUID, SeriesInstanceUID
