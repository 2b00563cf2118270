/*---
name: clinical.tables
description: The clinical tables of IDC (idc_vNN_clinical.table_metadata), one row per table, optionally of some collections.
parameters:
  collection_ids: {type: ARRAY<STRING>, default: null}
tables: [clinical.table_metadata]
output: {collection_id: STRING, table_name: STRING, short_table_name: STRING, table_description: STRING, idc_version_table_added: STRING}
examples:
  all: {}
  prostate: {collection_ids: [qin_prostate_repeatability]}
---*/
SELECT
  collection_id,
  table_name,
  SPLIT(table_name, '.')[SAFE_OFFSET(2)] AS short_table_name,
  table_description,
  idc_version_table_added
FROM {{ table('clinical.table_metadata') }}
{% if given('collection_ids') %}
WHERE collection_id IN UNNEST(@collection_ids)
{% endif %}
ORDER BY collection_id, table_name
