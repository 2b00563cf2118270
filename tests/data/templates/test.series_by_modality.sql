/*---
name: test.series_by_modality
description: One row per series of the given modalities, with its size (fixture).
parameters:
  modalities:    {type: ARRAY<STRING>, required: true, example: [CT, MR], description: DICOM Modality values}
  collection_id: {type: STRING, default: null, description: restrict to one collection}
tables: [dicom_all]
output: {SeriesInstanceUID: STRING, Modality: STRING, collection_id: STRING, series_size_bytes: INT64}
---*/
SELECT
  SeriesInstanceUID,
  ANY_VALUE(Modality) AS Modality,
  ANY_VALUE(collection_id) AS collection_id,
  SUM(instance_size) AS series_size_bytes
FROM {{ table('dicom_all') }}
WHERE Modality IN UNNEST(@modalities)
{% if given('collection_id') %}
  AND collection_id = @collection_id
{% endif %}
GROUP BY SeriesInstanceUID
ORDER BY SeriesInstanceUID
