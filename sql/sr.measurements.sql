/*---
name: sr.measurements
description: Numeric measurements in TID 1500 SR documents - finding, quantity, value and units per measurement group.
parameters:
  quantity: {type: STRING, default: null, description: "ConceptNameCodeSequence CodeMeaning of the measurement"}
tables: [dicom_all]
output: {SeriesInstanceUID: STRING, SOPInstanceUID: STRING, tracking_id: STRING, quantity: STRING, value: FLOAT64, units: STRING}
examples:
  all: {}
  volume: {quantity: Volume}
---*/
WITH measurement_items AS (
  SELECT
    SeriesInstanceUID,
    SOPInstanceUID,
    group_item.ContentSequence AS items
  FROM {{ table('dicom_all') }}
  CROSS JOIN UNNEST(ContentSequence) AS top_item
  CROSS JOIN UNNEST(top_item.ContentSequence) AS group_item
  WHERE Modality = 'SR'
    AND top_item.ConceptNameCodeSequence[SAFE_OFFSET(0)].CodeMeaning = 'Imaging Measurements'
    AND group_item.ConceptNameCodeSequence[SAFE_OFFSET(0)].CodeMeaning = 'Measurement Group'
)
SELECT
  SeriesInstanceUID,
  SOPInstanceUID,
  (SELECT ANY_VALUE(i.TextValue) FROM UNNEST(items) AS i
    WHERE i.ConceptNameCodeSequence[SAFE_OFFSET(0)].CodeMeaning = 'Tracking Identifier') AS tracking_id,
  num.ConceptNameCodeSequence[SAFE_OFFSET(0)].CodeMeaning AS quantity,
  SAFE_CAST(num.MeasuredValueSequence[SAFE_OFFSET(0)].NumericValue[SAFE_OFFSET(0)] AS FLOAT64) AS value,
  num.MeasuredValueSequence[SAFE_OFFSET(0)].MeasurementUnitsCodeSequence[SAFE_OFFSET(0)].CodeValue AS units
FROM measurement_items
CROSS JOIN UNNEST(items) AS num
WHERE num.ValueType = 'NUM'
  AND (@quantity IS NULL OR num.ConceptNameCodeSequence[SAFE_OFFSET(0)].CodeMeaning = @quantity)
ORDER BY SeriesInstanceUID, SOPInstanceUID, tracking_id, quantity
