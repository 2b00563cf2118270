"""What the DuckDB engine reads off a statement and its answer.

- :func:`table_names`: the tables a statement names (DuckDB's parser, else sqlglot's),
  so the engine can create a view for each exported one before it runs;
- :func:`bind_params`: values for exactly the ``$name`` parameters the statement uses;
- :func:`narrow_hugeints`: HUGEINT sums and counts back to BigQuery's INT64 when they fit;
- :func:`duckdb_message`: a DuckDB error's text, trimmed;
- :func:`statement_shape`: a statement's type and ``$name`` parameters, or its error;
- :func:`one_statement`: the BigQuery text's one statement as validation parsed it;
- :class:`~idcbq.core.memo.Memo` (re-exported): what an engine keeps per SQL text (its translation per
  :func:`translation_key`, shape, table names), so a query run again is not transpiled
  or parsed again (``Client.query``'s overhead, issue 21 §3).

``idcbq.engines.cancel``, ``bench/templates.py`` and the tests import these through
:mod:`idcbq.engines.duckdb.engine`, which re-exports them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from idcbq.core.memo import Memo
from idcbq.errors import ParameterError, QueryError

__all__ = [
    "Memo",
    "bind_params",
    "duckdb_message",
    "narrow_hugeints",
    "one_statement",
    "statement_shape",
    "table_names",
    "translation_key",
]

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

    from idcbq.params import BoundParameter


#: Statement types an engine runs; everything else (DDL, COPY, ATTACH...) is refused.
READ_ONLY = ("SELECT", "EXPLAIN")


def table_names(con: duckdb.DuckDBPyConnection, sql: str) -> set[tuple[str, ...]]:
    """Tables a statement names, via DuckDB's parser, else sqlglot's.

    DuckDB's ``get_table_names`` binds a little (it refuses ``$name`` parameters and
    some joins), so sqlglot is the fallback; if neither parses, the statement's own
    error surfaces when it runs.
    """
    import duckdb

    try:
        return {tuple(_split_name(raw)) for raw in con.get_table_names(sql, qualified=True)}
    except duckdb.Error:
        pass
    import sqlglot
    from sqlglot import exp

    try:
        trees = sqlglot.parse(sql, read="duckdb")
    except sqlglot.errors.SqlglotError:
        return set()
    ctes = {c.alias_or_name for t in trees if t for c in t.find_all(exp.CTE)}
    names: set[tuple[str, ...]] = set()
    for tree in trees:
        for tab in tree.find_all(exp.Table) if tree else ():
            if not tab.name or (not tab.db and tab.name in ctes):
                continue
            names.add(tuple(p for p in (tab.catalog, tab.db, tab.name) if p))
    return names


def bind_params(
    names: set[str] | Sequence[str], params: Sequence[BoundParameter]
) -> dict[str, Any]:
    """Values for exactly the ``$name`` parameters the statement uses (DuckDB rejects extras)."""
    values = {p.name: p.value for p in params}
    missing = sorted(set(names) - values.keys())
    if missing:
        raise ParameterError(
            f"the query uses ${', $'.join(missing)} but no value was given",
            hint=f"given: {', '.join(sorted(values)) or 'none'}",
        )
    return {n: values[n] for n in names}


def narrow_hugeints(table: pa.Table) -> pa.Table:
    """DuckDB's SUM/COUNT-like HUGEINT arrives as decimal128(38, 0); BigQuery gives INT64.

    Cast such columns to int64; a value beyond INT64 is BigQuery's "int64 overflow" error.
    """
    import pyarrow as pa

    for i, fld in enumerate(table.schema):
        if fld.type == pa.decimal128(38, 0):
            try:
                table = table.set_column(i, fld.name, table.column(i).cast(pa.int64()))
            except pa.ArrowInvalid as exc:
                raise QueryError(
                    f"int64 overflow in column {fld.name!r} (BigQuery raises it too)",
                    hint="CAST the values to NUMERIC or FLOAT64 before SUM",
                ) from exc
            except pa.ArrowNotImplementedError:
                continue
    return table


def statement_shape(sql: str, source_sql: str, template: str | None) -> tuple[str, frozenset[str]]:
    """The type of the one statement in ``sql`` and its ``$name`` parameters.

    Raises the user's error for unparsable SQL, QueryError for several statements or
    anything but SELECT / EXPLAIN.
    """
    import duckdb

    from idcbq.engines.duckdb.errors import translate

    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise translate(duckdb_message(exc), user_sql=source_sql, template=template) from exc
    if len(statements) != 1:
        raise QueryError(f"expected exactly one SQL statement, got {len(statements)}")
    kind = statements[0].type.name
    if kind not in READ_ONLY:
        raise QueryError(f"only read-only queries run here; this is a {kind} statement")
    return kind, frozenset(statements[0].named_parameters)


def translation_key(
    sql: str, params: Sequence[BoundParameter], data_project: str, dataset: str
) -> tuple[object, ...]:
    """What a translation depends on besides the engine's tables: SQL, parameter types.

    Never the values: ``@name`` becomes ``CAST($name AS <type>)`` whatever is bound.
    """
    return (sql, tuple((p.name, str(p.type)) for p in params), data_project, dataset)


def duckdb_message(exc: BaseException) -> str:
    return str(exc).strip()


_NAME_TOKEN = re.compile(r'"((?:[^"]|"")*)"|([^".\s]+)|(\.)|(\s+)')


def _split_name(raw: str) -> list[str]:
    """Split ``"bigquery-public-data".idc_v25.dicom_all AS d`` into its name parts."""
    parts: list[str] = []
    pos = 0
    while pos < len(raw):
        m = _NAME_TOKEN.match(raw, pos)
        if m is None or m.group(4):  # whitespace ends the name (an alias follows)
            break
        if m.group(1) is not None:
            parts.append(m.group(1).replace('""', '"'))
        elif m.group(2) is not None:
            parts.append(m.group(2))
        pos = m.end()
    return parts


def one_statement(bigquery_sql: str) -> Any:
    """``sqlglot.parse_one(bigquery_sql, read="bigquery")``, or None if that fails, without
    parsing a text validation parsed: its one statement as validation read it (GoogleSQL's
    reading of BigQuery; the same tables), shared, so only to read. A script of several
    statements is parsed here (``parse_one`` gives them as one Block, read across them).
    """
    import sqlglot
    from sqlglot.errors import SqlglotError

    from idcbq.transpile.scripts import shared_parse

    try:
        trees = shared_parse(bigquery_sql)
    except SqlglotError:
        trees = ()
    if len(trees) == 1 and trees[0] is not None:
        return trees[0]
    try:
        return sqlglot.parse_one(bigquery_sql, read="bigquery")
    except SqlglotError:
        return None
