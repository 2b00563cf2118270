"""RANGE window frames with offset bounds: what the ORDER BY rules need of them.

A FLOAT64 key's NULL/NaN/number rank becomes a partition of the frame
(:func:`idcbq.transpile.window_frames.rank_partition`); this module holds what the
ORDER BY rules share with it: the select item an ``ORDER BY <n>`` names
(:func:`ordinal_target`), the check that an offset frame's key is numeric
(:func:`numeric_range_keys`), and a floor for ``COUNT(*)``.

A frame with an UNBOUNDED bound crosses from NULL to NaN to numbers, so no partition
keeps them apart: the single key orders NULLs as GoogleSQL does and only a NaN sorts
elsewhere, so :func:`unbounded_guards` makes a partition holding a NaN raise (and a key whose
bound overflows to +-inf: DuckDB's frame then takes the infinite keys in).

``COUNT(*)`` over a RANGE frame whose start lies after its end (``1 PRECEDING AND
2 PRECEDING``) is 0 in GoogleSQL; DuckDB counts such a frame over a NUMERIC or FLOAT64
key as -1 when no key lies between the two bounds. A count is never negative, so
:func:`count_star_floor` keeps it at 0 or more.
"""

from __future__ import annotations

from sqlglot import exp

from idcbq.errors import TranspileError
from idcbq.transpile.rewrites import detach, error_call
from idcbq.transpile.rules import handles
from idcbq.transpile.window_frames import has_offset


def ordinal_target(key: exp.Expr, order: exp.Order) -> exp.Expr | None:
    """The select item an ``ORDER BY <n>`` names (its value, unaliased), else None."""
    select = order.parent
    if not (isinstance(key, exp.Literal) and key.is_int and isinstance(select, exp.Select)):
        return None
    items = select.expressions
    position = int(key.this)
    if not 1 <= position <= len(items) or any(isinstance(i, exp.Star) for i in items):
        return None
    return items[position - 1].unalias()


def offset_range_window(order: exp.Order) -> exp.Window | None:
    """The window whose ORDER BY is ``order`` if its frame is RANGE with an offset bound."""
    window = order.parent
    return window if isinstance(window, exp.Window) and has_offset(window) else None


def numeric_range_keys(order: exp.Order) -> None:
    """A RANGE frame with an offset needs a numeric ORDER BY key (GoogleSQL's analyzer);
    DuckDB also steps a DATE or TIMESTAMP key. Checked where the key's type is known."""
    for ordered in order.expressions:
        kind = ordered.this.type
        if kind is not None and kind.is_type(*_NOT_NUMERIC):
            raise TranspileError(
                "ORDER BY key must be numeric in a RANGE-based window with OFFSET PRECEDING "
                f"or OFFSET FOLLOWING boundaries, but has type {kind.sql('bigquery')}"
            )


_NOT_NUMERIC = (
    *exp.DataType.TEMPORAL_TYPES,
    *exp.DataType.TEXT_TYPES,
    exp.DataType.Type.BOOLEAN,
    exp.DataType.Type.VARBINARY,
    exp.DataType.Type.BINARY,
)


def unbounded_guards(window: exp.Window, value: exp.Expr) -> None:
    """Raise where a frame with an offset and an UNBOUNDED bound over the FLOAT64 ``value``
    would differ from GoogleSQL's: a partition holding a NaN, a bound past the largest
    double (see the module)."""
    if isinstance(window.this, exp.Identifier):  # a WINDOW clause's definition
        raise TranspileError(
            "unsupported on DuckDB: a named WINDOW with a RANGE frame with an offset over a "
            "FLOAT64 key (its guards need the window's function)",
            hint="write the frame in the function's OVER (...), or use --engine bigquery",
        )
    bounds = [window.args["spec"].args.get(k) for k in ("start", "end")]
    probe = window.copy()
    probe.set("this", exp.LogicalOr(this=exp.IsNan(this=value.copy())))
    probe.set("order", None)
    probe.set("spec", None)
    guards = [(probe, _NAN_UNBOUNDED)]
    # A bound past the largest double: GoogleSQL's frame keeps to finite keys, DuckDB's
    # bound is +-inf and takes the infinite keys in
    finite = exp.not_(exp.Anonymous(this="isinf", expressions=[value.copy()]))
    for offset in (b for b in bounds if isinstance(b, exp.Expr)):
        ends = [
            exp.Anonymous(
                this="isinf", expressions=[op(this=value.copy(), expression=offset.copy())]
            )
            for op in (exp.Add, exp.Sub)
        ]
        guards.append((exp.and_(finite.copy(), exp.or_(*ends)), _OVERFLOW))
    slot = detach(window)
    case = exp.Case(
        ifs=[exp.If(this=test, true=error_call(text)) for test, text in guards], default=window
    )
    case.type = window.type
    slot.replace(case)


_NAN_UNBOUNDED = (
    "unsupported on DuckDB: a RANGE frame with an offset and an UNBOUNDED bound over a "
    "FLOAT64 key that holds NaN (GoogleSQL orders NaN before -inf, DuckDB after +inf)"
)
_OVERFLOW = (
    "unsupported on DuckDB: a RANGE frame whose offset takes a FLOAT64 key past the "
    "largest double (GoogleSQL's frame keeps to finite keys, DuckDB's bound is infinite)"
)


@handles(exp.Window)
def count_star_floor(tree: exp.Expr) -> exp.Expr:
    """``COUNT(*)`` over a RANGE frame with an offset bound is never below 0 (see the module)."""
    for window in list(tree.find_all(exp.Window)):
        if not isinstance(window.this, exp.Count) or not isinstance(window.this.this, exp.Star):
            continue
        order = window.args.get("order")
        if order is None or offset_range_window(order) is None:
            continue
        slot = detach(window)
        floor = exp.Greatest(this=window, expressions=[exp.Literal.number(0)])
        floor.type = window.type
        slot.replace(floor)
    return tree
