/*---
name: test.seg_segments
description: Segments of SEG series with their property category and type codes (fixture; nested data).
parameters:
  collection_id: {type: STRING, default: null}
output: {SeriesInstanceUID: STRING, SegmentNumber: INT64, category: STRING, type: STRING}
---*/
SELECT
  d.SeriesInstanceUID,
  s.SegmentNumber,
  s.SegmentedPropertyCategoryCodeSequence[SAFE_OFFSET(0)].CodeMeaning AS category,
  s.SegmentedPropertyTypeCodeSequence[SAFE_OFFSET(0)].CodeMeaning AS type
FROM {{ table('dicom_all') }} AS d
CROSS JOIN UNNEST(d.SegmentSequence) AS s
WHERE d.Modality = 'SEG'
  AND (@collection_id IS NULL OR d.collection_id = @collection_id)
