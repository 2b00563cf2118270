/*---
name: pet.radiopharmaceutical
description: PET series with radiopharmaceutical, radionuclide and injected dose (RadiopharmaceuticalInformationSequence), optionally one radionuclide.
parameters:
  radionuclide: {type: STRING, default: null, description: "RadionuclideCodeSequence CodeMeaning (e.g. ^18^Fluorine)"}
tables: [dicom_all]
output: {collection_id: STRING, SeriesInstanceUID: STRING, Radiopharmaceutical: STRING, radionuclide: STRING, total_dose_MBq: FLOAT64, SeriesType: STRING, Units: STRING}
examples:
  all: {}
  fluorine: {radionuclide: ^18^Fluorine}
---*/
WITH pet AS (
  SELECT
    ANY_VALUE(collection_id) AS collection_id,
    SeriesInstanceUID,
    ANY_VALUE(RadiopharmaceuticalInformationSequence[SAFE_OFFSET(0)].Radiopharmaceutical) AS Radiopharmaceutical,
    ANY_VALUE(RadiopharmaceuticalInformationSequence[SAFE_OFFSET(0)].RadionuclideCodeSequence[SAFE_OFFSET(0)].CodeMeaning) AS radionuclide,
    ANY_VALUE(SAFE_CAST(RadiopharmaceuticalInformationSequence[SAFE_OFFSET(0)].RadionuclideTotalDose AS FLOAT64)) / 1e6 AS total_dose_MBq,
    ANY_VALUE(ARRAY_TO_STRING(SeriesType, '\\')) AS SeriesType,
    ANY_VALUE(Units) AS Units
  FROM {{ table('dicom_all') }}
  WHERE Modality = 'PT'
  GROUP BY SeriesInstanceUID
)
SELECT *
FROM pet
WHERE (@radionuclide IS NULL OR radionuclide = @radionuclide)
ORDER BY collection_id, SeriesInstanceUID
