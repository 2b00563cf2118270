"""Calls whose arguments GoogleSQL's analyzer refuses (see strict_types, type_functions).

Each rule names one function (or operator) and refuses only an argument whose type or
shape is certain: ``COUNT(DISTINCT *)``, ``x IN UNNEST(array)`` of another element
type, ``BIT_AND`` of a FLOAT64, ``DATE(20200101)``, ``GENERATE_TIMESTAMP_ARRAY`` by
months, ``EXTRACT(... FROM datetime AT TIME ZONE ...)``, ``STRING_AGG`` with a NULL
separator, ``ARRAY_IS_DISTINCT`` of JSON, a number plus an INTERVAL,
``DATE_DIFF(DAY, a, b)`` (the part comes last).

Example:
    >>> from idcbq.validate import check
    >>> str(check("SELECT 1 + INTERVAL 1 DAY AS x", googlesql=False)[1][0]).splitlines()[0]
    '<sql>:1:8: No matching signature for operator + for argument types: INT64, INTERVAL'
"""

from __future__ import annotations

from sqlglot import exp

from idcbq.validate.type_rules import (
    ARRAY,
    JSON,
    NUM,
    Add,
    comparable,
    family,
    is_float,
    name_of,
    one_signature,
    type_family,
)

T = exp.DataType.Type
_DAY_OR_FINER = frozenset(["DAY", "HOUR", "MINUTE", "SECOND", "MILLISECOND", "MICROSECOND"])
_PART_NAMES = frozenset(
    ["YEAR", "QUARTER", "MONTH", "WEEK", "ISOWEEK", "ISOYEAR", "DAY", "HOUR", "MINUTE", "SECOND"]
)
BIT_NAMES = {
    exp.BitwiseAndAgg: "BIT_AND",
    exp.BitwiseOrAgg: "BIT_OR",
    exp.BitwiseXorAgg: "BIT_XOR",
}


def _plain(node: exp.Expr | None) -> exp.Expr | None:
    while isinstance(node, exp.Paren):
        node = node.this
    return node


def count_distinct_star(node: exp.Count, refuse: Add) -> None:
    value = node.this
    if isinstance(value, exp.Distinct) and any(isinstance(v, exp.Star) for v in value.expressions):
        refuse(node, "COUNT(*) cannot be used with DISTINCT")


def in_unnest_or_query(node: exp.In, refuse: Add) -> None:
    """``x IN UNNEST(array)`` / ``x IN (SELECT y ...)``: x and the elements (or y) need
    a common type."""
    query = node.args.get("query")
    if query is not None:
        select = query.this if isinstance(query, exp.Subquery) else query
        if isinstance(select, exp.Select) and len(select.expressions) == 1:
            column = _plain(select.expressions[0].unalias())
            sure = isinstance(column, exp.Cast) or (
                isinstance(column, exp.Column) and not column.is_star
            )
            mine = isinstance(_plain(node.this), exp.Column | exp.Cast)
            if sure and mine and comparable(node.this, column, ordering=False):
                refuse(
                    node,
                    "Cannot execute IN subquery with uncomparable types "
                    f"{name_of(node.this)} and {name_of(column)}",
                )
        return
    unnest = node.args.get("unnest")
    if not isinstance(unnest, exp.Unnest) or len(unnest.expressions) != 1:
        return
    array = _plain(unnest.expressions[0])
    kind = array.type if array is not None else None
    if kind is None or not kind.is_type(T.ARRAY) or not kind.expressions:
        return
    if not isinstance(_plain(node.this), exp.Column | exp.Cast):
        return
    if isinstance(array, exp.Array):  # a [...] literal: its elements coerce one by one
        elements = list(array.expressions)
    else:
        element = exp.Literal.number(0)  # a stand-in typed as the array's element
        element.type = kind.expressions[0]
        elements = [element]
    if any(comparable(node.this, e, ordering=False) for e in elements):
        refuse(
            node,
            "No matching signature for operator IN UNNEST for argument types: "
            f"{name_of(node.this)}, {name_of(array)}",
        )


