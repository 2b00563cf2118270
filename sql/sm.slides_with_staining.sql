/*---
name: sm.slides_with_staining
description: Slide microscopy series with their specimen stains (SpecimenPreparationSequence 'Using substance'), optionally one stain.
parameters:
  stain: {type: STRING, default: null, description: "stain CodeMeaning (e.g. hematoxylin stain)"}
  collection_id: {type: STRING, default: null}
tables: [dicom_all]
output: {collection_id: STRING, PatientID: STRING, SeriesInstanceUID: STRING, stains: STRING, instance_count: INT64, series_size_bytes: INT64}
examples:
  all: {}
  eosin: {stain: water soluble eosin stain}
---*/
WITH stains AS (
  SELECT
    SeriesInstanceUID,
    content.ConceptCodeSequence[SAFE_OFFSET(0)].CodeMeaning AS stain
  FROM {{ table('dicom_all') }}
  CROSS JOIN UNNEST(SpecimenDescriptionSequence) AS specimen
  CROSS JOIN UNNEST(specimen.SpecimenPreparationSequence) AS step
  CROSS JOIN UNNEST(step.SpecimenPreparationStepContentItemSequence) AS content
  WHERE Modality = 'SM'
    AND content.ConceptNameCodeSequence[SAFE_OFFSET(0)].CodeMeaning = 'Using substance'
),
series_stains AS (
  SELECT SeriesInstanceUID, STRING_AGG(DISTINCT stain, ',' ORDER BY stain) AS stains
  FROM stains
  GROUP BY SeriesInstanceUID
  HAVING @stain IS NULL OR LOGICAL_OR(stain = @stain)
)
SELECT
  ANY_VALUE(d.collection_id) AS collection_id,
  ANY_VALUE(d.PatientID) AS PatientID,
  d.SeriesInstanceUID,
  ANY_VALUE(s.stains) AS stains,
  COUNT(DISTINCT d.SOPInstanceUID) AS instance_count,
  SUM(d.instance_size) AS series_size_bytes
FROM {{ table('dicom_all') }} AS d
JOIN series_stains AS s ON s.SeriesInstanceUID = d.SeriesInstanceUID
WHERE (@collection_id IS NULL OR d.collection_id = @collection_id)
GROUP BY d.SeriesInstanceUID
ORDER BY collection_id, PatientID, SeriesInstanceUID
