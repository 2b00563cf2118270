"""IDC's derived tables, computed from the sample's own ``dicom_metadata`` / ``dicom_all``.

IDC publishes ``segmentations``, ``measurement_groups``, ``quantitative_measurements``
and ``qualitative_measurements`` as BigQuery views over ``dicom_metadata`` (ETL repo
``ImagingDataCommons/etl_flow``, ``derived_data_views/sql/``). The builder runs its
own BigQuery SQL, written from those views' rules, through idcbq's transpiler on plain
DuckDB (:mod:`.localsql`, below the engines) over the sample it has just written, and
stores the results as Parquet tables beside ``dicom_all``.

Rules kept from IDC's views (they define the tables' semantics):

- ``segmentations``: one row per item of ``SegmentSequence`` of every Segmentation
  Storage instance; first codes of each code sequence; the segmented series is the
  series of the first referenced instance found in ``dicom_all`` (NULL otherwise).
- ``measurement_groups``: SR instances of the five SR storage classes whose first
  ``ContentTemplateSequence`` item is DCMR 1500; a group is a CONTAINER named
  "Measurement Group" inside a level-1 item, numbered by its offset there; a group
  appears only if it has a tracking identifier and UID, a finding, a finding site
  (SRT G-C0E3 or SCT 363698007), a source series and a SEG reference whose instance
  is in ``dicom_metadata`` (inner joins, so duplicates multiply).
- ``quantitative_measurements``: NUM items of each group, with a derivation
  modifier (DCM 121401) and laterality (SCT 272741003) when they are the first child
  item, else an all-NULL struct; ``Value`` is ``SAFE_CAST(... AS NUMERIC)``.
- ``qualitative_measurements``: CODE items of groups whose finding site is SRT
  G-C0E3; IDC's filter compares CodeMeaning with code values, so in effect it drops
  every item whose concept scheme is DCM or SRT. Kept as is. It carries the group's
  ``segmentationSeriesUID`` (the published view does since it was added to
  ``measurement_groups``).

``Value`` is cast to ``NUMERIC(38, 9)``, BigQuery's NUMERIC spelled out: idcbq's
transpiler maps a bare NUMERIC to DuckDB's DECIMAL (18, 3), which rounds to three
decimals.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from idcbq.sources.schema import DERIVED_TABLES, arrow_schema, other_table_fields

if TYPE_CHECKING:
    import pyarrow as pa

SEG_CLASS = "1.2.840.10008.5.1.4.1.1.66.4"
VIEWER = "https://viewer.imaging.datacommons.cancer.gov/v3/viewer/?StudyInstanceUIDs="

_NULL_CODE = (
    "STRUCT(CAST(NULL AS STRING) AS CodeValue, CAST(NULL AS STRING) AS CodingSchemeDesignator,"
    " CAST(NULL AS STRING) AS CodeMeaning)"
)


def _first_child_code(item: str, value: str, scheme: str) -> str:
    """Value of ``item``'s first child when its concept is (value, scheme), else NULLs."""
    child = f"{item}.ContentSequence[SAFE_OFFSET(0)]"
    name = f"{child}.ConceptNameCodeSequence[SAFE_OFFSET(0)]"
    code = f"{child}.ConceptCodeSequence[SAFE_OFFSET(0)]"
    return (
        f"IF({name}.CodeValue = '{value}' AND {name}.CodingSchemeDesignator = '{scheme}',"
        f" STRUCT({code}.CodeValue AS CodeValue,"
        f" {code}.CodingSchemeDesignator AS CodingSchemeDesignator,"
        f" {code}.CodeMeaning AS CodeMeaning), {_NULL_CODE})"
    )


