/*---
name: summary.modalities
description: Per modality - collections, series, instances and bytes, optionally within some collections.
parameters:
  collection_ids: {type: ARRAY<STRING>, default: null}
tables: [dicom_all]
output: {Modality: STRING, collections: INT64, series: INT64, instances: INT64, size_bytes: INT64}
examples:
  all: {}
  prostate: {collection_ids: [qin_prostate_repeatability]}
---*/
SELECT
  Modality,
  COUNT(DISTINCT collection_id) AS collections,
  COUNT(DISTINCT SeriesInstanceUID) AS series,
  COUNT(DISTINCT SOPInstanceUID) AS instances,
  SUM(instance_size) AS size_bytes
FROM {{ table('dicom_all') }}
{% if given('collection_ids') %}
WHERE collection_id IN UNNEST(@collection_ids)
{% endif %}
GROUP BY Modality
ORDER BY Modality
