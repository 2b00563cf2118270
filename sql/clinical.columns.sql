/*---
name: clinical.columns
description: Columns of the clinical tables (column_metadata) with label, type and number of coded values; search labels by regex.
parameters:
  collection_id: {type: STRING, default: null}
  label_pattern: {type: STRING, default: null, description: "RE2 regex matched partially against LOWER(column_label)"}
tables: [clinical.column_metadata]
output: {collection_id: STRING, short_table_name: STRING, column_name: STRING, column_label: STRING, data_type: STRING, n_values: INT64, value_codes: STRING}
examples:
  all: {}
  stage: {label_pattern: stage}
---*/
SELECT
  collection_id,
  SPLIT(table_name, '.')[SAFE_OFFSET(2)] AS short_table_name,
  `column` AS column_name,
  column_label,
  data_type,
  ARRAY_LENGTH(`values`) AS n_values,
  ARRAY_TO_STRING(ARRAY(SELECT v.option_code FROM UNNEST(`values`) AS v WITH OFFSET AS pos ORDER BY pos), '|') AS value_codes
FROM {{ table('clinical.column_metadata') }}
WHERE (@collection_id IS NULL OR collection_id = @collection_id)
  AND (@label_pattern IS NULL OR REGEXP_CONTAINS(LOWER(column_label), LOWER(@label_pattern)))
ORDER BY collection_id, short_table_name, column_name
