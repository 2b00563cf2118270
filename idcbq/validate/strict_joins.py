"""An unqualified column name that two joined tables both have: GoogleSQL's "ambiguous".

DuckDB refuses it too in most forms, but not all (a name in a USING list of another
pair, a CROSS JOIN in a WHERE clause), and its message is not BigQuery's. Judged only
where it is certain: two or more FROM items are schema tables whose columns the strict
type pass put in meta, the name is in two of them, not in a ``USING (...)`` list, not a
SELECT output name (GROUP BY/ORDER BY may name those) and not a table alias.

Example:
    >>> from idcbq.validate import check
    >>> t = "`bigquery-public-data.idc_current.dicom_all`"
    >>> sql = f"SELECT Modality FROM {t} a JOIN {t} b ON a.crdc_series_uuid = b.crdc_series_uuid"
    >>> str(check(sql, googlesql=False)[1][0]).splitlines()[0]
    '<sql>:1:8: Column name Modality is ambiguous'
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from sqlglot import exp

from idcbq.validate.type_rules import Add

#: Meta key of a schema table's column names (set by :mod:`idcbq.validate.strict_types`).
TABLE_COLUMNS = "idcbq_columns"


def _own_nodes(node: exp.Expr) -> Iterator[exp.Expr]:
    """``node``'s descendants, not entering subqueries or a star's EXCEPT/REPLACE list
    (``t.* EXCEPT (x)`` names a column of ``t`` alone)."""
    stack = list(node.iter_expressions())
    while stack:
        current = stack.pop()
        if isinstance(current, exp.Query | exp.Subquery | exp.Star):
            continue
        yield current
        stack.extend(current.iter_expressions())


def check_ambiguous(node: exp.Select, refuse: Add) -> None:
    """Refuse the first unqualified column name two joined schema tables both have."""
    joins = node.args.get("joins") or []
    source = node.args.get("from_") or node.args.get("from")
    if not joins or source is None:
        return
    items = [source.this, *(j.this for j in joins)]
    counts: Counter[str] = Counter()
    for item in items:
        if isinstance(item, exp.Table):
            counts.update({c.lower() for c in item.meta.get(TABLE_COLUMNS) or ()})
    skip = {i.alias_or_name.lower() for i in items}
    for join in joins:
        skip |= {u.name.lower() for u in join.args.get("using") or ()}
    outputs = {i.alias_or_name.lower() for i in node.expressions}
    for column in _own_nodes(node):
        if not isinstance(column, exp.Column) or column.table or column.is_star:
            continue
        name = column.name.lower()
        if name in outputs and _clause(column, node) in ("group", "order", "having"):
            continue  # GROUP BY/ORDER BY/HAVING may name a SELECT output column
        if counts[name] > 1 and name not in skip:
            refuse(column, f"Column name {column.name} is ambiguous")
            return


def _clause(node: exp.Expr, select: exp.Select) -> str:
    """The arg key of ``select`` under which ``node`` sits (``expressions``, ``where``...)."""
    while node.parent is not None and node.parent is not select:
        node = node.parent
    return node.arg_key or ""
