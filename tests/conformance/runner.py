"""Run compliance cases through idcbq on DuckDB and classify each against its expected result.

Verdicts:

- ``equal``: same names, types and rows (or GoogleSQL raises and idcbq raises);
- ``loud``: idcbq refuses or fails a query GoogleSQL answers (an error, never a wrong answer);
- ``silent``: idcbq answers differently (names, types or values);
- ``invalid_accepted``: GoogleSQL raises (analysis or runtime) and idcbq answers;
- ``out_of_scope``: the case needs something BigQuery or an IDC Parquet export lacks (named).
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.conformance import features
from tests.conformance.cases import Case, parse_file
from tests.conformance.compare import arrow_types, compare
from tests.conformance.gsql import Database, build, evaluate, googlesql_engine
from tests.conformance.values import ValueSyntaxError, _Reader, foreign_types, parse_expected

#: The compliance driver's default time zone where a file names none (BigQuery's is UTC).
DRIVER_TIME_ZONE = "America/Los_Angeles"
UTC_NAMES = ("UTC", "Etc/UTC", "+00", "+00:00")
_TIME_WORDS = re.compile(r"timestamp|date|time|extract|format|parse|unix|current", re.I)
VERDICTS = ("equal", "loud", "silent", "invalid_accepted", "out_of_scope")
_INTERNAL_TYPE_RE = re.compile(r"\b(INT32|UINT32|UINT64|FLOAT|ENUM|PROTO)\b", re.I)
#: ``SELECT *``, ``SELECT t.*``, ``, *`` (not ``COUNT(*)``): every column is read.
_SELECT_STAR = re.compile(r"(?:\bSELECT(?:\s+(?:ALL|DISTINCT|AS\s+\w+))?|,)\s*(?:\w+\.)?\*", re.I)
#: ``DOUBLE`` is ZetaSQL's other spelling of FLOAT64 (BigQuery knows only FLOAT64): respelled.
#: In type positions only (``AS double)``, ``<double>``), never an alias named ``double``.
_DOUBLE_RE = re.compile(r"\bdouble\b(?=\s*[)>])|(?<=<)\s*double\b", re.I)


def bigquery_spelling(sql: str) -> str:
    """``sql`` with ZetaSQL's type name ``DOUBLE`` spelled ``FLOAT64``."""
    return _DOUBLE_RE.sub("FLOAT64", sql)


_PROTO_RE = re.compile(
    r"zetasql_test__|\bNEW\s+\w+\s*\(|KitchenSink|\bEXTRACT\s*\(\s*\w+\s+FROM\s+\w*proto", re.I
)


@dataclass
class Result:
    """The verdict on one case."""

    file: str
    id: str
    line: int
    verdict: str
    detail: str = ""
    sql: str = ""


