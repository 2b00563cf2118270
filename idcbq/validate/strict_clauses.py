"""Clause rules of one SELECT the strict layer adds to :mod:`idcbq.validate.strict_shapes`.

Each is a rule GoogleSQL's analyzer enforces and DuckDB does not:

- an aggregate in the recursive term of a recursive CTE (DuckDB ran such a query
  without end);
- ``ORDER BY`` inside an aggregate other than ``ARRAY_AGG``/``STRING_AGG``/
  ``ARRAY_CONCAT_AGG``, or inside any aggregate called with ``OVER``;
- a navigation function (``LAG``, ``LEAD``, ``NTH_VALUE``, ``FIRST_VALUE``,
  ``LAST_VALUE``) whose window has no ``ORDER BY``;
- two FROM items of one SELECT with one alias (``UNNEST(a) AS x, UNNEST(b) AS x``);
- a JOIN of a table or subquery without ON/USING, and ``LATERAL``;
- a name the lone FROM subquery gives twice, read in the SELECT list or WHERE.

Example:
    >>> from idcbq.validate import check
    >>> sql = "SELECT LAG(x) OVER (PARTITION BY x) AS a FROM UNNEST([1]) AS x"
    >>> str(check(sql, googlesql=False)[1][0]).splitlines()[0]
    '<sql>:1:8: Window ORDER BY is required for analytic function LAG'
"""

from __future__ import annotations

from sqlglot import exp

from idcbq.validate.type_rules import Add

#: Aggregates whose arguments may hold ORDER BY.
_ORDERED_AGGREGATES = (exp.ArrayAgg, exp.GroupConcat, exp.ArrayConcatAgg)
#: Analytic functions whose window needs ORDER BY (the numbering ones: strict_types).
_NEEDS_ORDER = {
    exp.Lag: "LAG",
    exp.Lead: "LEAD",
    exp.NthValue: "NTH_VALUE",
    exp.FirstValue: "FIRST_VALUE",
    exp.LastValue: "LAST_VALUE",
}


def check_clauses(node: exp.Select, refuse: Add) -> None:
    """Every rule of this module for ``node`` (its own clauses, not its subqueries)."""
    _recursive_terms(node, refuse)
    _duplicate_aliases(node, refuse)
    _join_conditions(node, refuse)
    _repeated_subquery_names(node, refuse)
    for agg in node.find_all(exp.AggFunc):
        if agg.find_ancestor(exp.Select) is not node:
            continue
        window = agg.parent if isinstance(agg.parent, exp.Window) else None
        if isinstance(agg.this, exp.Order):
            if window is not None:
                refuse(agg, "ORDER BY in arguments is not supported on analytic functions")
            elif not isinstance(agg, _ORDERED_AGGREGATES):
                name = agg.sql_name()
                refuse(agg, f"Aggregate function {name} does not support ORDER BY in arguments")
    for window in node.find_all(exp.Window):
        name = _NEEDS_ORDER.get(type(window.this))
        if name is None or window.find_ancestor(exp.Select) is not node:
            continue
        if window.args.get("order") is None and window.args.get("alias") is None:
            refuse(window.this, f"Window ORDER BY is required for analytic function {name}")


def _join_conditions(node: exp.Select, refuse: Add) -> None:
    """A ``[INNER|LEFT|RIGHT|FULL] JOIN`` of a table or subquery needs ON or USING (an
    UNNEST or array path needs neither); ``LATERAL`` is no GoogleSQL syntax. DuckDB
    reads both (a condition-less join as a cross join)."""
    for join in node.args.get("joins") or []:
        target = join.this
        if isinstance(target, exp.Lateral):
            refuse(target, "Syntax error: LATERAL is not supported")
            continue
        kind = str(join.args.get("kind") or "").upper()
        if kind == "CROSS" or isinstance(target, exp.Unnest):
            continue
        if join.args.get("on") is None and not join.args.get("using"):
            side = str(join.args.get("side") or kind or "INNER").upper()
            refuse(join, f"{side} JOIN must have an immediately following ON or USING clause")


def _repeated_subquery_names(node: exp.Select, refuse: Add) -> None:
    """A name the lone FROM subquery's select list gives twice is ambiguous where the
    SELECT list or WHERE reads it (DuckDB reads the first column)."""
    source = node.args.get("from_") or node.args.get("from")
    if source is None or node.args.get("joins") or not isinstance(source.this, exp.Subquery):
        return
    inner = source.this.this
    if not isinstance(inner, exp.Select):
        return
    names = [e.alias_or_name.lower() for e in inner.expressions if e.alias_or_name]
    repeated = {n for n in names if names.count(n) > 1}
    if not repeated:
        return
    alias = source.this.alias.lower()
    where = node.args.get("where")
    for part in [*node.expressions, *([where] if where is not None else [])]:
        for column in part.find_all(exp.Column):
            if column.find_ancestor(exp.Select) is not node:
                continue  # a subquery's own column
            if column.name.lower() in repeated and column.table.lower() in ("", alias):
                refuse(column, f"Column name {column.name} is ambiguous")
                return


def _recursive_terms(node: exp.Select, refuse: Add) -> None:
    with_ = node.args.get("with_")
    if with_ is None or not with_.args.get("recursive"):
        return
    for cte in with_.expressions:
        term = cte.this.expression if isinstance(cte.this, exp.Union) else None
        if not isinstance(term, exp.Select):
            continue
        if not any(t.name.lower() == cte.alias_or_name.lower() for t in term.find_all(exp.Table)):
            continue
        for agg in term.find_all(exp.AggFunc):
            if agg.find_ancestor(exp.Select) is term and agg.find_ancestor(exp.Window) is None:
                refuse(
                    agg, "Aggregate function not allowed in the recursive term of a recursive query"
                )
                return


def _duplicate_aliases(node: exp.Select, refuse: Add) -> None:
    from_ = node.args.get("from_")
    if from_ is None:
        return
    joins = node.args.get("joins") or ()
    # an UNNEST joined USING its element shares the name (GoogleSQL merges the two)
    items = [
        from_.this,
        *(j.this for j in joins if not (j.args.get("using") and isinstance(j.this, exp.Unnest))),
    ]
    seen: set[str] = set()
    for item in items:
        alias = item.args.get("alias")
        name = alias.name if isinstance(alias, exp.TableAlias) and alias.name else None
        if name is None and isinstance(item, exp.Unnest) and isinstance(alias, exp.TableAlias):
            columns = alias.columns  # BigQuery's UNNEST alias names the element
            name = columns[0].name if len(columns) == 1 else None
        if name is None and isinstance(item, exp.Table):
            name = item.name
        if not name:
            continue
        if name.lower() in seen:
            refuse(item, f"Duplicate table alias {name} in the same FROM clause")
            return
        seen.add(name.lower())
