"""Query shapes the strict layer refuses (see :mod:`idcbq.validate.strict_types`).

Where GoogleSQL's analyzer does not run, DuckDB would answer some queries BigQuery
rejects for their shape rather than their types. One walk of each SELECT's own clauses
(never into its subqueries, which get their own) refuses:

- an aggregate in WHERE, GROUP BY or JOIN ... ON; an analytic function there or in
  HAVING; an aggregate of an aggregate, an analytic function inside an aggregate or
  another analytic function;
- in a grouped SELECT (GROUP BY, or an aggregate in SELECT/HAVING), a column that is
  neither grouped nor aggregated. GoogleSQL matches a grouped column (a path such as
  ``s.a``) anywhere, but a grouped expression (``x + 1``, ``a[OFFSET(0)]``) only as a
  whole SELECT or ORDER BY item;
- HAVING without grouping, an aggregate in ORDER BY without grouping, QUALIFY without
  an analytic function, a GROUP BY/ORDER BY ordinal out of range, a GROUP BY ordinal
  naming an aggregate or analytic column;
- a scalar, ARRAY or IN subquery of more than one column.

Only a SELECT whose columns cannot come from an enclosing query (not a subquery in an
expression or FROM) has its columns judged: a correlated name is not refused.

Example:
    >>> from idcbq.validate import check
    >>> sql = "SELECT x FROM UNNEST([1, 2]) AS x WHERE SUM(x) > 1"
    >>> str(check(sql, googlesql=False)[1][0]).splitlines()[0]
    '<sql>:1:41: Aggregate function SUM not allowed in WHERE clause'
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlglot import exp

from idcbq.validate.strict_clauses import check_clauses
from idcbq.validate.strict_joins import TABLE_COLUMNS, check_ambiguous
from idcbq.validate.type_rules import Add

#: sqlglot's AggFunc subclasses that are analytic-only in BigQuery (not aggregates).
_ANALYTIC = (
    exp.CumeDist,
    exp.DenseRank,
    exp.FirstValue,
    exp.Lag,
    exp.LastValue,
    exp.Lead,
    exp.NthValue,
    exp.Ntile,
    exp.PercentRank,
    exp.Rank,
    exp.RowNumber,
)
#: BigQuery aggregates sqlglot does not know (parsed as anonymous calls).
_ANONYMOUS_AGGREGATES = frozenset(
    ["elementwise_avg", "elementwise_sum", "st_centroid_agg", "st_extent", "st_union_agg"]
)
_CLAUSE_NAMES = {
    "where": "WHERE clause",
    "group": "GROUP BY clause",
    "having": "HAVING clause",
    "joins": "JOIN ON clause",
}


@dataclass
class _Walk:
    """What one walk of a SELECT's own clauses found."""

    aggregates: dict[str, list[exp.Expr]] = field(default_factory=dict)
    windows: dict[str, list[exp.Expr]] = field(default_factory=dict)


def check_select(node: exp.Select, refuse: Add) -> None:
    """Every shape rule for one SELECT (its own clauses, not its subqueries)."""
    check_clauses(node, refuse)
    walk = _Walk()
    for clause, root in _clauses(node):
        _visit(root, clause, False, False, walk, refuse)
    if not node.args.get("from_") and not node.args.get("from"):
        _without_from(node, walk, refuse)
        return
    grouped = _grouped(node, walk)
    if node.args.get("having") is not None and not grouped:
        refuse(
            node.args["having"], "The HAVING clause requires GROUP BY or aggregation to be present"
        )
    if walk.aggregates.get("order") and not grouped:
        refuse(
            walk.aggregates["order"][0],
            "The ORDER BY clause only allows aggregation if GROUP BY or SELECT list "
            "aggregation is present",
        )
    _qualify(node, refuse)
    _ordinals(node, refuse)
    _grouping_calls(node, walk, refuse)
    if grouped and not _may_correlate(node):
        _grouped_columns(node, refuse)
    check_ambiguous(node, refuse)


_WITHOUT_FROM = {
    "where": "a WHERE",
    "group": "a GROUP BY",
    "having": "a HAVING",
    "qualify": "a QUALIFY",
    "order": "an ORDER BY",
}


def _without_from(node: exp.Select, walk: _Walk, refuse: Add) -> None:
    """A SELECT without FROM has one row: no filter, grouping, order, star, aggregate."""
    for key, words in _WITHOUT_FROM.items():
        if node.args.get(key) is not None:
            refuse(_where(node.args[key]), f"Query without FROM clause cannot have {words} clause")
            return
    if node.args.get("distinct") is not None:
        refuse(node, "Query without FROM clause cannot use SELECT DISTINCT")
    elif any(_is_star(item) for item in node.expressions):
        refuse(node, "SELECT * must have a FROM clause")
    elif walk.aggregates.get("expressions"):
        found = walk.aggregates["expressions"][0]
        refuse(
            found, f"Aggregate function {_name(found)} not allowed in SELECT without FROM clause"
        )
    elif walk.windows.get("expressions"):
        refuse(
            walk.windows["expressions"][0],
            "Analytic function not allowed in SELECT without FROM clause",
        )


