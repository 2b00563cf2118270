/*---
name: derived.segmented_lesion_volumes
description: Volumes of segmented lesions per patient - TID 1500 volume measurements (quantitative_measurements) with the SEG segment they were measured on (segmentations).
parameters:
  collection_id: {type: STRING, default: null, description: "collection to keep (default: all)"}
  min_volume_mm3: {type: FLOAT64, default: null, description: "smallest volume to keep, in mm3"}
tables: [quantitative_measurements, segmentations, dicom_all]
output: {collection_id: STRING, PatientID: STRING, trackingIdentifier: STRING, finding: STRING, segment_type: STRING, volume_mm3: FLOAT64, segmentationSeriesUID: STRING, sourceSegmentedSeriesUID: STRING}
examples:
  all: {}
  large: {min_volume_mm3: 1000}
  prostate: {collection_id: qin_prostate_repeatability}
---*/
WITH reports AS (
  SELECT DISTINCT SOPInstanceUID, collection_id
  FROM {{ table('dicom_all') }}
  WHERE Modality = 'SR'
),
volumes AS (
  SELECT
    q.SOPInstanceUID,
    q.PatientID,
    q.trackingIdentifier,
    q.finding.CodeMeaning AS finding,
    CAST(q.Value AS FLOAT64) AS volume_mm3,
    q.segmentationInstanceUID,
    q.segmentationSegmentNumber,
    q.segmentationSeriesUID,
    q.sourceSegmentedSeriesUID
  FROM {{ table('quantitative_measurements') }} AS q
  WHERE q.Quantity.CodeMeaning = 'Volume'
    AND q.Units.CodeValue = 'mm3'
)
SELECT
  reports.collection_id,
  volumes.PatientID,
  volumes.trackingIdentifier,
  volumes.finding,
  seg.SegmentedPropertyType.CodeMeaning AS segment_type,
  volumes.volume_mm3,
  volumes.segmentationSeriesUID,
  volumes.sourceSegmentedSeriesUID
FROM volumes
JOIN reports USING (SOPInstanceUID)
LEFT JOIN {{ table('segmentations') }} AS seg
  ON seg.SOPInstanceUID = volumes.segmentationInstanceUID
  AND seg.SegmentNumber = volumes.segmentationSegmentNumber
WHERE (@collection_id IS NULL OR reports.collection_id = @collection_id)
  AND (@min_volume_mm3 IS NULL OR volumes.volume_mm3 >= @min_volume_mm3)
ORDER BY reports.collection_id, volumes.PatientID, volumes.trackingIdentifier, volumes.volume_mm3
