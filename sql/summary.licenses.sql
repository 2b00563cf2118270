/*---
name: summary.licenses
description: Per license - how many collections, series and bytes it covers (check before redistributing data).
parameters:
  collection_ids: {type: ARRAY<STRING>, default: null}
tables: [dicom_all]
output: {license_short_name: STRING, license_url: STRING, collections: INT64, series: INT64, size_bytes: INT64}
examples:
  all: {}
  pathology: {collection_ids: [tcga_uvm, cptac_cm, htan_vanderbilt]}
---*/
SELECT
  license_short_name,
  ANY_VALUE(license_url) AS license_url,
  COUNT(DISTINCT collection_id) AS collections,
  COUNT(DISTINCT SeriesInstanceUID) AS series,
  SUM(instance_size) AS size_bytes
FROM {{ table('dicom_all') }}
{% if given('collection_ids') %}
WHERE collection_id IN UNNEST(@collection_ids)
{% endif %}
GROUP BY license_short_name
ORDER BY license_short_name