def _where(clause: exp.Expr) -> exp.Expr:
    """The condition of WHERE/HAVING/QUALIFY (it has a position; the clause may not)."""
    return clause.this if isinstance(clause, exp.Where | exp.Having | exp.Qualify) else clause


def _clauses(node: exp.Select) -> Iterator[tuple[str, exp.Expr]]:
    for key in ("expressions", "where", "group", "having", "qualify", "order"):
        value = node.args.get(key)
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, exp.Expr):
                yield key, item
    for join in node.args.get("joins") or ():
        if isinstance(join.args.get("on"), exp.Expr):
            yield "joins", join.args["on"]


def is_aggregate(node: exp.Expr) -> bool:
    """A call of a BigQuery aggregate function (windowed or not)."""
    if isinstance(node, exp.Anonymous):
        return node.name.lower() in _ANONYMOUS_AGGREGATES
    return isinstance(node, exp.AggFunc) and not isinstance(node, _ANALYTIC)


def _windowed(node: exp.Expr) -> bool:
    """``node`` is the function of an OVER clause (``SUM(x) OVER (...)``)."""
    child, parent = node, node.parent
    while isinstance(parent, exp.IgnoreNulls | exp.RespectNulls):
        child, parent = parent, parent.parent
    return isinstance(parent, exp.Window) and parent.this is child


def _name(node: exp.Expr) -> str:
    if isinstance(node, exp.Count) and isinstance(node.this, exp.Star):
        return "COUNT(*)"
    return node.sql("bigquery").split("(")[0].upper()


def _visit(
    node: exp.Expr, clause: str, in_aggregate: bool, in_window: bool, walk: _Walk, refuse: Add
) -> None:
    """Depth first over one clause; a subquery is left to its own SELECT's walk."""
    if isinstance(node, exp.Query | exp.Subquery):
        _subquery_columns(node, refuse)
        return
    if isinstance(node, exp.Window) and isinstance(node.this, exp.Expr):
        walk.windows.setdefault(clause, []).append(node)
        if clause in ("where", "group", "having", "joins"):
            refuse(node, f"Analytic function not allowed in {_CLAUSE_NAMES[clause]}")
        elif in_window:
            refuse(node, "Analytic function cannot be an argument of another analytic function")
        elif in_aggregate:
            refuse(node, "Analytic functions cannot be arguments to aggregate functions")
        in_window = True
    elif isinstance(node, _ANALYTIC) and not _windowed(node):
        refuse(node, f"Analytic function {_name(node)} cannot be called without an OVER clause")
    elif is_aggregate(node) and not _windowed(node):
        walk.aggregates.setdefault(clause, []).append(node)
        _distinct_order(node, refuse)
        if clause in ("where", "group", "joins"):
            refuse(node, f"Aggregate function {_name(node)} not allowed in {_CLAUSE_NAMES[clause]}")
        elif in_aggregate:
            refuse(node, "Aggregations of aggregations are not allowed")
        in_aggregate = True
    for child in node.iter_expressions():
        _visit(child, clause, in_aggregate, in_window, walk, refuse)


def _distinct_order(node: exp.Expr, refuse: Add) -> None:
    """``ARRAY_AGG(DISTINCT x ORDER BY y)``: with DISTINCT, ORDER BY only the arguments."""
    order = node.this
    while isinstance(order, exp.Limit | exp.IgnoreNulls | exp.RespectNulls):
        order = order.this
    if not isinstance(order, exp.Order) or not isinstance(order.this, exp.Distinct):
        return
    arguments = {_text(a) for a in order.this.expressions}
    for ordered in order.expressions:
        if _text(ordered.this) not in arguments:
            refuse(
                ordered,
                "An aggregate function that has both DISTINCT and ORDER BY arguments can only "
                "ORDER BY expressions that are arguments to the function",
            )
            return


def _grouping_calls(node: exp.Select, walk: _Walk, refuse: Add) -> None:
    """GROUPING(x) needs x among the GROUP BY keys (ROLLUP, CUBE, GROUPING SETS too)."""
    calls = [a for found in walk.aggregates.values() for a in found if isinstance(a, exp.Grouping)]
    if not calls:
        return
    group = node.args.get("group")
    texts = {_text(k) for k in _flat_keys(group)} if group is not None else set()
    aliases = {i.alias.lower() for i in node.expressions if isinstance(i, exp.Alias)}
    for call in calls:
        for argument in call.expressions:
            text = _text(argument)
            if text not in texts and text not in aliases and not any(text in t for t in texts):
                refuse(
                    call,
                    "GROUPING must have an argument that exists within the group-by expression list",
                )
                return


