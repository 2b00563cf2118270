/*---
name: seg.segment_types
description: Segment categories and types (SegmentSequence codes) - how many segments and SEG series carry each.
parameters:
  category: {type: STRING, default: null, description: "SegmentedPropertyCategory CodeMeaning to keep"}
tables: [dicom_all]
output: {category_code: STRING, category: STRING, type_code: STRING, type: STRING, segments: INT64, seg_series: INT64}
examples:
  all: {}
  anatomy: {category: Anatomical Structure}
---*/
WITH segments AS (
  SELECT DISTINCT
    SeriesInstanceUID,
    SOPInstanceUID,
    segment.SegmentNumber,
    segment.SegmentedPropertyCategoryCodeSequence[SAFE_OFFSET(0)].CodeValue AS category_code,
    segment.SegmentedPropertyCategoryCodeSequence[SAFE_OFFSET(0)].CodeMeaning AS category,
    segment.SegmentedPropertyTypeCodeSequence[SAFE_OFFSET(0)].CodeValue AS type_code,
    segment.SegmentedPropertyTypeCodeSequence[SAFE_OFFSET(0)].CodeMeaning AS type
  FROM {{ table('dicom_all') }}
  CROSS JOIN UNNEST(SegmentSequence) AS segment
  WHERE Modality = 'SEG'
)
SELECT
  category_code,
  ANY_VALUE(category) AS category,
  type_code,
  ANY_VALUE(type) AS type,
  COUNT(*) AS segments,
  COUNT(DISTINCT SeriesInstanceUID) AS seg_series
FROM segments
WHERE (@category IS NULL OR category = @category)
GROUP BY category_code, type_code
ORDER BY segments DESC, category_code, type_code
