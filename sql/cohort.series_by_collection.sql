/*---
name: cohort.series_by_collection
description: One row per series of the given collections, with modality, body part, description and size in MB.
parameters:
  collection_ids: {type: ARRAY<STRING>, required: true, example: [qin_lung_ct], description: IDC collection_id values}
tables: [dicom_all]
idc_index: true  # --source idc-index reads idc-index's `index` table (one row per series)
output: {collection_id: STRING, PatientID: STRING, StudyInstanceUID: STRING, SeriesInstanceUID: STRING, Modality: STRING, BodyPartExamined: STRING, SeriesDescription: STRING, instance_count: INT64, series_size_MB: FLOAT64}
examples:
  lung: {collection_ids: [qin_lung_ct]}
  two: {collection_ids: [mri_dir, rider_phantom_pet_ct]}
---*/
{% if idc_index %}
SELECT
  collection_id,
  PatientID,
  StudyInstanceUID,
  SeriesInstanceUID,
  Modality,
  BodyPartExamined,
  SeriesDescription,
  instanceCount AS instance_count,
  ROUND(series_size_MB, 3) AS series_size_MB
FROM {{ table('index') }}
WHERE collection_id IN UNNEST(@collection_ids)
ORDER BY collection_id, PatientID, StudyInstanceUID, SeriesInstanceUID
{% else %}
SELECT
  ANY_VALUE(collection_id) AS collection_id,
  ANY_VALUE(PatientID) AS PatientID,
  ANY_VALUE(StudyInstanceUID) AS StudyInstanceUID,
  SeriesInstanceUID,
  ANY_VALUE(Modality) AS Modality,
  ANY_VALUE(BodyPartExamined) AS BodyPartExamined,
  ANY_VALUE(SeriesDescription) AS SeriesDescription,
  COUNT(DISTINCT SOPInstanceUID) AS instance_count,
  ROUND(SUM(instance_size) / 1000000, 3) AS series_size_MB
FROM {{ table('dicom_all') }}
WHERE collection_id IN UNNEST(@collection_ids)
GROUP BY SeriesInstanceUID
ORDER BY collection_id, PatientID, StudyInstanceUID, SeriesInstanceUID
{% endif %}