def _flat_keys(group: exp.Group) -> list[exp.Expr]:
    """Every key of a GROUP BY, inside ROLLUP/CUBE/GROUPING SETS and tuples too."""
    out: list[exp.Expr] = []
    pending = [
        v
        for value in group.args.values()
        for v in (value if isinstance(value, list) else [value])
        if isinstance(v, exp.Expr)
    ]
    while pending:
        key = pending.pop()
        while isinstance(key, exp.Paren):
            key = key.this
        if isinstance(key, exp.Rollup | exp.Cube | exp.GroupingSets | exp.Tuple):
            pending.extend(key.expressions)
        else:
            out.append(key)
    return out


def _subquery_columns(node: exp.Expr, refuse: Add) -> None:
    """A subquery used as a value has one column (unless SELECT AS STRUCT)."""
    parent = node.parent
    if isinstance(parent, exp.Exists) or parent is None:
        return
    query = node.this if isinstance(node, exp.Subquery) else node
    while isinstance(query, exp.Subquery):
        query = query.this
    while isinstance(query, exp.SetOperation):
        query = query.left
        while isinstance(query, exp.Subquery):
            query = query.this
    if not isinstance(query, exp.Select) or query.args.get("kind"):
        return
    items = query.expressions
    if len(items) < 2 or any(_is_star(i) for i in items):
        return
    if isinstance(parent, exp.In):
        refuse(node, "Subquery of type IN must have only one output column")
    elif isinstance(parent, exp.Array):
        refuse(
            node, "ARRAY subquery cannot have more than one column unless using SELECT AS STRUCT"
        )
    elif isinstance(node, exp.Subquery):
        refuse(
            node, "Scalar subquery cannot have more than one column unless using SELECT AS STRUCT"
        )


def _is_star(item: exp.Expr) -> bool:
    return isinstance(item, exp.Star) or (isinstance(item, exp.Column) and item.is_star)


def _grouped(node: exp.Select, walk: _Walk) -> bool:
    group = node.args.get("group")
    return group is not None or bool(
        walk.aggregates.get("expressions") or walk.aggregates.get("having")
    )


def _qualify(node: exp.Select, refuse: Add) -> None:
    qualify = node.args.get("qualify")
    if qualify is None or qualify.find(exp.Window):
        return
    if any(item.find(exp.Window) for item in node.expressions):
        return
    refuse(qualify.this, "The QUALIFY clause requires analytic function to be present")


def _ordinal(key: exp.Expr) -> int | None:
    if isinstance(key, exp.Literal) and not key.is_string and key.this.isdigit():
        return int(key.this)
    return None


def _ordinals(node: exp.Select, refuse: Add) -> None:
    items = node.expressions
    if any(_is_star(i) for i in items):
        return
    group = node.args.get("group")
    order = node.args.get("order")
    keys = [("GROUP BY", k) for k in (group.expressions if group is not None else ())]
    aliases = {i.alias.lower(): n for n, i in enumerate(items, 1) if isinstance(i, exp.Alias)}
    for _, key in keys:  # GROUP BY n where n names an aggregate of the SELECT list
        if isinstance(key, exp.Column) and not key.table and key.name.lower() in aliases:
            item = items[aliases[key.name.lower()] - 1]
            if any(is_aggregate(a) and not _windowed(a) for a in _own_nodes(item)):
                refuse(
                    key,
                    f"Column {key.name} contains an aggregation function, which is not allowed in GROUP BY",
                )
    keys += [("ORDER BY", o.this) for o in (order.expressions if order is not None else ())]
    for word, key in keys:
        n = _ordinal(key)
        if n is None:
            continue
        if not 1 <= n <= len(items):
            refuse(key, f"{word} is out of SELECT column number range: {n}")
        elif word == "GROUP BY":
            item = items[n - 1]
            if any(is_aggregate(a) and not _windowed(a) for a in _own_nodes(item)):
                refuse(
                    key,
                    f"Column {n} contains an aggregation function, which is not allowed in GROUP BY",
                )
            elif any(isinstance(w, exp.Window) for w in _own_nodes(item)):
                refuse(
                    key,
                    f"Column {n} contains an analytic function, which is not allowed in GROUP BY",
                )


def _own_nodes(node: exp.Expr) -> Iterator[exp.Expr]:
    """``node`` and its descendants, not entering subqueries."""
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, exp.Query | exp.Subquery):
            continue
        yield current
        stack.extend(current.iter_expressions())


