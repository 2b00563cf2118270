/*---
name: summary.collections
description: Per collection - patients, studies, series, instances, total size in GB and the modalities present.
parameters:
  collection_ids: {type: ARRAY<STRING>, default: null, description: restrict to these collections (all if NULL)}
tables: [dicom_all]
output: {collection_id: STRING, patients: INT64, studies: INT64, series: INT64, instances: INT64, size_GB: FLOAT64, modalities: STRING}
examples:
  all: {}
  two: {collection_ids: [qin_lung_ct, tcga_uvm]}
---*/
SELECT
  collection_id,
  COUNT(DISTINCT PatientID) AS patients,
  COUNT(DISTINCT StudyInstanceUID) AS studies,
  COUNT(DISTINCT SeriesInstanceUID) AS series,
  COUNT(DISTINCT SOPInstanceUID) AS instances,
  ROUND(SUM(instance_size) / 1e9, 6) AS size_GB,
  STRING_AGG(DISTINCT Modality, ',' ORDER BY Modality) AS modalities
FROM {{ table('dicom_all') }}
{% if given('collection_ids') %}
WHERE collection_id IN UNNEST(@collection_ids)
{% endif %}
GROUP BY collection_id
ORDER BY collection_id