SEGMENTATIONS = f"""
WITH seg_instances AS (
  SELECT PatientID, StudyInstanceUID, SeriesInstanceUID, SOPInstanceUID,
         FrameOfReferenceUID, SegmentationType, SegmentSequence
  FROM dicom_metadata
  WHERE SOPClassUID = '{SEG_CLASS}'
),
segments AS (
  SELECT
    i.PatientID, i.StudyInstanceUID, i.SeriesInstanceUID, i.SOPInstanceUID,
    i.FrameOfReferenceUID, i.SegmentationType,
    IF(ARRAY_LENGTH(seg.AnatomicRegionSequence) = 0, NULL,
       STRUCT(seg.AnatomicRegionSequence[OFFSET(0)].CodeValue AS CodeValue,
              seg.AnatomicRegionSequence[OFFSET(0)].CodingSchemeDesignator AS CodingSchemeDesignator,
              seg.AnatomicRegionSequence[OFFSET(0)].CodeMeaning AS CodeMeaning)) AS AnatomicRegion,
    seg.AnatomicRegionSequence[SAFE_OFFSET(0)].AnatomicRegionModifierSequence[SAFE_OFFSET(0)]
      AS AnatomicRegionModifier,
    seg.SegmentedPropertyCategoryCodeSequence[SAFE_OFFSET(0)] AS SegmentedPropertyCategory,
    seg.SegmentedPropertyTypeCodeSequence[SAFE_OFFSET(0)] AS SegmentedPropertyType,
    seg.SegmentAlgorithmType,
    seg.SegmentAlgorithmName[SAFE_OFFSET(0)] AS SegmentAlgorithmName,
    seg.SegmentNumber,
    seg.TrackingUID,
    seg.TrackingID
  FROM seg_instances AS i
  CROSS JOIN UNNEST(i.SegmentSequence) AS seg
),
first_reference AS (
  SELECT
    SOPInstanceUID AS seg_sop,
    COALESCE(
      ReferencedSeriesSequence[SAFE_OFFSET(0)].ReferencedInstanceSequence[SAFE_OFFSET(0)].ReferencedSOPInstanceUID,
      ReferencedImageSequence[SAFE_OFFSET(0)].ReferencedSOPInstanceUID,
      SourceImageSequence[SAFE_OFFSET(0)].ReferencedSOPInstanceUID) AS ref_sop
  FROM dicom_all
  WHERE Modality = 'SEG' AND SOPClassUID = '{SEG_CLASS}'
),
segmented AS (
  SELECT r.seg_sop, d.SeriesInstanceUID
  FROM first_reference AS r
  JOIN dicom_all AS d ON d.SOPInstanceUID = r.ref_sop
)
SELECT
  s.PatientID, s.StudyInstanceUID, s.SeriesInstanceUID, s.SOPInstanceUID,
  s.FrameOfReferenceUID, s.SegmentationType, s.AnatomicRegion, s.AnatomicRegionModifier,
  s.SegmentedPropertyCategory, s.SegmentedPropertyType, s.SegmentAlgorithmType,
  s.SegmentAlgorithmName, s.SegmentNumber, s.TrackingUID, s.TrackingID,
  g.SeriesInstanceUID AS segmented_SeriesInstanceUID,
  CONCAT('{VIEWER}', s.StudyInstanceUID, '&initialSeriesInstanceUID=', s.SeriesInstanceUID)
    AS viewer_url
FROM segments AS s
LEFT JOIN segmented AS g ON g.seg_sop = s.SOPInstanceUID
ORDER BY s.SOPInstanceUID, s.SegmentNumber
"""

