/*---
name: cohort.series_new_since
description: Series first added, or revised, in IDC version N or later (series_init_idc_version / series_revised_idc_version).
parameters:
  since_version: {type: INT64, required: true, example: 20, description: "IDC release number (20 for v20)"}
  include_revised: {type: BOOL, default: true, description: also list series revised since then}
tables: [dicom_all]
output: {collection_id: STRING, SeriesInstanceUID: STRING, Modality: STRING, series_init_idc_version: INT64, series_revised_idc_version: INT64, change: STRING}
examples:
  since_v20: {since_version: 20}
  new_only_since_v10: {since_version: 10, include_revised: false}
---*/
-- Aggregate first, filter after: inside HAVING, BigQuery resolves a name to the SELECT
-- alias first, so MIN(series_init_idc_version) there would aggregate an aggregate.
WITH series AS (
  SELECT
    ANY_VALUE(collection_id) AS collection_id,
    SeriesInstanceUID,
    ANY_VALUE(Modality) AS Modality,
    MIN(series_init_idc_version) AS series_init_idc_version,
    MAX(series_revised_idc_version) AS series_revised_idc_version
  FROM {{ table('dicom_all') }}
  GROUP BY SeriesInstanceUID
)
SELECT
  collection_id,
  SeriesInstanceUID,
  Modality,
  series_init_idc_version,
  series_revised_idc_version,
  IF(series_init_idc_version >= @since_version, 'new', 'revised') AS change
FROM series
WHERE series_init_idc_version >= @since_version
  OR (@include_revised AND series_revised_idc_version >= @since_version)
ORDER BY collection_id, SeriesInstanceUID
