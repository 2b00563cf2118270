/*---
name: rtstruct.rois
description: ROIs of RTSTRUCT series - number, name and interpreted type (StructureSetROISequence joined to RTROIObservationsSequence).
parameters:
  roi_name_pattern: {type: STRING, default: null, description: "RE2 regex matched partially against LOWER(ROIName)"}
  collection_id: {type: STRING, default: null}
tables: [dicom_all]
output: {collection_id: STRING, SeriesInstanceUID: STRING, SOPInstanceUID: STRING, ROINumber: STRING, ROIName: STRING, RTROIInterpretedType: STRING}
examples:
  all: {}
  gtv: {roi_name_pattern: 'gtv|tumou?r'}
---*/
SELECT DISTINCT
  collection_id,
  SeriesInstanceUID,
  SOPInstanceUID,
  CAST(roi.ROINumber AS STRING) AS ROINumber,
  roi.ROIName,
  obs.RTROIInterpretedType
FROM {{ table('dicom_all') }}
CROSS JOIN UNNEST(StructureSetROISequence) AS roi
LEFT JOIN UNNEST(RTROIObservationsSequence) AS obs
  ON CAST(obs.ReferencedROINumber AS STRING) = CAST(roi.ROINumber AS STRING)
WHERE Modality = 'RTSTRUCT'
  AND (@collection_id IS NULL OR collection_id = @collection_id)
  AND (@roi_name_pattern IS NULL OR REGEXP_CONTAINS(LOWER(roi.ROIName), @roi_name_pattern))
ORDER BY SeriesInstanceUID, SOPInstanceUID, ROINumber