MEASUREMENT_GROUPS = f"""
WITH reports AS (
  SELECT PatientID, SOPInstanceUID, SeriesInstanceUID, SeriesDescription, ContentSequence
  FROM dicom_metadata
  WHERE SOPClassUID IN ('1.2.840.10008.5.1.4.1.1.88.11', '1.2.840.10008.5.1.4.1.1.88.22',
                        '1.2.840.10008.5.1.4.1.1.88.33', '1.2.840.10008.5.1.4.1.1.88.34',
                        '1.2.840.10008.5.1.4.1.1.88.35')
    AND ARRAY_LENGTH(ContentTemplateSequence) > 0
    AND ContentTemplateSequence[SAFE_OFFSET(0)].TemplateIdentifier = '1500'
    AND ContentTemplateSequence[SAFE_OFFSET(0)].MappingResource = 'DCMR'
),
measurement_group_items AS (
  SELECT r.PatientID, r.SOPInstanceUID, r.SeriesInstanceUID, r.SeriesDescription,
         grp AS contentSequence, grp_offset AS measurementGroup_number
  FROM reports AS r
  CROSS JOIN UNNEST(r.ContentSequence) AS top_item
  CROSS JOIN UNNEST(top_item.ContentSequence) AS grp WITH OFFSET AS grp_offset
  WHERE grp.ValueType = 'CONTAINER'
    AND grp.ConceptNameCodeSequence[SAFE_OFFSET(0)].CodeMeaning = 'Measurement Group'
),
items AS (
  SELECT g.SOPInstanceUID, g.measurementGroup_number, item.ValueType AS value_type,
         item.ConceptNameCodeSequence[SAFE_OFFSET(0)].CodeValue AS name_value,
         item.ConceptNameCodeSequence[SAFE_OFFSET(0)].CodingSchemeDesignator AS name_scheme,
         item
  FROM measurement_group_items AS g
  CROSS JOIN UNNEST(g.contentSequence.ContentSequence) AS item
),
tracking_ids AS (
  SELECT SOPInstanceUID, measurementGroup_number, item.TextValue AS trackingIdentifier
  FROM items
  WHERE value_type = 'TEXT' AND name_value = '112039' AND name_scheme = 'DCM'
),
tracking_uids AS (
  SELECT SOPInstanceUID, measurementGroup_number, item.UID AS trackingUniqueIdentifier
  FROM items
  WHERE value_type = 'UIDREF' AND name_value = '112040' AND name_scheme = 'DCM'
),
source_series AS (
  SELECT SOPInstanceUID, measurementGroup_number, item.UID AS sourceSegmentedSeriesUID
  FROM items
  WHERE value_type = 'UIDREF' AND name_value = '121232' AND name_scheme = 'DCM'
),
seg_refs AS (
  SELECT SOPInstanceUID, measurementGroup_number,
         item.ReferencedSOPSequence[SAFE_OFFSET(0)].ReferencedSOPInstanceUID
           AS segmentationInstanceUID,
         item.ReferencedSOPSequence[SAFE_OFFSET(0)].ReferencedSegmentNumber[SAFE_OFFSET(0)]
           AS segmentationSegmentNumber
  FROM items
  WHERE value_type = 'IMAGE'
    AND item.ReferencedSOPSequence[SAFE_OFFSET(0)].ReferencedSOPClassUID = '{SEG_CLASS}'
),
findings AS (
  SELECT SOPInstanceUID, measurementGroup_number,
         item.ConceptCodeSequence[SAFE_OFFSET(0)] AS finding
  FROM items
  WHERE value_type = 'CODE' AND name_value = '121071' AND name_scheme = 'DCM'
),
finding_sites AS (
  SELECT SOPInstanceUID, measurementGroup_number,
         item.ConceptCodeSequence[SAFE_OFFSET(0)] AS findingSite
  FROM items
  WHERE value_type = 'CODE'
    AND ((name_value = 'G-C0E3' AND name_scheme = 'SRT')
         OR (name_value = '363698007' AND name_scheme = 'SCT'))
)
SELECT
  u.SOPInstanceUID,
  g.SeriesInstanceUID,
  u.measurementGroup_number,
  u.trackingUniqueIdentifier,
  t.trackingIdentifier,
  g.PatientID,
  g.SeriesDescription,
  f.finding,
  fs.findingSite,
  src.sourceSegmentedSeriesUID,
  sr.segmentationInstanceUID,
  dm.SeriesInstanceUID AS segmentationSeriesUID,
  sr.segmentationSegmentNumber,
  g.contentSequence
FROM tracking_uids AS u
JOIN measurement_group_items AS g USING (SOPInstanceUID, measurementGroup_number)
JOIN tracking_ids AS t USING (SOPInstanceUID, measurementGroup_number)
JOIN findings AS f USING (SOPInstanceUID, measurementGroup_number)
JOIN finding_sites AS fs USING (SOPInstanceUID, measurementGroup_number)
JOIN source_series AS src USING (SOPInstanceUID, measurementGroup_number)
JOIN seg_refs AS sr USING (SOPInstanceUID, measurementGroup_number)
JOIN dicom_metadata AS dm ON dm.SOPInstanceUID = sr.segmentationInstanceUID
ORDER BY u.SOPInstanceUID, u.measurementGroup_number
"""

_GROUP_COLUMNS = """mg.PatientID, mg.SOPInstanceUID, mg.SeriesInstanceUID, mg.SeriesDescription,
         mg.measurementGroup_number, mg.segmentationInstanceUID, mg.segmentationSeriesUID,
         mg.segmentationSegmentNumber, mg.sourceSegmentedSeriesUID, mg.trackingIdentifier,
         mg.trackingUniqueIdentifier"""

