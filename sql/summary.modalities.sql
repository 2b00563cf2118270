/*---
name: summary.modalities
description: Per modality - collections, series, instances and bytes, optionally within some collections.
parameters:
  collection_ids: {type: ARRAY<STRING>, default: null}
tables: [dicom_all]
idc_index: true  # --source idc-index: from idc-index's series rows (instanceCount, series_size_MB)
output: {Modality: STRING, collections: INT64, series: INT64, instances: INT64, size_bytes: INT64}
examples:
  all: {}
  prostate: {collection_ids: [qin_prostate_repeatability]}
---*/
{% if idc_index %}
SELECT
  Modality,
  COUNT(DISTINCT collection_id) AS collections,
  COUNT(DISTINCT SeriesInstanceUID) AS series,
  SUM(instanceCount) AS instances,
  CAST(ROUND(SUM(series_size_MB) * 1000000) AS INT64) AS size_bytes
FROM {{ table('index') }}
{% if given('collection_ids') %}
WHERE collection_id IN UNNEST(@collection_ids)
{% endif %}
GROUP BY Modality
ORDER BY Modality
{% else %}
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
{% endif %}
