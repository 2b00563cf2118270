"""The sample export loaded into the emulator (the ``bq_engine`` fixture of the cross-engine suite)."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest

from idcbq.testing.bqemulator import export_tables

pytestmark = [pytest.mark.bigquery, pytest.mark.slow]


def test_every_sample_table_loaded_with_all_rows(bq_engine, bq_sample):
    tables = export_tables(bq_sample.root)
    assert "dicom_all" in tables.get("idc_current", {}) or "dicom_all" in tables.get("idc_v25", {})
    assert "idc_current.dicom_all" in bq_sample.tables or "idc_v25.dicom_all" in bq_sample.tables
    for dataset, by_table in tables.items():
        for table, files in by_table.items():
            if f"{dataset}.{table}" not in bq_sample.tables:
                continue  # a release another test built into the sample after the load
            rows = sum(pq.read_metadata(f).num_rows for f in files)
            prepared = bq_engine.prepare(f"SELECT COUNT(*) AS n FROM `{dataset}.{table}`", [])
            assert bq_engine.execute(prepared).to_pylist() == [{"n": rows}], f"{dataset}.{table}"


def test_sample_dicom_all_schema_matches_parquet(bq_engine, bq_sample):
    from idcbq.sources.schema import fields_from_arrow

    files = export_tables(bq_sample.root)["idc_current"]["dicom_all"]
    expected = fields_from_arrow(pq.read_schema(files[0]))
    loaded = bq_engine.table_fields("idc_current", "dicom_all")
    assert [(f.name, f.bigquery_type) for f in loaded] == [
        (f.name, f.bigquery_type) for f in expected
    ]
