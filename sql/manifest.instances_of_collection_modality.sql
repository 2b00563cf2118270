/*---
name: manifest.instances_of_collection_modality
description: Download manifest rows for every instance of one modality in one collection (same columns as manifest.instances_of_series).
parameters:
  collection_id: {type: STRING, required: true, example: qin_lung_ct}
  modality: {type: STRING, required: true, example: CT}
tables: [dicom_all]
output: {gcs_url: STRING, aws_url: STRING, crdc_series_uuid: STRING, crdc_instance_uuid: STRING, SeriesInstanceUID: STRING, SOPInstanceUID: STRING, instance_size: INT64, instance_hash: STRING, license_short_name: STRING, collection_id: STRING, PatientID: STRING, StudyInstanceUID: STRING, Modality: STRING}
examples:
  lung_ct: {collection_id: qin_lung_ct, modality: CT}
  pet_phantom: {collection_id: qin_pet_phantom, modality: PT}
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
WHERE collection_id = @collection_id
  AND Modality = @modality
ORDER BY SeriesInstanceUID, SOPInstanceUID
