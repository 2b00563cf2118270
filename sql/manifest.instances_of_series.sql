/*---
name: manifest.instances_of_series
description: Every instance of the given series with what a download manifest needs (URLs, UUIDs, size, MD5 hash, license).
parameters:
  series_uids: {type: ARRAY<STRING>, required: true, example: [1.3.6.1.4.1.14519.5.2.1.6279.6001.100225287222365663678666836860]}
tables: [dicom_all]
output: {gcs_url: STRING, aws_url: STRING, crdc_series_uuid: STRING, crdc_instance_uuid: STRING, SeriesInstanceUID: STRING, SOPInstanceUID: STRING, instance_size: INT64, instance_hash: STRING, license_short_name: STRING, collection_id: STRING, PatientID: STRING, StudyInstanceUID: STRING, Modality: STRING}
examples:
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