def _may_correlate(node: exp.Select) -> bool:
    """True if an enclosing query could give ``node`` a column (not a CTE body, not a
    set operation's branch of one)."""
    parent = node.parent
    while parent is not None:
        if isinstance(parent, exp.CTE):
            return False
        if isinstance(parent, exp.Select):
            return True
        parent = parent.parent
    return False


# -- grouped columns ---------------------------------------------------------------------


def _group_keys(node: exp.Select) -> list[exp.Expr] | None:
    """The grouping keys (ordinals and SELECT aliases resolved); None: not modelled."""
    group = node.args.get("group")
    if group is None:
        return []
    if group.args.get("all") or any(
        group.args.get(k) for k in ("rollup", "cube", "grouping_sets", "totals")
    ):
        return None
    items = node.expressions
    aliases = {i.alias.lower(): i.this for i in items if isinstance(i, exp.Alias)}
    keys: list[exp.Expr] = []
    for key in _flat_keys(group):
        n = _ordinal(key)
        if n is not None:
            if not 1 <= n <= len(items):
                return None
            keys.append(items[n - 1].unalias())
            continue
        if isinstance(key, exp.Column) and not key.table and key.name.lower() in aliases:
            keys.append(aliases[key.name.lower()])
        keys.append(key)
    return keys


def _path(node: exp.Expr) -> list[str] | None:
    """``["t", "s", "a"]`` for a column path ``t.s.a``; None for any other expression."""
    if isinstance(node, exp.Column) and not node.is_star:
        return [p.name.lower() for p in node.parts]
    if isinstance(node, exp.Dot):
        inner = _path(node.this)
        if inner is not None and isinstance(node.expression, exp.Identifier):
            return [*inner, node.expression.name.lower()]
    return None


def _text(node: exp.Expr) -> str:
    while isinstance(node, exp.Paren):
        node = node.this
    return node.sql("bigquery").lower()


def _star_columns(node: exp.Select, star: exp.Expr) -> list[str]:
    """The columns ``*`` (or ``t.*``) reads when the SELECT reads one schema table alone
    (its columns put in meta by the strict type pass); [] when not known."""
    source = (node.args.get("from_") or node.args.get("from") or exp.From()).this
    if node.args.get("joins") or not isinstance(source, exp.Table):
        return []
    if isinstance(star, exp.Column) and star.table.lower() not in (
        source.alias_or_name.lower(),
        source.name.lower(),
    ):
        return []
    inner = star.this if isinstance(star, exp.Column) else star
    if not isinstance(inner, exp.Star) or inner.args.get("replace"):
        return []  # * REPLACE (...): left to the analyzer
    dropped = {c.name.lower() for c in inner.args.get("except_") or inner.args.get("except") or ()}
    return [c for c in source.meta.get(TABLE_COLUMNS) or [] if c.lower() not in dropped]


def _grouped_columns(node: exp.Select, refuse: Add) -> None:
    keys = _group_keys(node)
    if keys is None:
        return
    paths = [p for p in (_path(k) for k in keys) if p is not None]
    texts = {_text(k) for k in keys}
    names = {p[-1] for p in paths} | {p[0] for p in paths}
    aliases = {i.alias.lower() for i in node.expressions if isinstance(i, exp.Alias)}

    def check(value: exp.Expr, clause: str, whole: bool) -> bool:
        """False once it refused (one refusal per item)."""
        while isinstance(value, exp.Paren):
            value = value.this
        if whole and _text(value) in texts:
            return True
        if isinstance(value, exp.Query | exp.Subquery) or (
            is_aggregate(value) and not _windowed(value)
        ):
            return True
        path = _path(value)
        if path is not None:
            if clause != "expressions" and len(path) == 1 and path[0] in aliases:
                return True  # a SELECT alias: its expression is checked as an item
            if (
                names & set(path)
                or value.type is None
                or value.type.this == exp.DataType.Type.UNKNOWN
            ):
                return True
            what = {
                "expressions": "SELECT list",
                "having": "HAVING clause",
                "order": "ORDER BY clause",
            }[clause]
            refuse(
                value,
                f"{what} expression references {value.sql('bigquery')} which is neither grouped nor aggregated",
            )
            return False
        return all(check(child, clause, False) for child in value.iter_expressions())

    for item in node.expressions:
        if not _is_star(item):
            check(item.unalias(), "expressions", True)
            continue
        for name in _star_columns(node, item):
            if name.lower() not in names:
                refuse(
                    item,
                    f"Star expansion expression references column {name} which is neither "
                    "grouped nor aggregated",
                )
                break
    having = node.args.get("having")
    if having is not None:
        check(having.this, "having", True)
    order = node.args.get("order")
    for ordered in order.expressions if order is not None else ():
        if _ordinal(ordered.this) is None:
            check(ordered.this, "order", True)
