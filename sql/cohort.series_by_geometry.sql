/*---
name: cohort.series_by_geometry
description: "Image series whose SliceThickness and in-plane PixelSpacing (mm, SAFE_CAST of the DS strings) fall in ranges; every bound is inclusive: min_slice_thickness <= SliceThickness <= max_slice_thickness and PixelSpacing[0] <= max_pixel_spacing for every instance of the series."
parameters:
  modality: {type: STRING, required: true, example: CT}
  collection_id: {type: STRING, default: null, description: "only this collection (default: every collection)"}
  min_slice_thickness: {type: FLOAT64, default: 0, description: "lower bound on SliceThickness (mm), inclusive"}
  max_slice_thickness: {type: FLOAT64, default: 2.5, description: "upper bound on SliceThickness (mm), inclusive"}
  max_pixel_spacing: {type: FLOAT64, default: null, description: "upper bound on PixelSpacing[0] (mm), inclusive; null: no bound"}
tables: [dicom_all]
output: {collection_id: STRING, SeriesInstanceUID: STRING, slice_thickness_mm: FLOAT64, pixel_spacing_mm: FLOAT64, instance_count: INT64}
examples:
  thin_ct: {modality: CT, max_slice_thickness: 2.5}
  fine_mr: {modality: MR, min_slice_thickness: 0, max_slice_thickness: 10, max_pixel_spacing: 1.0}
---*/
WITH geometry AS (
  SELECT
    collection_id,
    SeriesInstanceUID,
    SOPInstanceUID,
    SAFE_CAST(SliceThickness AS FLOAT64) AS thickness,
    SAFE_CAST(PixelSpacing[SAFE_OFFSET(0)] AS FLOAT64) AS spacing
  FROM {{ table('dicom_all') }}
  WHERE Modality = @modality
    AND (@collection_id IS NULL OR collection_id = @collection_id)
)
SELECT
  ANY_VALUE(collection_id) AS collection_id,
  SeriesInstanceUID,
  MIN(thickness) AS slice_thickness_mm,
  MIN(spacing) AS pixel_spacing_mm,
  COUNT(DISTINCT SOPInstanceUID) AS instance_count
FROM geometry
GROUP BY SeriesInstanceUID
-- Bounds are inclusive (>=, <=): a 2.5 mm series is in [0, 2.5].
-- The CTE's names differ from the output aliases: inside HAVING, BigQuery resolves a
-- name to the SELECT alias first (MIN(slice_thickness_mm) would aggregate an aggregate).
HAVING MIN(thickness) >= @min_slice_thickness
  AND MAX(thickness) <= @max_slice_thickness
  AND (@max_pixel_spacing IS NULL OR MAX(spacing) <= @max_pixel_spacing)
ORDER BY collection_id, SeriesInstanceUID