def _words(sql: str) -> set[str]:
    return {w.lower() for w in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", sql)}


def scope(case: Case, db: Database) -> str | None:
    """Why the case is out of scope, or None."""
    why = features.out_of_scope(case.required, case.forbidden)
    if why:
        return why
    tz = case.options.get("default_time_zone")
    if tz and tz not in UTC_NAMES:
        return f"default time zone {tz} (BigQuery's is UTC)"
    text = case.sql + " " + case.options.get("parameters", "")
    if _PROTO_RE.search(text):
        return "protocol buffers"
    m = _INTERNAL_TYPE_RE.search(re.sub(r"([\"']).*?\1", "", case.sql))
    if m:
        return f"ZetaSQL-only type name {m.group(1).upper()}"
    if not case.is_error:
        try:
            t = _Reader(case.expected.split("\nNOTE:")[0]).type()
            foreign = foreign_types(t)
        except (ValueSyntaxError, IndexError):
            foreign = set()
        if foreign:
            return f"result type {', '.join(sorted(foreign))} (not in BigQuery)"
    words = _words(case.sql)
    for table, reason in db.failed.items():
        if table.lower() in words:
            return f"table {table} not built: {reason}"
    for table, cols in db.unexportable.items():
        if table.lower() in words:
            for col, reason in cols.items():
                if col.lower() in words or _SELECT_STAR.search(case.sql):
                    return f"{table}.{col}: {reason}"
    return None


def _params(case: Case, root: Path) -> tuple[dict[str, Any], dict[str, str]]:
    """``[parameters=expr AS name, ...]`` evaluated by the googlesql engine: values and types."""
    text = case.options.get("parameters", "").strip()
    if not text:
        return {}, {}
    table = evaluate(root, f"SELECT {bigquery_spelling(text)}")
    values = table.to_pylist()[0]
    types = dict(zip(table.column_names, arrow_types(table), strict=True))
    return values, types


class FileRun:
    """One corpus file: its tables (built once) and an idcbq client over them."""

    def __init__(self, path: Path, tmp: Path):
        self.path = path
        self.db = Database(tmp)
        self._client = None
        self._client_tables: frozenset[str] = frozenset()

    def client(self):
        tables = frozenset(self.db.tables)
        if self._client is None or tables != self._client_tables:
            self.close()
            from idcbq.api import Client
            from idcbq.engines.duckdb import DuckDBEngine

            engine = DuckDBEngine.from_options(
                source=self.db.root, idc_version="current", check_schema=False
            )
            engine.bare_tables = tuple(sorted(tables | {"dicom_all"}))
            self._client = Client(engine)
            self._client.explain_empty = False
            self._client_tables = tables
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def run(self, case: Case) -> Result:
        res = Result(self.path.name, case.id, case.line, "", sql=case.sql)
        why = scope(case, self.db)
        if why:
            res.verdict, res.detail = "out_of_scope", why
            return res
        from idcbq.errors import IdcbqError

        try:
            params, types = _params(case, self.db.root)
        except Exception as exc:
            res.verdict, res.detail = "out_of_scope", f"parameters not evaluable: {exc}"
            return res
        try:
            sql = bigquery_spelling(case.sql)
            table = self.client().sql(sql, params=params, types=types).table
        except IdcbqError as exc:
            res.verdict = "equal" if case.is_error else "loud"
            res.detail = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
            return res
        except Exception as exc:
            res.verdict = "equal" if case.is_error else "loud"
            res.detail = f"crash {type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
            return res
        if case.is_error:
            res.verdict = "invalid_accepted"
            res.detail = f"GoogleSQL: {case.expected.splitlines()[0][:200]}"
            return res
        try:
            expected = parse_expected(case.expected)
        except (ValueSyntaxError, IndexError, ValueError) as exc:
            return self._against_engine(case, res, table, exc)
        try:
            diff = compare(expected, table)
        except Exception as exc:  # a value the comparison cannot read: never equal
            diff = f"comparison failed: {type(exc).__name__}: {exc}"[:300]
        if diff is not None and diff.startswith("INVALID: "):  # BigQuery refuses this result
            res.verdict, res.detail = "invalid_accepted", diff.removeprefix("INVALID: ")
            return res
        if diff is not None and self._zone_dependent(case):
            bound = self.client().prepare_sql(sql, params=params, types=types).params
            return self._against_engine(case, res, table, diff, bound)
        res.verdict, res.detail = ("equal", "") if diff is None else ("silent", diff)
        return res

    @staticmethod
    def _zone_dependent(case: Case) -> bool:
        """The file's answer assumes the driver's default zone and the query may depend on it.

        Then the googlesql engine (UTC, as BigQuery) judges instead.
        """
        zone = case.options.get("default_time_zone") or DRIVER_TIME_ZONE
        return zone not in UTC_NAMES and bool(_TIME_WORDS.search(case.sql))

    def _against_engine(
        self, case: Case, res: Result, table, why: object, params: tuple = ()
    ) -> Result:
        """The googlesql engine's answer judges (the expected text is unreadable, or assumes
        the driver's time zone)."""

        try:
            engine = googlesql_engine(self.db.root)
            try:
                oracle = engine.execute(engine.prepare(bigquery_spelling(case.sql), params))
            finally:
                engine.close()
        except Exception as exc:
            if isinstance(why, str):  # the file's answer was read and differs: it stands
                res.verdict, res.detail = "silent", f"{why} (googlesql: {exc})"[:400]
            else:
                res.verdict = "out_of_scope"
                res.detail = f"expected result unreadable ({why}) and googlesql failed: {exc}"[:300]
            return res
        try:
            _engine_compare(oracle, table)
        except AssertionError as exc:
            res.verdict = "silent"
            res.detail = f"vs googlesql (UTC): {str(exc).splitlines()[0]}; file: {why}"[:400]
            return res
        res.verdict = "equal"
        return res


def _deep_sorted(value: Any) -> Any:
    if isinstance(value, tuple):
        return tuple(sorted((_deep_sorted(v) for v in value), key=repr))
    return value


def _engine_compare(oracle, table) -> None:
    """Assert equal names, types and rows; rows and arrays as multisets (without ORDER BY
    an aggregated array's order is not part of the answer, and the engine's answer does
    not say which arrays are ordered)."""
    from tests.cross_engine_support import bigquery_types, rows

    assert oracle.column_names == table.column_names, (
        f"names: oracle {oracle.column_names}, DuckDB {table.column_names}"
    )
    want, have = bigquery_types(oracle), bigquery_types(table)
    assert want == have, f"types: oracle {want}, DuckDB {have}"
    left = sorted((_deep_sorted(r) for r in rows(oracle)), key=repr)
    right = sorted((_deep_sorted(r) for r in rows(table)), key=repr)
    assert left == right, f"rows differ: oracle {left[:2]}, DuckDB {right[:2]}"


def run_file(path: Path, only: set[str] | None = None) -> list[Result]:
    """Results of every (or every listed) query case of one file; prepare cases build tables."""
    out: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="idcbq-conformance-") as tmp:
        run = FileRun(path, Path(tmp))
        try:
            for case in parse_file(path):
                if case.prepare:
                    build(run.db, case, googlesql_engine)
                    continue
                if only is not None and case.id not in only:
                    continue
                out.append(run.run(case))
        finally:
            run.close()
    return out
