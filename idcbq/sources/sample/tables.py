"""The other ``idc_vNN`` tables, derived from the same instance rows as ``dicom_all``.

Columns and types come from ``idcbq.sources.schema.other_table_fields``; values from the
dicom_all rows (per-instance tables) or from idc-index-data facts (collection,
analysis-result and version tables), so joins between the tables agree.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from idcbq.sources.sample.instances import parse_date
from idcbq.sources.sample.source import (
    analysis_results_facts,
    collections_facts,
    source_url_by_doi,
    version_facts,
)
from idcbq.sources.schema import Field, other_table_fields

if TYPE_CHECKING:
    import pyarrow as pa


def to_arrow(fields: Sequence[Field], rows: list[Mapping[str, Any]]) -> pa.Table:
    """Rows (dicts keyed by column name) -> an Arrow table with exactly ``fields``."""
    import pyarrow as pa

    arrays = []
    for f in fields:
        values = [r.get(f.name) for r in rows]
        if all(v is None for v in values):
            arrays.append(pa.nulls(len(rows), type=f.arrow_type))
        else:
            arrays.append(pa.array(values, type=f.arrow_type))
    schema = pa.schema([pa.field(f.name, f.arrow_type) for f in fields])
    return pa.Table.from_arrays(arrays, schema=schema)


def auxiliary_metadata(rows: list[dict[str, Any]]) -> pa.Table:
    """One row per instance: IDC's bookkeeping columns, named as in auxiliary_metadata."""
    fields = other_table_fields("auxiliary_metadata")
    study_counts: dict[str, int] = defaultdict(int)
    series_counts: dict[str, int] = defaultdict(int)
    for r in rows:
        study_counts[r["StudyInstanceUID"]] += 1
        series_counts[r["SeriesInstanceUID"]] += 1
    renames = {f.name: _dicom_all_name(f) for f in fields}
    out = []
    for r in rows:
        item = {name: r.get(src) for name, src in renames.items()}
        item.update(
            PatientID=r["PatientID"],
            StudyInstanceUID=r["StudyInstanceUID"],
            SeriesInstanceUID=r["SeriesInstanceUID"],
            study_instances=study_counts[r["StudyInstanceUID"]],
            series_instances=series_counts[r["SeriesInstanceUID"]],
            submitter_case_id=r["PatientID"],
            # NULL "final" versions mean: still current in this release.
            study_final_idc_version=None,
            series_final_idc_version=None,
            instance_final_idc_version=None,
        )
        out.append(item)
    return to_arrow(fields, out)


def _dicom_all_name(f: Field) -> str:
    mapped = f.meta.get("dicom_all_column")
    if not mapped:
        return f.name
    return str(mapped).split(" ")[0]


def dicom_metadata(rows: list[dict[str, Any]]) -> pa.Table:
    """The Healthcare-API export subset real queries read (same values as dicom_all)."""
    return to_arrow(other_table_fields("dicom_metadata"), rows)


def dicom_metadata_curated(rows: list[dict[str, Any]]) -> pa.Table:
    """Exactly IDC's five columns; SliceThickness is the only typed one."""
    out = []
    for r in rows:
        facts = collections_facts().get(r["collection_id"], {})
        out.append(
            {
                "SeriesInstanceUID": r["SeriesInstanceUID"],
                "SOPInstanceUID": r["SOPInstanceUID"],
                "SliceThickness": _float(r.get("SliceThickness")),
                "BodyPartExamined": r.get("BodyPartExamined"),
                "cancer_types": facts.get("cancer_types"),
            }
        )
    return to_arrow(other_table_fields("dicom_metadata_curated"), out)


def dicom_metadata_curated_series_level(rows: list[dict[str, Any]]) -> pa.Table:
    """One row per series; slide-microscopy attributes flattened as IDC does."""
    first: dict[str, dict[str, Any]] = {}
    max_cols: dict[str, int] = defaultdict(int)
    max_rows: dict[str, int] = defaultdict(int)
    for r in rows:
        uid = r["SeriesInstanceUID"]
        first.setdefault(uid, r)
        max_cols[uid] = max(max_cols[uid], r.get("TotalPixelMatrixColumns") or 0)
        max_rows[uid] = max(max_rows[uid], r.get("TotalPixelMatrixRows") or 0)
    out = []
    for uid, r in first.items():
        item: dict[str, Any] = {"SeriesInstanceUID": uid, "Modality": r["Modality"]}
        if r["Modality"] == "SM":
            item.update(_sm_series_level(r))
            item["max_TotalPixelMatrixColumns"] = max_cols[uid] or None
            item["max_TotalPixelMatrixRows"] = max_rows[uid] or None
        out.append(item)
    return to_arrow(other_table_fields("dicom_metadata_curated_series_level"), out)


