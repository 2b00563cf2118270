"""The sample's clinical and derived tables have the columns IDC publishes.

Two checked-in fact files, each citing where every list was read:

- ``idcbq/data/reference/clinical_columns.json``: IDC's ``idc_vNN_clinical`` tables
  (names, types, order), from schema dumps of the live datasets and IDC's ETL code.
- ``tests/data/published/derived_view_columns.json``: the output columns of IDC's
  derived views (``segmentations``, ``qualitative_measurements``, ...), read from the
  view SQL in ImagingDataCommons/etl_flow and IDC's documentation.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from idcbq.sources.sample.clinical import clinical_table_specs
from idcbq.sources.schema import other_table_fields

DERIVED_FACTS = Path(__file__).parent / "data" / "published" / "derived_view_columns.json"
DERIVED = json.loads(DERIVED_FACTS.read_text())["tables"]
CLIN = "idc_v25_clinical"
DICTIONARIES = ("table_metadata", "column_metadata")


def _schema(root: Path, dataset: str, table: str):
    return pq.read_schema(next((root / "bigquery_export" / dataset / table).glob("*.parquet")))


def test_every_fact_names_its_source() -> None:
    assert all(spec["source"] and spec["columns"] for spec in DERIVED.values())
    for spec in clinical_table_specs().values():
        assert spec.evidence and all(":" in e for e in spec.evidence), spec.name
        assert [c.name for c in spec.columns[:2]] == ["dicom_patient_id", "source_batch"]


@pytest.mark.parametrize("table", sorted(DERIVED))
def test_derived_tables_have_the_view_columns(sample_root: Path, table: str) -> None:
    want = DERIVED[table]["columns"]
    assert [f.name for f in other_table_fields(table)] == want
    for dataset in ("idc_v25", "idc_current"):
        assert _schema(sample_root, dataset, table).names == want, dataset


def test_qualitative_measurements_carry_the_segmentation_series(sample_root: Path) -> None:
    """segmentationSeriesUID equals the series of segmentationInstanceUID in dicom_all."""
    export = sample_root / "bigquery_export" / "idc_v25"
    series_of = dict(
        zip(
            *pq.read_table(export / "dicom_all", columns=["SOPInstanceUID", "SeriesInstanceUID"])
            .to_pydict()
            .values(),
            strict=True,
        )
    )
    rows = pq.read_table(
        export / "qualitative_measurements",
        columns=["segmentationInstanceUID", "segmentationSeriesUID"],
    ).to_pylist()
    assert rows and all(
        r["segmentationSeriesUID"] == series_of[r["segmentationInstanceUID"]] for r in rows
    )


def test_clinical_tables_have_the_published_columns(sample_root: Path) -> None:
    specs = clinical_table_specs()
    folder = sample_root / "bigquery_export" / CLIN
    built = sorted(p.name for p in folder.iterdir() if p.name not in DICTIONARIES)
    assert set(built) <= set(specs), set(built) - set(specs)
    for name in built:
        schema = _schema(sample_root, CLIN, name)
        want = [(c.name, str(c.arrow_type)) for c in specs[name].columns]
        assert [(f.name, str(f.type)) for f in schema] == want, name
    described = pq.read_table(folder / "column_metadata", columns=["table_name", "column"])
    for name in built:
        columns = [
            c
            for t, c in zip(*described.to_pydict().values(), strict=True)
            if t.endswith("." + name)
        ]
        assert columns == [c.name for c in specs[name].columns if c.name != "source_batch"]


def test_the_tables_tutorials_query_are_built(sample_root: Path) -> None:
    folder = sample_root / "bigquery_export" / CLIN
    built = {p.name for p in folder.iterdir()}
    assert {
        "nlst_canc",
        "nlst_prsn",
        "nlst_ctab",
        "nlst_ctabc",
        "nlst_screen",
        "acrin_6698_clinical",
        "hcc_tace_seg_clinical",
    } <= built
    # Names IDC's own queries use (cookbook rms_mutation_prediction_annotations_merge.sql,
    # idc-nlst-plus page3 SQL, the skill's bigquery_guide.md), stated here independently.
    names = {n: set(_schema(sample_root, CLIN, n).names) for n in built - set(DICTIONARIES)}
    assert "participantparticipant_id" in names["rms_mutation_prediction_sample"]
    assert "participantparticipant_id" in names["rms_mutation_prediction_diagnosis"]
    assert "participantparticipant_id" not in names["rms_mutation_prediction_demographics"]
    assert {"clinical_stag", "path_stag", "de_stag"} <= names["nlst_canc"]
    assert {"sct_slice_num", "study_yr", "sct_epi_loc"} <= names["nlst_ctab"]
    assert {"de_stag", "de_type"} <= names["nlst_prsn"]
    # No invented table: collections without a published clinical schema get none.
    assert not any(n.startswith(("pdmr_", "qin_prostate")) for n in built)