def bit_aggregate(node: exp.Expr, refuse: Add) -> None:
    value = _plain(node.this)
    if not isinstance(value, exp.Column | exp.Cast | exp.Literal) or family(value) is None:
        return
    if family(value) != NUM or is_float(value) or value.type.this in (T.DECIMAL, T.BIGDECIMAL):
        refuse(node, one_signature(f"aggregate function {BIT_NAMES[type(node)]}", value))


def date_of_number(node: exp.Date, refuse: Add) -> None:
    """DATE(20200101): DATE takes a timestamp, a datetime, a string or year, month, day."""
    value = _plain(node.this)
    if (
        not node.expressions
        and not node.args.get("zone")
        and isinstance(value, exp.Literal | exp.Column)
    ) and family(value) == NUM:
        refuse(node, one_signature("function DATE", value))


def timestamp_array_step(node: exp.Expr, refuse: Add) -> None:
    step = node.args.get("step")
    if isinstance(step, exp.Interval) and isinstance(step.args.get("unit"), exp.Var):
        part = step.args["unit"].name.upper()
        if part not in _DAY_OR_FINER:
            refuse(node, f"GENERATE_TIMESTAMP_ARRAY does not support the {part} date part")


def extract_at_time_zone(node: exp.Extract, refuse: Add) -> bool:
    """EXTRACT(part FROM datetime AT TIME ZONE tz): only a TIMESTAMP has a time zone."""
    value = node.expression
    inner = _plain(value.this) if isinstance(value, exp.AtTimeZone) else None
    if not isinstance(inner, exp.Column | exp.Cast) or inner.type is None:
        return False
    what = {T.DATE: "DATE", T.TIME: "TIME", T.DATETIME: "DATETIME", T.TIMESTAMP: "DATETIME"}
    if inner.type.this not in what:
        return False
    refuse(node, f"EXTRACT from {what[inner.type.this]} does not support AT TIME ZONE")
    return True


def null_separator(node: exp.GroupConcat, refuse: Add) -> bool:
    separator = _plain(node.args.get("separator"))
    if isinstance(separator, exp.Cast):
        separator = _plain(separator.this)
    if isinstance(separator, exp.Null):
        refuse(node, "Argument 2 to STRING_AGG must be non-NULL")
        return True
    return False


def array_is_distinct(node: exp.Anonymous, refuse: Add) -> None:
    if node.name.upper() != "ARRAY_IS_DISTINCT" or len(node.expressions) != 1:
        return
    kind = node.expressions[0].type
    if kind is None or not kind.is_type(T.ARRAY) or not kind.expressions:
        return
    element = kind.expressions[0]
    if type_family(element) in (JSON, ARRAY) or element.is_type(T.GEOGRAPHY):
        refuse(
            node,
            f"ARRAY_IS_DISTINCT cannot be used on argument of type {name_of(node.expressions[0])} "
            "because the array's element type does not support grouping",
        )


def number_plus_interval(node: exp.Binary, refuse: Add) -> bool:
    """``1 + INTERVAL 1 DAY``: an INTERVAL adds to a date or time, never to a number."""
    left, right = _plain(node.this), _plain(node.expression)
    for a, b in ((left, right), (right, left)):
        if (
            isinstance(b, exp.Interval)
            and isinstance(a, exp.Column | exp.Literal | exp.Cast)
            and family(a) == NUM
        ):
            symbol = "+" if isinstance(node, exp.Add) else "-"
            refuse(
                node,
                f"No matching signature for operator {symbol} for argument types: {name_of(a)}, INTERVAL",
            )
            return True
    return False


def part_first(node: exp.Expr, refuse: Add) -> bool:
    """``DATE_DIFF(DAY, a, b)``: the date part is the last argument, not a column."""
    first = _plain(node.this)
    if not isinstance(first, exp.Column) or first.table or first.name.upper() not in _PART_NAMES:
        return False
    if first.type is not None and first.type.this != T.UNKNOWN:
        return False  # a real column named like a part
    refuse(first, f"Unrecognized name: {first.name} (the date part comes last)")
    return True
