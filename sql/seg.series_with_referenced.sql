/*---
name: seg.series_with_referenced
description: DICOM SEG series and the image series each one segments (ReferencedSeriesSequence), with the referenced modality.
parameters:
  collection_id: {type: STRING, default: null}
tables: [dicom_all]
output: {collection_id: STRING, seg_SeriesInstanceUID: STRING, referenced_SeriesInstanceUID: STRING, referenced_Modality: STRING, referenced_instances: INT64}
examples:
  all: {}
  one: {collection_id: nsclc_radiomics_interobserver1}
---*/
WITH seg_refs AS (
  SELECT DISTINCT
    seg.collection_id,
    seg.SeriesInstanceUID AS seg_SeriesInstanceUID,
    ref.SeriesInstanceUID AS referenced_SeriesInstanceUID
  FROM {{ table('dicom_all') }} AS seg
  CROSS JOIN UNNEST(seg.ReferencedSeriesSequence) AS ref
  WHERE seg.Modality = 'SEG'
    AND (@collection_id IS NULL OR seg.collection_id = @collection_id)
),
images AS (
  SELECT SeriesInstanceUID, ANY_VALUE(Modality) AS Modality, COUNT(DISTINCT SOPInstanceUID) AS n
  FROM {{ table('dicom_all') }}
  WHERE SeriesInstanceUID IN (SELECT referenced_SeriesInstanceUID FROM seg_refs)
  GROUP BY SeriesInstanceUID
)
SELECT
  seg_refs.collection_id,
  seg_refs.seg_SeriesInstanceUID,
  seg_refs.referenced_SeriesInstanceUID,
  images.Modality AS referenced_Modality,
  images.n AS referenced_instances
FROM seg_refs
LEFT JOIN images ON images.SeriesInstanceUID = seg_refs.referenced_SeriesInstanceUID
ORDER BY seg_SeriesInstanceUID, referenced_SeriesInstanceUID
