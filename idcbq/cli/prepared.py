"""``idcbq sql --format json|jsonl`` for a query seen before: replayed from a prepared entry.

The first run of a query takes the full path (render, checks, translation, DuckDB) and,
when it printed rows as JSON from a local export, keeps what it ran
(:mod:`idcbq.core.prepared`). A later run of the same SQL, with parameters of the same
types and the same settings, code and files, opens DuckDB, replays the views, runs the
kept SQL and prints the rows as the full path would, byte for byte, without importing
sqlglot, pyarrow or the engine. Values are still checked against their types.

Kept only for results whose every column is a type printed the same from DuckDB's
Python values as from Arrow's (numbers, text, booleans, dates, timestamps without zone,
bytes, decimals); never for empty results (the full path explains those). Anything
unexpected on replay (a missing or changed file, a DuckDB error, other result types)
falls back to the full path, which reports it in its own words.
``IDCBQ_PREPARED=0`` turns it off.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

ENV = "IDCBQ_PREPARED"
#: Formats the replay prints (the full path prints every other one).
FORMATS = ("json", "jsonl")
#: Environment variables besides ``IDCBQ_*`` that change where or how data is read.
_ENVIRON = ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "STORAGE_EMULATOR_HOST", "TZ")
_INTEGERS = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32")
#: DuckDB result type -> Arrow types of the final table that print alike from both.
_SAME_TEXT: dict[str, tuple[str, ...]] = {
    "BIGINT": _INTEGERS,
    "INTEGER": _INTEGERS,
    "SMALLINT": _INTEGERS,
    "TINYINT": _INTEGERS,
    "HUGEINT": ("int64",),  # narrowed to INT64 (beyond it: the full path's overflow error)
    "VARCHAR": ("string", "large_string"),
    "DOUBLE": ("double",),
    "BOOLEAN": ("bool",),
    "DATE": ("date32[day]",),
    "TIMESTAMP": ("timestamp[us]",),
    "BLOB": ("binary", "large_binary"),
}
_INT64 = (-(2**63), 2**63 - 1)
log = logging.getLogger("idcbq")


def wanted(fmt: str | None, as_json: bool, out: str | None, manifest: str | None) -> str | None:
    """The format to replay in (``json``/``jsonl``), or None for the full path."""
    if os.environ.get(ENV, "").strip().lower() in ("0", "false", "no", "off"):
        return None
    if out or manifest:
        return None
    if as_json:
        return "json" if fmt in (None, "json") else None
    return fmt if fmt in FORMATS else None


def query_key(
    sql_text: str,
    values: Mapping[str, str],
    types: Mapping[str, str],
    conn: Any,
    *,
    allowed_tables: Sequence[str],
    limit: int | None,
    fmt: str,
) -> str:
    """Everything the printed rows depend on besides the code, data files and values."""
    from idcbq.config import config_path
    from idcbq.core.prepared import entry_key, stat_of

    config = str(config_path())
    return entry_key(
        {
            "sql": sql_text,
            "params": sorted((n, types.get(n, "STRING")) for n in values),
            "types": sorted(types.items()),
            "conn": repr(conn),
            "allowed": list(allowed_tables),
            "limit": limit,
            "fmt": fmt,
            "cwd": os.getcwd(),
            "config": [config, stat_of(config)],
            "env": sorted(
                (k, v) for k, v in os.environ.items() if k.startswith("IDCBQ_") or k in _ENVIRON
            ),
        }
    )


def _root() -> Path:
    from idcbq.sources.releases import cache_dir

    return cache_dir() / "prepared"


def run_seen(key: str, values: Mapping[str, str], types: Mapping[str, str], fmt: str) -> bool:
    """Print the rows of the query kept under ``key``; False (nothing printed) on a miss."""
    from idcbq.core.prepared import load

    entry = load(_root(), key)
    if entry is None:
        log.debug("no prepared query %s (or its files changed)", key[:12])
        return False
    try:
        bind = _bind(entry["bind"], values, types)
        rows = _run(entry, bind)
    except Exception as exc:  # KeyboardInterrupt goes on; any other doubt: the full path
        log.debug("prepared query %s set aside: %s", key[:12], exc)
        return False
    if rows is None:
        return False
    log.debug("prepared query %s replayed", key[:12])
    _print(entry["names"], rows, fmt)
    return True


def _bind(names: Sequence[str], values: Mapping[str, str], types: Mapping[str, str]) -> dict:
    """The values the kept SQL binds, parsed and checked as the full path does."""
    from idcbq.params import ParamType

    parsed = {}
    for name, text in values.items():
        ptype = ParamType.parse(types.get(name, "STRING"))
        value = ptype.parse_text(text, name=name)
        ptype.check(value, name=name)
        parsed[name] = value
    return {n: parsed[n] for n in names}


def _run(entry: Mapping[str, Any], bind: dict[str, Any]) -> list[tuple] | None:
    """The kept SQL's rows on a new connection with the kept views; None if they differ."""
    import duckdb

    from idcbq.core.imports import pandas_held_off
    from idcbq.engines.cancel import QueryInterrupted, run_cancellable
    from idcbq.sources.connection import SETTINGS, SETUP

    if not _read_only(duckdb, entry):
        return None
    con = duckdb.connect(":memory:", config=SETTINGS)

    def fetch() -> list[tuple] | None:
        with pandas_held_off():  # DuckDB's binding would import pandas (~0.3 s)
            cursor = con.execute(entry["sql"], bind)
        described = [(d[0], str(d[1])) for d in cursor.description or ()]
        if described != list(zip(entry["names"], entry["types"], strict=True)):
            return None
        rows = cursor.fetchall()
        for i, kind in enumerate(entry["types"]):
            if kind == "HUGEINT" and any(
                r[i] is not None and not _INT64[0] <= r[i] <= _INT64[1] for r in rows
            ):
                return None
        return rows or None  # no rows: the full path says why

    wound_down = True
    try:
        for statement in (*SETUP, *entry["setup"]):
            con.execute(statement)
        return run_cancellable(fetch, con.interrupt)
    except QueryInterrupted as exc:
        wound_down = exc.finished  # a query still running is left alone, as Client does
        raise
    finally:
        if wound_down:
            con.close()


