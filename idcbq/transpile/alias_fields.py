"""ORDER BY a field of a STRUCT the SELECT list names: ``ORDER BY bits.alloc``.

BigQuery resolves ``bits.alloc`` in an ORDER BY to the field ``alloc`` of the select
alias ``bits`` when no table of the FROM clause is called ``bits``. DuckDB reads
``bits`` as a table there and fails ("Referenced table not found"); it does resolve
``(bits).alloc``. So a column path whose first part is a select alias (and not a
source of the query) becomes a field access of that alias.

Example:
    >>> import sqlglot
    >>> tree = sqlglot.parse_one(
    ...     "SELECT STRUCT(a AS x) AS s FROM t ORDER BY s.x", read="bigquery")
    >>> print(order_by_alias_fields(tree).sql("duckdb"))
    SELECT {'x': a} AS s FROM t ORDER BY (s).x NULLS FIRST
"""

from __future__ import annotations

from sqlglot import exp

from idcbq.transpile.rules import handles


def _sources(select: exp.Select) -> set[str]:
    """Names a column's table part can mean at this level: tables, subqueries, UNNESTs."""
    names: set[str] = set()
    parts = [select.args.get("from_"), *(select.args.get("joins") or [])]
    for part in parts:
        if part is None:
            continue
        source = part.this
        names.add(source.alias_or_name.lower())
        if isinstance(source, exp.Table):
            names.add(source.name.lower())
        alias = source.args.get("alias")
        if isinstance(alias, exp.TableAlias):
            names.update(c.name.lower() for c in alias.columns)
    names.discard("")
    return names


@handles(exp.Order)  # acts on a SELECT with ORDER BY
def order_by_alias_fields(tree: exp.Expr) -> exp.Expr:
    """``ORDER BY alias.field`` (a STRUCT select alias) -> ``ORDER BY (alias).field``."""
    for select in list(tree.find_all(exp.Select)):
        order = select.args.get("order")
        if not order:
            continue
        aliases = {e.alias.lower() for e in select.expressions if e.alias}
        if not aliases:
            continue
        sources = _sources(select)
        for column in list(order.find_all(exp.Column)):
            table = column.args.get("table")
            if table is None or column.args.get("db") is not None:
                continue
            name = table.name.lower()
            if name not in aliases or name in sources:
                continue
            base = exp.paren(exp.column(table.copy()))
            column.replace(exp.Dot(this=base, expression=column.this.copy()))
    return tree
