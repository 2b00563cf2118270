/*---
name: seg.series_of_collection
description: Segmentation series with segment count, algorithm type/name and segmented property types (SegmentSequence), per collection.
parameters:
  collection_id: {type: STRING, default: null}
tables: [dicom_all]
output: {collection_id: STRING, SeriesInstanceUID: STRING, total_segments: INT64, algorithm_types: STRING, property_types: STRING}
examples:
  all: {}
---*/
SELECT
  ANY_VALUE(collection_id) AS collection_id,
  SeriesInstanceUID,
  COUNT(DISTINCT segment.SegmentNumber) AS total_segments,
  STRING_AGG(DISTINCT segment.SegmentAlgorithmType, ',' ORDER BY segment.SegmentAlgorithmType) AS algorithm_types,
  STRING_AGG(DISTINCT segment.SegmentedPropertyTypeCodeSequence[SAFE_OFFSET(0)].CodeMeaning, ','
    ORDER BY segment.SegmentedPropertyTypeCodeSequence[SAFE_OFFSET(0)].CodeMeaning) AS property_types
FROM {{ table('dicom_all') }}
CROSS JOIN UNNEST(SegmentSequence) AS segment
WHERE Modality = 'SEG'
  AND (@collection_id IS NULL OR collection_id = @collection_id)
GROUP BY SeriesInstanceUID
ORDER BY collection_id, SeriesInstanceUID
