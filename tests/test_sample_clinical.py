"""Clinical breadth of the sample: every sample collection with clinical data in IDC
has its tables, and the dictionaries list exactly what is there."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq

from idcbq.sources.sample.source import collections_facts

CLIN = "idc_v25_clinical"


def _facts() -> dict:
    import json
    from importlib import resources

    ref = resources.files("idcbq.data.reference").joinpath("clinical_columns.json")
    return json.loads(ref.read_text(encoding="utf-8"))


def _export(root: Path) -> Path:
    return root / "bigquery_export"


def test_collections_with_clinical_data_have_tables(sample_root: Path) -> None:
    export = _export(sample_root)
    collections = set(
        pq.read_table(export / "idc_v25" / "dicom_all", columns=["collection_id"])
        .column("collection_id")
        .to_pylist()
    )
    with_clinical = {
        c
        for c in collections
        if "clinical" in (collections_facts()[c].get("supporting_data") or "").lower()
    }
    assert with_clinical >= {
        "rms_mutation_prediction",
        "cptac_cm",
        "nsclc_radiomics_interobserver1",
    }
    tables = {p.name for p in (export / CLIN).iterdir()} - {"table_metadata", "column_metadata"}
    have = {cid for cid in collections for t in tables if t.startswith(cid + "_")}
    # Only tables whose columns IDC published are built; the facts name the others.
    not_built = set(_facts()["not_built"])
    assert with_clinical - not_built <= have and not_built & have == set()
    assert {"nlst", "acrin_6698", "hcc_tace_seg"} <= have
    # Multi-table collections use IDC's names.
    assert {
        "rms_mutation_prediction_demographics",
        "rms_mutation_prediction_diagnosis",
        "rms_mutation_prediction_sample",
        "htan_vanderbilt_demographics",
    } <= tables


def test_dictionaries_list_every_table_and_column(sample_root: Path) -> None:
    export = _export(sample_root)
    tables = {p.name for p in (export / CLIN).iterdir()} - {"table_metadata", "column_metadata"}
    listed = pq.read_table(export / CLIN / "table_metadata").to_pylist()
    assert {t["table_name"] for t in listed} == {f"bigquery-public-data.{CLIN}.{t}" for t in tables}
    columns = pq.read_table(export / CLIN / "column_metadata").to_pylist()
    for t in tables:
        schema = pq.read_schema(next((export / CLIN / t).glob("*.parquet")))
        described = {c["column"] for c in columns if c["table_name"].endswith("." + t)}
        assert described == set(schema.names) - {"source_batch"}, t
        rows = pq.read_table(export / CLIN / t).to_pylist()
        for c in columns:
            if c["table_name"].endswith("." + t) and c["values"]:
                # IDC lists the distinct values (as text) of a column with at most 20.
                codes = {v["option_code"] for v in c["values"]}
                values = {str(r[c["column"]]) for r in rows if r[c["column"]] is not None}
                assert values == codes, (t, c["column"])
            elif c["table_name"].endswith("." + t):
                assert len({r[c["column"]] for r in rows}) > 20 or c["column"] in (
                    "dicom_patient_id",
                ), (t, c["column"])
    # Patients of every table are imaging patients of its collection.
    imaging = pq.read_table(
        export / "idc_v25" / "dicom_all", columns=["collection_id", "PatientID"]
    )
    pairs = set(
        zip(
            imaging.column("collection_id").to_pylist(),
            imaging.column("PatientID").to_pylist(),
            strict=True,
        )
    )
    for t in listed:
        short = t["table_name"].rsplit(".", 1)[1]
        ids = set(pq.read_table(export / CLIN / short).column("dicom_patient_id").to_pylist())
        assert {(t["collection_id"], i) for i in ids} <= pairs, short
