"""Helpers for the transpile tests: the idc-index-data corpus and reference-schema tables."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa

from idcbq.sources import schema
from idcbq.sources.schema import Field


def corpus_files() -> list[Path]:
    """The BigQuery ``.sql`` files shipped inside the installed ``idc_index_data`` package."""
    import idc_index_data

    return sorted(Path(idc_index_data.__file__).parent.glob("*.sql"))


def _usable(field: Field) -> Field | None:
    # A RECORD with no known sub-fields cannot be a DuckDB STRUCT; drop it.
    if not field.is_record:
        return field
    subs = tuple(f for f in (_usable(s) for s in field.fields) if f is not None)
    if not subs:
        return None
    return Field(field.name, field.type, field.mode, subs)


def reference_table(table: str) -> pa.Table:
    """An empty Arrow table with the reference schema of an ``idc_vNN`` table."""
    fields = [f for f in (_usable(f) for f in schema.idc_table_fields(table)) if f is not None]
    return schema.arrow_schema(fields).empty_table()


def reference_connection(dataset: str = "idc_v25") -> duckdb.DuckDBPyConnection:
    """DuckDB with empty tables of every reference ``dataset`` table (binds columns and types)."""
    con = duckdb.connect()
    con.execute(f"CREATE SCHEMA {dataset}")
    for table in ("dicom_all", *schema.OTHER_TABLES):
        con.register("_ref", reference_table(table))
        con.execute(f"CREATE TABLE {dataset}.{table} AS SELECT * FROM _ref")
        con.unregister("_ref")
    con.execute(f"CREATE SCHEMA {dataset}_clinical")
    con.register("_ref", clinical_column_metadata())
    con.execute(f"CREATE TABLE {dataset}_clinical.column_metadata AS SELECT * FROM _ref")
    con.unregister("_ref")
    return con


def clinical_column_metadata() -> pa.Table:
    """Empty ``idc_vNN_clinical.column_metadata`` (shape from the reference clinical notes)."""
    value = pa.struct([("option_code", pa.string()), ("option_description", pa.string())])
    return pa.schema(
        [
            ("collection_id", pa.string()),
            ("case_col", pa.bool_()),
            ("table_name", pa.string()),
            ("column", pa.string()),
            ("column_label", pa.string()),
            ("data_type", pa.string()),
            ("original_table_name", pa.string()),
            ("original_column_headers", pa.list_(pa.string())),
            ("values", pa.list_(value)),
            ("values_source", pa.string()),
            ("files", pa.list_(pa.string())),
            ("sheet_names", pa.list_(pa.string())),
        ]
    ).empty_table()


def analyzed_types(sql: str, params=(), idc_version: str = "v25"):
    """What the gate's GoogleSQL analysis hands the DuckDB translation for ``sql``
    (expression types by span, column names' types), over the reference schema."""
    from idcbq.sources.releases import IdcVersion
    from idcbq.validate.columns import reference_schema
    from idcbq.validate.googlesql import make_resolver, run_analysis

    resolver = make_resolver(reference_schema, IdcVersion.parse(idc_version))
    problem, _types, typed = run_analysis(sql, list(params), resolver)
    assert problem is None, problem
    return typed