#: The only set-up statements an entry may hold (what the engine runs before a query).
_SETUP_PREFIXES = ("CREATE SCHEMA IF NOT EXISTS ", "CREATE OR REPLACE VIEW ")
_ATTACH = re.compile(r'ATTACH IF NOT EXISTS \':memory:\' AS "(?:[^"]|"")+"')


def _read_only(duckdb: Any, entry: Mapping[str, Any]) -> bool:
    """True if the entry only makes schemas and views and runs one SELECT (fail closed:
    a file in the cache folder is not trusted to hold anything else)."""
    for statement in entry["setup"]:
        (parsed,) = duckdb.extract_statements(statement)  # one statement, or a miss
        if _ATTACH.fullmatch(statement) and parsed.type.name == "ATTACH":
            continue
        if not statement.startswith(_SETUP_PREFIXES) or parsed.type.name != "CREATE":
            return False
    (parsed,) = duckdb.extract_statements(entry["sql"])
    return parsed.type.name == "SELECT"


def _print(names: Sequence[str], rows: list[tuple], fmt: str) -> None:
    """Rows as ``idcbq.cli.output.print_rows`` prints them from Arrow."""
    from idcbq.cli.common import require_stdout
    from idcbq.io.formats import dumps

    require_stdout()
    dicts = [dict(zip(names, row, strict=True)) for row in rows]
    stream = sys.stdout
    if fmt == "json":
        stream.write(dumps(dicts) + "\n")
    else:
        for row in dicts:
            stream.write(dumps(row) + "\n")
    stream.flush()


def remember(key: str, client: Any, sql_text: str, prepared: Any, result: Any, limit: Any) -> None:
    """Keep what the full path ran for ``key``, if a replay would print the same bytes."""
    entry = _entry(client, sql_text, prepared, result, limit)
    if entry is None:
        log.debug("query not kept as prepared %s (its result needs the full path)", key[:12])
        return
    from idcbq.core.prepared import store

    engine = client.engine
    paths = [engine.source]
    for file in engine.files_read:  # the files, their table, dataset and export folders
        path = Path(file)
        paths += [file, str(path.parent), str(path.parent.parent), str(path.parent.parent.parent)]
    if store(_root(), key, entry, paths=paths, still_true=lambda: _listed(engine.files_read)):
        log.debug("query kept as prepared %s", key[:12])
    else:
        log.debug("query not kept as prepared %s (its files changed or no cache)", key[:12])


def _listed(files: Sequence[str]) -> bool:
    """True if each table folder holds exactly the Parquet files the views read."""
    by_folder: dict[Path, set[str]] = {}
    for file in files:
        by_folder.setdefault(Path(file).parent, set()).add(file)
    return all(
        {str(p) for p in folder.glob("*.parquet")} == read for folder, read in by_folder.items()
    )


def _entry(
    client: Any, sql_text: str, prepared: Any, result: Any, limit: Any
) -> dict[str, Any] | None:
    engine = client.engine
    if type(engine).__name__ != "DuckDBEngine" or engine.name != "duckdb":
        return None  # a special source (idc-index) has its own set-up
    if not engine.setup_is_static:
        return None
    if prepared.source_sql != sql_text or prepared.template is not None:
        return None  # DECLARE blocks, scripts, INFORMATION_SCHEMA: rewritten first
    if result.empty_hint or result.table.num_rows == 0 or engine.last_run is None:
        return None
    sql, bind, duck_types = engine.last_run
    if limit is not None and sql == prepared.sql:
        return None  # a limit applied after the statement ran
    table = result.table  # its names are unique (checked); a replay compares DuckDB's
    if len(duck_types) != table.num_columns:
        return None
    for kind, field in zip(duck_types, table.schema, strict=True):
        arrow = str(field.type)
        same = _SAME_TEXT.get(kind)
        decimal = kind.startswith("DECIMAL(") and arrow.startswith("decimal")
        if not decimal and (same is None or arrow not in same):
            return None
    return {
        "sql": sql,
        "bind": list(bind),
        "names": list(table.column_names),
        "types": list(duck_types),
        "setup": list(engine.setup_log),  # views of the columns it names, if it names them
    }