def _sm_series_level(r: dict[str, Any]) -> dict[str, Any]:
    spec = (r.get("SpecimenDescriptionSequence") or [{}])[0]
    found: dict[str, list[dict[str, str]]] = defaultdict(list)
    for step in spec.get("SpecimenPreparationSequence") or ():
        for item in step.get("SpecimenPreparationStepContentItemSequence") or ():
            concept = (item.get("ConceptNameCodeSequence") or [{}])[0].get("CodeValue")
            found[concept].extend(item.get("ConceptCodeSequence") or ())
    out: dict[str, Any] = {}
    for prefix, concept in (
        ("embeddingMedium", "430863003"),
        ("tissueFixative", "430864009"),
        ("staining_usingSubstance", "424361007"),
    ):
        items = found.get(concept, [])
        out[f"{prefix}_CodeMeaning"] = [c["CodeMeaning"] for c in items]
        out[f"{prefix}_code_designator_value_str"] = [
            f"{c['CodingSchemeDesignator']}:{c['CodeValue']}" for c in items
        ]
    spacing = (
        (
            (
                (r.get("SharedFunctionalGroupsSequence") or [{}])[0].get("PixelMeasuresSequence")
                or [{}]
            )[0]
        ).get("PixelSpacing")
        or []
    )
    if spacing:
        out["min_PixelSpacing_2sf"] = float(f"{float(spacing[0]):.2g}")
    optical = (r.get("OpticalPathSequence") or [{}])[0]
    if optical.get("ObjectiveLensPower"):
        out["ObjectiveLensPower"] = int(float(optical["ObjectiveLensPower"]))
    anatomy = (spec.get("PrimaryAnatomicStructureSequence") or [{}])[0]
    if anatomy:
        out["primaryAnatomicStructure_code_designator_value_str"] = _code_str(anatomy)
        out["primaryAnatomicStructure_CodeMeaning"] = anatomy.get("CodeMeaning")
        modifier = (anatomy.get("PrimaryAnatomicStructureModifierSequence") or [{}])[0]
        if modifier:
            out["primaryAnatomicStructureModifier_code_designator_value_str"] = _code_str(modifier)
            out["primaryAnatomicStructureModifier_CodeMeaning"] = modifier.get("CodeMeaning")
    illum = (optical.get("IlluminationTypeCodeSequence") or [{}])[0]
    if illum:
        out["illuminationType_code_designator_value_str"] = _code_str(illum)
        out["illuminationType_CodeMeaning"] = illum.get("CodeMeaning")
    return out


def _code_str(code: Mapping[str, Any]) -> str:
    return f"{code.get('CodingSchemeDesignator')}:{code.get('CodeValue')}"


def _float(value: Any) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def original_collections_metadata(collection_ids: Iterable[str]) -> pa.Table:
    """One row per collection of dicom_all, from collections_index.parquet."""
    out = []
    for cid in sorted(set(collection_ids)):
        c = dict(collections_facts()[cid])
        c["updated"] = parse_date(c.get("updated"))
        c["CancerTypes"] = c.get("cancer_types")
        c["TumorLocations"] = c.get("tumor_locations")
        c["SupportingData"] = c.get("supporting_data")
        c["Program"] = c.get("program_id")
        out.append(c)
    return to_arrow(other_table_fields("original_collections_metadata"), out)


def analysis_results_metadata(used: Iterable[str] | None = None) -> pa.Table:
    """Analysis results from analysis_results_index.parquet (all of them: IDC lists all)."""
    facts = analysis_results_facts()
    out = []
    for rid in sorted(facts):
        a = dict(facts[rid])
        doi = a.get("source_DOI") or ""
        a.update(
            analysis_result_name=a["analysis_result_title"],
            source_doi=doi,
            source_url=a.get("source_url") or source_url_by_doi().get(doi.lower()),
            updated=parse_date(a.get("updated")),
            cancer_types=_collections_field(a, "cancer_types"),
            tumor_locations=_collections_field(a, "tumor_locations"),
            ID=rid,
            Title=a["analysis_result_title"],
            CancerTypes=_collections_field(a, "cancer_types"),
            TumorLocations=_collections_field(a, "tumor_locations"),
            Access="Public",
            ImageTypes=a.get("modalities"),
        )
        out.append(a)
    return to_arrow(other_table_fields("analysis_results_metadata"), out)


def _collections_field(result: Mapping[str, Any], key: str) -> str:
    values: list[str] = []
    for cid in (result.get("collections") or "").split(","):
        fact = collections_facts().get(cid.strip(), {}).get(key)
        for v in (fact or "").split(","):
            if v.strip() and v.strip() not in values:
                values.append(v.strip())
    return ", ".join(values)


def version_metadata(upto: int | None = None) -> pa.Table:
    """IDC releases 1..``upto`` (default all) with dates; ``version_hash`` is derived (not IDC's)."""
    from idcbq.sources.sample.ids import md5_hex

    out = [
        {
            "idc_version": v["idc_version"],
            "version_hash": md5_hex("version", v["idc_version"], v["version_timestamp"]),
            "version_timestamp": v["version_timestamp"],
        }
        for v in version_facts()
        if upto is None or v["idc_version"] <= upto
    ]
    return to_arrow(other_table_fields("version_metadata"), out)
