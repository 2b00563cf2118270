/*---
name: manifest.instances_of_series
description: Every instance of the given series with what a download manifest needs (URLs, UUIDs, size, MD5 hash, license).
parameters:
  series_uids: {type: ARRAY<STRING>, required: true, example: [1.3.6.1.4.1.14519.5.2.1.4320.7006.707460157128929865794170952055]}
tables: [dicom_all]
output: {gcs_url: STRING, aws_url: STRING, crdc_series_uuid: STRING, crdc_instance_uuid: STRING, SeriesInstanceUID: STRING, SOPInstanceUID: STRING, instance_size: INT64, instance_hash: STRING, license_short_name: STRING, collection_id: STRING, PatientID: STRING, StudyInstanceUID: STRING, Modality: STRING}
examples:
  two_series: {series_uids: [1.3.6.1.4.1.14519.5.2.1.4320.7006.707460157128929865794170952055, 1.2.276.0.7230010.3.1.3.0.11163.1415314146.771753]}
  none_found: {series_uids: [1.2.3.4.5.6.7.8.9]}
---*/
SELECT
  gcs_url,
  aws_url,
  crdc_series_uuid,
  crdc_instance_uuid,
  SeriesInstanceUID,
  SOPInstanceUID,
  instance_size,
  instance_hash,
  license_short_name,
  collection_id,
  PatientID,
  StudyInstanceUID,
  Modality
FROM {{ table('dicom_all') }}
WHERE SeriesInstanceUID IN UNNEST(@series_uids)
ORDER BY SeriesInstanceUID, SOPInstanceUID
