/*---
name: test.typed_filters
description: Series filtered by typed parameters of every scalar kind (fixture).
parameters:
  min_instances: {type: INT64, default: 1}
  min_slice_thickness: {type: FLOAT64, default: 0.0}
  collection_id: {type: STRING, required: true, example: nlst}
  with_size: {type: BOOL, default: true}
examples:
  smallest: {collection_id: nlst, min_instances: 1}
output: {SeriesInstanceUID: STRING, n: INT64}
---*/
SELECT SeriesInstanceUID, COUNT(*) AS n
FROM {{ table('dicom_all') }} AS d
WHERE d.collection_id = @collection_id
  AND (SAFE_CAST(d.SliceThickness AS FLOAT64) >= @min_slice_thickness OR d.SliceThickness IS NULL)
  AND (@with_size OR d.instance_size IS NULL)
GROUP BY SeriesInstanceUID
HAVING COUNT(*) >= @min_instances