QUANTITATIVE_MEASUREMENTS = f"""
WITH items AS (
  SELECT {_GROUP_COLUMNS},
         item.ValueType AS value_type,
         item.ConceptNameCodeSequence[SAFE_OFFSET(0)] AS name,
         {_first_child_code("item", "121401", "DCM")} AS derivationModifier,
         item
  FROM measurement_groups AS mg
  CROSS JOIN UNNEST(mg.contentSequence.ContentSequence) AS item
),
findings AS (
  SELECT SOPInstanceUID, measurementGroup_number,
         item.ConceptCodeSequence[SAFE_OFFSET(0)] AS finding
  FROM items
  WHERE value_type = 'CODE' AND name.CodeValue = '121071' AND name.CodingSchemeDesignator = 'DCM'
),
finding_sites AS (
  SELECT SOPInstanceUID, measurementGroup_number,
         item.ConceptCodeSequence[SAFE_OFFSET(0)] AS findingSite,
         {_first_child_code("item", "272741003", "SCT")} AS lateralityModifier
  FROM items
  WHERE value_type = 'CODE'
    AND ((name.CodeValue = 'G-C0E3' AND name.CodingSchemeDesignator = 'SRT')
         OR (name.CodeValue = '363698007' AND name.CodingSchemeDesignator = 'SCT'))
)
SELECT
  n.PatientID, n.SOPInstanceUID, n.SeriesInstanceUID, n.SeriesDescription,
  n.measurementGroup_number, n.segmentationInstanceUID, n.segmentationSeriesUID,
  n.segmentationSegmentNumber, n.sourceSegmentedSeriesUID, n.trackingIdentifier,
  n.trackingUniqueIdentifier,
  n.name AS Quantity,
  n.derivationModifier,
  fs.lateralityModifier,
  SAFE_CAST(n.item.MeasuredValueSequence[SAFE_OFFSET(0)].NumericValue[SAFE_OFFSET(0)]
            AS NUMERIC(38, 9))
    AS Value,
  n.item.MeasuredValueSequence[SAFE_OFFSET(0)].MeasurementUnitsCodeSequence[SAFE_OFFSET(0)]
    AS Units,
  f.finding,
  fs.findingSite
FROM items AS n
JOIN findings AS f USING (SOPInstanceUID, measurementGroup_number)
JOIN finding_sites AS fs USING (SOPInstanceUID, measurementGroup_number)
WHERE n.value_type = 'NUM'
ORDER BY n.SOPInstanceUID, n.measurementGroup_number, n.name.CodeValue
"""

QUALITATIVE_MEASUREMENTS = f"""
WITH items AS (
  SELECT {_GROUP_COLUMNS},
         item.ConceptNameCodeSequence[SAFE_OFFSET(0)] AS name,
         item.ConceptCodeSequence[SAFE_OFFSET(0)] AS value
  FROM measurement_groups AS mg
  CROSS JOIN UNNEST(mg.contentSequence.ContentSequence) AS item
  WHERE item.ValueType = 'CODE'
),
findings AS (
  SELECT SOPInstanceUID, measurementGroup_number, value AS finding
  FROM items
  WHERE name.CodeValue = '121071' AND name.CodingSchemeDesignator = 'DCM'
),
finding_sites AS (
  SELECT SOPInstanceUID, measurementGroup_number, value AS findingSite
  FROM items
  WHERE name.CodeValue = 'G-C0E3' AND name.CodingSchemeDesignator = 'SRT'
)
SELECT
  q.PatientID, q.SOPInstanceUID, q.SeriesInstanceUID, q.measurementGroup_number,
  q.segmentationInstanceUID, q.segmentationSeriesUID, q.segmentationSegmentNumber,
  q.sourceSegmentedSeriesUID,
  q.trackingIdentifier, q.trackingUniqueIdentifier,
  q.name AS Quantity,
  q.value AS Value,
  f.finding,
  fs.findingSite
FROM items AS q
JOIN findings AS f USING (SOPInstanceUID, measurementGroup_number)
JOIN finding_sites AS fs USING (SOPInstanceUID, measurementGroup_number)
WHERE (q.name.CodeMeaning <> '121071' AND q.name.CodingSchemeDesignator <> 'DCM')
  AND (q.name.CodeMeaning <> 'G-C0E3' AND q.name.CodingSchemeDesignator <> 'SRT')
ORDER BY q.SOPInstanceUID, q.measurementGroup_number, q.name.CodeValue
"""

#: BigQuery SQL per derived table, in build order (the measurement tables read
#: ``measurement_groups``, as IDC's views do).
DERIVED_SQL = {
    "segmentations": SEGMENTATIONS,
    "measurement_groups": MEASUREMENT_GROUPS,
    "quantitative_measurements": QUANTITATIVE_MEASUREMENTS,
    "qualitative_measurements": QUALITATIVE_MEASUREMENTS,
}
assert tuple(DERIVED_SQL) == DERIVED_TABLES


def compute(root: Path, dataset: str, table: str) -> pa.Table:
    """Run the table's BigQuery SQL on DuckDB over ``root``'s ``dataset``; typed as IDC's."""
    from idcbq.sources.sample.localsql import run_sql

    result = run_sql(root, dataset, DERIVED_SQL[table])
    schema = arrow_schema(other_table_fields(table))
    return result.select(schema.names).cast(schema)
