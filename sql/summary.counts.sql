/*---
name: summary.counts
description: Patients, studies, series and instances (and total bytes) in a selection of collections and modalities.
parameters:
  collection_ids: {type: ARRAY<STRING>, default: null}
  modalities: {type: ARRAY<STRING>, default: null}
tables: [dicom_all]
output: {patients: INT64, studies: INT64, series: INT64, instances: INT64, size_bytes: INT64}
examples:
  everything: {}
  ct_in_two: {collection_ids: [qin_lung_ct, nsclc_radiomics_interobserver1], modalities: [CT]}
---*/
SELECT
  COUNT(DISTINCT PatientID) AS patients,
  COUNT(DISTINCT StudyInstanceUID) AS studies,
  COUNT(DISTINCT SeriesInstanceUID) AS series,
  COUNT(DISTINCT SOPInstanceUID) AS instances,
  SUM(instance_size) AS size_bytes
FROM {{ table('dicom_all') }}
WHERE TRUE
  {% if given('collection_ids') %}AND collection_id IN UNNEST(@collection_ids){% endif %}
  {% if given('modalities') %}AND Modality IN UNNEST(@modalities){% endif %}
