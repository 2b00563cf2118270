"""Build a file's ``[prepare_database]`` tables with the googlesql engine, into Parquet.

Tables go to a temporary export root ``<root>/bigquery_export/idc_current/<Table>/``
beside a one-column ``dicom_all`` (the engines need one), so both the googlesql engine
(later tables may read earlier ones) and idcbq on DuckDB read them by bare name.

Columns BigQuery's Parquet export cannot hold as their type are recorded as
*unexportable*, with the reason: ZetaSQL-only types (INT32, UINT64, FLOAT, ENUM,
PROTO... built here as INT64/FLOAT64, since the engine runs in BigQuery's external
mode) and types the export stores as text (JSON, INTERVAL, RANGE, GEOGRAPHY).
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from tests.conformance.cases import Case
from tests.conformance.values import Type, ValueSyntaxError, _Reader, foreign_types

DATASET = "idc_current"
_CREATE_RE = re.compile(r"^\s*CREATE\s+TABLE\s+([A-Za-z_][A-Za-z0-9_]*)\s+AS\s+(.*)$", re.I | re.S)
#: ZetaSQL-internal type names -> the BigQuery type they are built as.
_INTERNAL = [
    (re.compile(r"\b(?:u?int32|uint64)\b", re.I), "INT64"),
    (re.compile(r"\bfloat\b(?!64)", re.I), "FLOAT64"),
    (re.compile(r"\bdouble\b", re.I), "FLOAT64"),
]
_TEXT_TYPES = {"JSON", "INTERVAL", "RANGE", "GEOGRAPHY"}


@dataclass
class Database:
    """The export root of one file's tables and what could not be built."""

    root: Path
    tables: set[str] = field(default_factory=set)
    failed: dict[str, str] = field(default_factory=dict)  # table -> why
    unexportable: dict[str, dict[str, str]] = field(default_factory=dict)  # table -> col -> why

    def __post_init__(self) -> None:
        folder = self.root / "bigquery_export" / DATASET / "dicom_all"
        folder.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.table({"SOPInstanceUID": pa.array(["x"])}), folder / "0.parquet")

    def table_dir(self, name: str) -> Path:
        return self.root / "bigquery_export" / DATASET / name


def _kinds(t: Type) -> set[str]:
    if t.kind in ("ARRAY", "RANGE"):
        return {t.kind} | _kinds(t.params[0])
    if t.kind == "STRUCT":
        return {"STRUCT"}.union(*(_kinds(f) for _, f in t.params))
    return {t.kind}


def _header(expected: str) -> list[tuple[str, Type]]:
    """The columns named by a prepare case's expected result (its row type)."""
    try:
        t = _Reader(expected).type()
    except (ValueSyntaxError, IndexError):
        return []
    if t.kind != "ARRAY" or t.params[0].kind != "STRUCT":
        return []
    return list(t.params[0].params)


def build(db: Database, case: Case, engine_factory) -> None:
    """Create the table of one ``CREATE TABLE name AS SELECT ...`` case in ``db``."""
    m = _CREATE_RE.match(case.sql)
    if not m:
        db.failed[f"?{case.line}"] = "not CREATE TABLE AS"
        return
    name, select = m.group(1), m.group(2)
    if case.is_error:
        db.failed[name] = "GoogleSQL refuses the table"
        return
    bad: dict[str, str] = {}
    for col, t in _header(case.expected):
        foreign = foreign_types(t)
        text = _kinds(t) & _TEXT_TYPES
        if foreign:
            bad[col] = f"ZetaSQL-only type {', '.join(sorted(foreign))}"
        elif text:
            bad[col] = f"{', '.join(sorted(text))} is text in a Parquet export"
    for pattern, repl in _INTERNAL:
        select = pattern.sub(repl, select)
    try:
        engine = engine_factory(db.root)
        try:
            table = engine.execute(engine.prepare(select, ()))
        finally:
            engine.close()
    except Exception as exc:
        db.failed[name] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:160]}"
        return
    folder = db.table_dir(name)
    folder.mkdir(parents=True, exist_ok=True)
    try:
        pq.write_table(table, folder / "0.parquet")
    except (pa.ArrowException, OSError) as exc:  # e.g. an empty STRUCT: no Parquet form
        shutil.rmtree(folder, ignore_errors=True)
        db.failed[name] = f"not writable as Parquet: {str(exc).splitlines()[0][:160]}"
        return
    db.tables.add(name)
    if bad:
        db.unexportable[name] = bad


def googlesql_engine(root: Path):
    """A googlesql engine over ``root`` (no reference-schema checks: these are not IDC's)."""
    from idcbq.engines.googlesql import GoogleSQLEngine

    return GoogleSQLEngine.from_options(source=root, idc_version="current", check_schema=False)


def evaluate(root: Path, sql: str) -> pa.Table:
    """The googlesql engine's answer to ``sql`` over the tables in ``root``."""
    engine = googlesql_engine(root)
    try:
        return engine.execute(engine.prepare(sql, ()))
    finally:
        engine.close()
