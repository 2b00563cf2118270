"""BigQuery SQL -> DuckDB SQL: table mapping, scripts, parameters and our rewrites.

``to_duckdb`` is the one entry point the DuckDB engine calls. It never returns SQL
that would silently mean something else: what it cannot translate faithfully
raises ``idcbq.errors.TranspileError`` ("unsupported on DuckDB: ...").

Example:
    >>> from idcbq.params import BoundParameter
    >>> to_duckdb(
    ...     "SELECT ImageType[SAFE_OFFSET(0)] AS t FROM `bigquery-public-data.idc_v25.dicom_all` "
    ...     "WHERE Modality IN UNNEST(@m)",
    ...     params=[BoundParameter.of("m", "ARRAY<STRING>", ["CT"])],
    ... )[:51]
    'SELECT ImageType[1] AS t FROM "idc_v25"."dicom_all"'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from idcbq.errors import TranspileError
from idcbq.transpile.scripts import split_declare_script

if TYPE_CHECKING:
    from idcbq.params import BoundParameter

__all__ = ["TranspileError", "split_declare_script", "to_duckdb", "to_duckdb_tree"]


def to_duckdb(
    sql: str,
    *,
    schema: Mapping | None = None,
    data_project: str = "bigquery-public-data",
    params: Sequence[BoundParameter] = (),
) -> str:
    """Translate one BigQuery query (or DECLARE script) to DuckDB SQL with ``$name`` parameters.

    Args:
        sql: BigQuery SQL, parameters as ``@name``; may start with ``DECLARE name TYPE
            DEFAULT literal;`` statements (their defaults apply unless ``params`` has the name).
        schema: ``{dataset: {table: {column: bigquery_type}}}``; used for type-aware rewrites
            where available.
        data_project: the project whose tables become ``dataset.table`` in DuckDB.
        params: declared parameters; each ``@name`` becomes ``CAST($name AS <type>)``.

    Raises:
        TranspileError: for SQL with no faithful DuckDB equivalent.
    """
    from sqlglot.errors import ErrorLevel, SqlglotError

    tree = to_duckdb_tree(sql, schema=schema, data_project=data_project, params=params)
    try:
        return tree.sql(dialect="duckdb", unsupported_level=ErrorLevel.RAISE)
    except SqlglotError as exc:
        raise TranspileError(f"unsupported on DuckDB: {_first_line(exc)}") from exc


def to_duckdb_tree(
    sql: str,
    *,
    schema: Mapping | None = None,
    data_project: str = "bigquery-public-data",
    params: Sequence[BoundParameter] = (),
):
    """Like :func:`to_duckdb` but returns the rewritten sqlglot tree (for tests and benches)."""
    from sqlglot.errors import SqlglotError

    from idcbq.transpile import casts, compliance, functions, rewrites, semantics, typed
    from idcbq.transpile.parameters import bind_placeholders
    from idcbq.transpile.scripts import split_script, variables_to_parameters
    from idcbq.transpile.tables import map_tables
    from idcbq.transpile.types import annotate
    from idcbq.transpile.unnest_joins import unnest_joins_to_projections

    query, declarations = split_script(sql)
    types = {p.name: p.type for p in params}
    try:
        query = variables_to_parameters(query, declarations)
        _inline_unbound_declarations(query, declarations, types)
        # Output names before any rewrite: a typed rewrite or simplification may replace
        # an expression (``COALESCE(1, NULL)`` -> ``1``) and with it DuckDB's name.
        query = semantics.output_names(query)
        # Types first (the schema is keyed by the original project), and only when a
        # rewrite needs them: qualifying against an 800-column schema is not free.
        wanted = casts.needs_types(query) or typed.needs_types(query)
        wanted = wanted or compliance.needs_types(query)
        if (wanted or functions.needs_types(query)) and annotate(query, schema or {}):
            query = casts.cast_to_int64(query)
            for typed_rewrite in (*functions.TYPED, *typed.TYPED, *compliance.TYPED):
                query = typed_rewrite(query)
            for node in query.walk():  # later copies need no (large, nested) types
                node.type = None
        query = map_tables(query, data_project)
        query = semantics.apply_untyped(query)
        query = compliance.apply(query)  # before functions: SAFE. turns its error() to NULL
        query = functions.apply(query)
        for rewrite in rewrites.ALL:
            query = rewrite(query)
        query = unnest_joins_to_projections(query, _columns_lookup(schema, data_project))
        return bind_placeholders(query, types)
    except SqlglotError as exc:
        raise TranspileError(f"unsupported on DuckDB: {_first_line(exc)}") from exc


def _columns_lookup(schema: Mapping | None, data_project: str):
    """``(dataset, table) -> {column: type}`` from a ``{project: {dataset: {table: ...}}}`` schema."""
    datasets = (schema or {}).get(data_project) or {}

    def columns_of(dataset: str, table: str) -> Mapping[str, str] | None:
        return (datasets.get(dataset) or {}).get(table)

    return columns_of


def _inline_unbound_declarations(query, declarations, types) -> None:
    """A DECLARE default not overridden by a parameter is the script's own literal: inline it."""
    from sqlglot import exp

    pending = {d.name.lower(): d for d in declarations if d.name not in types}
    for param in list(query.find_all(exp.Parameter)):
        decl = pending.get(param.name.lower())
        if decl is None:
            continue
        target = exp.DataType.build(decl.type.duckdb_type, dialect="duckdb")
        param.replace(exp.cast(exp.convert(decl.value), target))


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
