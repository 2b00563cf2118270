"""Which files of a remote export a DuckDB query can skip, from its SQL and the footers.

:func:`pruning_filters` reads the literal (or bound) values a statement compares the
:data:`~idcbq.sources.footers.PRUNE_COLUMNS` with; :class:`~idcbq.sources.footers.RemoteFooters`
keeps the files whose row-group statistics admit them. :func:`referenced_columns` lists
the columns whose chunks a dry-run estimate counts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from idcbq.sources.footers import PRUNE_COLUMNS


def pruning_filters(
    sql: str, bind: dict[str, Any] | None = None
) -> dict[str, dict[str, list[Any]]]:
    """``{table name: {column: allowed values}}`` from a DuckDB statement's WHERE clauses.

    Only what is certain: ``col = value``, ``col IN (values...)`` and ``col IN
    UNNEST(@list)`` conjuncts (literals or bound ``$name`` parameters) of the SELECT that
    reads the table directly, for the :data:`PRUNE_COLUMNS`, and only when the table is
    named once in the statement.

    Example:
        >>> pruning_filters("SELECT a FROM t WHERE Modality IN ('CT', 'MR')")
        {'t': {'Modality': ['CT', 'MR']}}
    """
    import sqlglot
    from sqlglot import exp

    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
    except sqlglot.errors.SqlglotError:
        return {}
    ctes = {c.alias_or_name for c in tree.find_all(exp.CTE)}
    tables = [t for t in tree.find_all(exp.Table) if t.name and t.name not in ctes]
    names = [t.name for t in tables]
    wanted = {c.lower(): c for c in PRUNE_COLUMNS}
    out: dict[str, dict[str, list[Any]]] = {}
    for tab in tables:
        if names.count(tab.name) != 1:
            continue
        select = tab.parent_select
        where = select.args.get("where") if select is not None else None
        if where is None or select.args.get("joins"):
            continue
        alias = tab.alias_or_name
        filters: dict[str, list[Any]] = {}
        for cond in where.this.flatten() if isinstance(where.this, exp.And) else [where.this]:
            if isinstance(cond, exp.EQ):
                col, resolved = cond.this, [_value(cond.expression, bind or {})]
            elif isinstance(cond, exp.In) and not cond.args.get("query"):
                col, resolved = cond.this, [_value(v, bind or {}) for v in cond.expressions]
            elif isinstance(cond, exp.Case) and (found := _in_unnest(cond, bind or {})):
                col, resolved = found
            else:
                continue
            if not isinstance(col, exp.Column) or col.name.lower() not in wanted:
                continue
            if col.table and col.table != alias:
                continue
            if any(v is _UNKNOWN for v in resolved):
                continue
            filters[wanted[col.name.lower()]] = resolved
        if filters:
            out[tab.name] = filters
    return out


def referenced_columns(sql: str) -> set[str] | None:
    """Top-level column names a statement mentions (None when it selects ``*``)."""
    import sqlglot
    from sqlglot import exp

    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
    except sqlglot.errors.SqlglotError:
        return None
    if any(not isinstance(s.parent, exp.Count) for s in tree.find_all(exp.Star)):
        return None
    names = {c.name for c in tree.find_all(exp.Column)}
    names |= {i.name for d in tree.find_all(exp.Dot) for i in d.find_all(exp.Identifier)}
    return names


_UNKNOWN = object()


def _in_unnest(case: Any, bind: dict[str, Any]) -> tuple[Any, list[Any]] | None:
    """``(column, values)`` of the transpiled ``col IN UNNEST(list)``, else None.

    The translation is a CASE that is TRUE in one branch only, ``ARRAY_CONTAINS(list,
    col)``; every other branch is FALSE or NULL, so a row can pass only if ``col`` is
    one of the list's values: as certain as ``col IN (values...)``.
    """
    from sqlglot import exp

    true = [i for i in case.args.get("ifs") or [] if _is_true(i.args.get("true"))]
    default = case.args.get("default")
    if len(true) != 1 or _is_true(default) or not isinstance(true[0].this, exp.ArrayContains):
        return None
    if any(not _false_or_null(i.args.get("true")) for i in case.args["ifs"] if i is not true[0]):
        return None
    contains = true[0].this
    items = _list_value(contains.this, bind)
    return None if items is None else (contains.expression, items)


def _is_true(node: Any) -> bool:
    from sqlglot import exp

    return isinstance(node, exp.Boolean) and node.this is True


def _false_or_null(node: Any) -> bool:
    from sqlglot import exp

    return isinstance(node, exp.Null) or (isinstance(node, exp.Boolean) and node.this is False)


def _list_value(node: Any, bind: dict[str, Any]) -> list[Any] | None:
    """The strings of a bound ``$list`` parameter or an array literal, else None."""
    from sqlglot import exp

    if isinstance(node, exp.Cast):
        node = node.this  # the transpiler types parameters: CAST($c AS TEXT[])
    if isinstance(node, exp.Placeholder) and node.name in bind:
        value = bind[node.name]
        # An empty list matches no row: nothing to prune by (and no file list to read).
        if value and isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
            return list(value)
        return None
    if isinstance(node, exp.Array):
        items = [_value(v, bind) for v in node.expressions]
        return None if not items or any(v is _UNKNOWN for v in items) else items
    return None


def _value(node: Any, bind: dict[str, Any]) -> Any:
    from sqlglot import exp

    if isinstance(node, exp.Cast) and node.to.is_type("text", "varchar"):
        node = node.this  # the transpiler types parameters: CAST($c AS TEXT)
    if isinstance(node, exp.Literal) and node.is_string:
        return node.this
    if isinstance(node, exp.Placeholder) and node.name in bind:
        value = bind[node.name]
        return value if isinstance(value, str) else _UNKNOWN
    return _UNKNOWN


def footer_estimate(
    con: Any, query: Any, footers: Any, resolve: Callable[[list[str]], Any], export: Any
) -> int | None:
    """Bytes ``query`` would read by the Parquet footers of the files its filters keep
    (:meth:`DuckDBEngine.estimate_bytes <idcbq.engines.duckdb.DuckDBEngine.estimate_bytes>`)."""
    import duckdb

    from idcbq.engines.duckdb.statements import table_names

    try:
        (statement,) = duckdb.extract_statements(query.sql)
    except (duckdb.Error, ValueError):
        return None
    bind = {p.name: p.value for p in query.params if p.name in statement.named_parameters}
    filters = pruning_filters(query.sql, bind)
    columns = referenced_columns(query.sql)
    total = 0
    for parts in sorted(table_names(con, query.sql)):
        target = resolve(list(parts))
        if target is None or not export.has_table(target[3], target[4]):
            continue
        total += footers.estimate(target[3], target[4], columns, filters.get(target[2]))
    return total
