/*---
name: cohort.series_by_body_part
description: Series whose BodyPartExamined is one of the given values (case-insensitive), optionally of one modality.
parameters:
  body_parts: {type: ARRAY<STRING>, required: true, example: [CHEST, LUNG], description: "BodyPartExamined values (upper case)"}
  modality: {type: STRING, default: null}
tables: [dicom_all]
output: {collection_id: STRING, SeriesInstanceUID: STRING, Modality: STRING, BodyPartExamined: STRING, instance_count: INT64, series_size_bytes: INT64}
examples:
  chest: {body_parts: [CHEST, LUNG, THORAX]}
  chest_ct: {body_parts: [CHEST, LUNG], modality: CT}
---*/
SELECT
  ANY_VALUE(collection_id) AS collection_id,
  SeriesInstanceUID,
  ANY_VALUE(Modality) AS Modality,
  ANY_VALUE(BodyPartExamined) AS BodyPartExamined,
  COUNT(DISTINCT SOPInstanceUID) AS instance_count,
  SUM(instance_size) AS series_size_bytes
FROM {{ table('dicom_all') }}
WHERE UPPER(BodyPartExamined) IN UNNEST(@body_parts)
  AND (@modality IS NULL OR Modality = @modality)
GROUP BY SeriesInstanceUID
ORDER BY collection_id, SeriesInstanceUID
