/*---
name: ct.series_by_kernel_kvp
description: CT series with reconstruction kernel, kVp and slice thickness; filter by kernel (regex, partial match) and kVp range.
parameters:
  kernel_pattern: {type: STRING, default: null, description: "RE2 regex matched partially against ConvolutionKernel[0]"}
  min_kvp: {type: FLOAT64, default: null}
  max_kvp: {type: FLOAT64, default: null}
tables: [dicom_all]
output: {collection_id: STRING, SeriesInstanceUID: STRING, Manufacturer: STRING, ConvolutionKernel: STRING, KVP: FLOAT64, SliceThickness: FLOAT64, instance_count: INT64}
examples:
  all: {}
  kvp_100_130: {min_kvp: 100, max_kvp: 130}
  standard_kernels: {kernel_pattern: '(?i)standard|b30|b31'}
---*/
WITH ct AS (
  SELECT
    ANY_VALUE(collection_id) AS collection_id,
    SeriesInstanceUID,
    ANY_VALUE(Manufacturer) AS Manufacturer,
    ANY_VALUE(ConvolutionKernel[SAFE_OFFSET(0)]) AS ConvolutionKernel,
    MAX(SAFE_CAST(KVP AS FLOAT64)) AS KVP,
    MIN(SAFE_CAST(SliceThickness AS FLOAT64)) AS SliceThickness,
    COUNT(DISTINCT SOPInstanceUID) AS instance_count
  FROM {{ table('dicom_all') }}
  WHERE Modality = 'CT'
  GROUP BY SeriesInstanceUID
)
SELECT *
FROM ct
WHERE (@kernel_pattern IS NULL OR REGEXP_CONTAINS(ConvolutionKernel, @kernel_pattern))
  AND (@min_kvp IS NULL OR KVP >= @min_kvp)
  AND (@max_kvp IS NULL OR KVP <= @max_kvp)
ORDER BY collection_id, SeriesInstanceUID
