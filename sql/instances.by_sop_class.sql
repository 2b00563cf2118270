/*---
name: instances.by_sop_class
description: Instances of the given SOP classes (e.g. Segmentation Storage), with download URLs, size and hash.
parameters:
  sop_class_uids: {type: ARRAY<STRING>, required: true, example: [1.2.840.10008.5.1.4.1.1.66.4], description: SOPClassUID values}
  collection_id: {type: STRING, default: null}
tables: [dicom_all]
output: {collection_id: STRING, SeriesInstanceUID: STRING, SOPInstanceUID: STRING, SOPClassUID: STRING, gcs_url: STRING, aws_url: STRING, instance_size: INT64, instance_hash: STRING}
examples:
  seg: {sop_class_uids: [1.2.840.10008.5.1.4.1.1.66.4]}
  rtstruct_sr: {sop_class_uids: [1.2.840.10008.5.1.4.1.1.481.3, 1.2.840.10008.5.1.4.1.1.88.34, 1.2.840.10008.5.1.4.1.1.88.22]}
---*/
SELECT
  collection_id,
  SeriesInstanceUID,
  SOPInstanceUID,
  SOPClassUID,
  gcs_url,
  aws_url,
  instance_size,
  instance_hash
FROM {{ table('dicom_all') }}
WHERE SOPClassUID IN UNNEST(@sop_class_uids)
  AND (@collection_id IS NULL OR collection_id = @collection_id)
ORDER BY SeriesInstanceUID, SOPInstanceUID
