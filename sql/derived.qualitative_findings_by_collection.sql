/*---
name: derived.qualitative_findings_by_collection
description: Qualitative evaluations of TID 1500 findings (qualitative_measurements) counted per collection, concept and coded value.
parameters:
  quantity: {type: STRING, default: null, description: "CodeMeaning of the evaluated concept (e.g. Malignancy)"}
tables: [qualitative_measurements, dicom_all]
output: {collection_id: STRING, quantity: STRING, value: STRING, evaluations: INT64, patients: INT64, findings: INT64}
examples:
  all: {}
  malignancy: {quantity: Malignancy}
---*/
WITH reports AS (
  SELECT DISTINCT SOPInstanceUID, collection_id
  FROM {{ table('dicom_all') }}
  WHERE Modality = 'SR'
)
SELECT
  reports.collection_id,
  q.Quantity.CodeMeaning AS quantity,
  q.Value.CodeMeaning AS value,
  COUNT(*) AS evaluations,
  COUNT(DISTINCT q.PatientID) AS patients,
  COUNT(DISTINCT q.trackingUniqueIdentifier) AS findings
FROM {{ table('qualitative_measurements') }} AS q
JOIN reports USING (SOPInstanceUID)
WHERE (@quantity IS NULL OR q.Quantity.CodeMeaning = @quantity)
GROUP BY reports.collection_id, quantity, value
ORDER BY reports.collection_id, quantity, evaluations DESC, value
