/*---
name: mr.series_by_sequence
description: MR series with sequence parameters (field strength, ScanningSequence, TE, TR, flip angle); filter by field strength and sequence type.
parameters:
  min_field_strength: {type: FLOAT64, default: null, description: MagneticFieldStrength in tesla}
  scanning_sequence: {type: STRING, default: null, description: "one ScanningSequence value (SE, GR, EP, IR, ...)"}
tables: [dicom_all]
output: {collection_id: STRING, SeriesInstanceUID: STRING, SeriesDescription: STRING, MagneticFieldStrength: FLOAT64, ScanningSequence: STRING, EchoTime: FLOAT64, RepetitionTime: FLOAT64, FlipAngle: FLOAT64}
examples:
  all: {}
  spin_echo_3t: {min_field_strength: 3.0, scanning_sequence: SE}
---*/
WITH mr AS (
  SELECT
    ANY_VALUE(collection_id) AS collection_id,
    SeriesInstanceUID,
    ANY_VALUE(SeriesDescription) AS SeriesDescription,
    ANY_VALUE(SAFE_CAST(MagneticFieldStrength AS FLOAT64)) AS MagneticFieldStrength,
    ANY_VALUE(ARRAY_TO_STRING(ScanningSequence, '\\')) AS ScanningSequence,
    MIN(SAFE_CAST(EchoTime AS FLOAT64)) AS EchoTime,
    MIN(SAFE_CAST(RepetitionTime AS FLOAT64)) AS RepetitionTime,
    MIN(SAFE_CAST(FlipAngle AS FLOAT64)) AS FlipAngle
  FROM {{ table('dicom_all') }}
  WHERE Modality = 'MR'
  GROUP BY SeriesInstanceUID
)
SELECT *
FROM mr
WHERE (@min_field_strength IS NULL OR MagneticFieldStrength >= @min_field_strength)
  AND (@scanning_sequence IS NULL OR @scanning_sequence IN UNNEST(SPLIT(ScanningSequence, '\\')))
ORDER BY collection_id, SeriesInstanceUID
