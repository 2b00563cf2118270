/*---
name: test.modality_counts
description: Number of series and instances per modality (fixture; no parameters).
tables: [dicom_all]
output: {Modality: STRING, series: INT64, instances: INT64}
---*/
WITH per_modality AS (
  SELECT Modality, COUNT(DISTINCT SeriesInstanceUID) AS series, COUNT(*) AS instances
  FROM {{ table('dicom_all') }}
  GROUP BY Modality
)
SELECT Modality, series, instances
FROM per_modality
ORDER BY Modality
