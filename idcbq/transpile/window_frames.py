"""``RANGE`` window frames bounded by offsets, as GoogleSQL's reference implementation frames them.

DuckDB differs in four ways, each handled here or refused:

- an INT64 key plus an offset overflows in DuckDB (``RANGE BETWEEN 9223372036854775807
  PRECEDING ...`` raised "Overflow in addition"); GoogleSQL finds no key beyond the
  type's range. The key is ordered as HUGEINT, where the bound is exact:
  :func:`int_range_keys`.
- a FLOAT64 key: DuckDB orders NaN above +inf and needs one ORDER BY key, so the NaN rank
  key :func:`~idcbq.transpile.numeric.nan_order` adds became a partition instead
  (:func:`rank_partition`: GoogleSQL frames a NULL's, a NaN's and a number's rows apart).
  A bound ``key ± offset`` beyond the FLOAT64 range is +/-inf in DuckDB (its frame takes
  the infinite keys) and GoogleSQL keeps it finite: the offset must be a literal no larger
  than ``1e290`` (then ``key ± offset`` rounds within range, in both the same IEEE sum).
- a frame whose end precedes its start (``1 PRECEDING AND 2 PRECEDING``,
  ``3 FOLLOWING AND 1 FOLLOWING``) is empty for a finite key in GoogleSQL, the peers for
  another; DuckDB counted -1 rows in it: :func:`inverted_frames`.

Example:
    >>> import sqlglot
    >>> sql = "SELECT COUNT(*) OVER (ORDER BY k RANGE BETWEEN 1 PRECEDING AND 2 PRECEDING) FROM t"
    >>> inverted_frames(sqlglot.parse_one(sql, read="bigquery")).sql("duckdb")
    'SELECT CASE WHEN k IS NULL OR NOT ISFINITE(CAST(k AS DOUBLE)) THEN COUNT(*) OVER (ORDER BY k NULLS FIRST RANGE BETWEEN CURRENT ROW AND CURRENT ROW) ELSE 0 END FROM t'
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from sqlglot import exp

from idcbq.errors import TranspileError
from idcbq.transpile.rewrites import FILLER
from idcbq.transpile.rules import handles
from idcbq.transpile.semantics import T
from idcbq.transpile.semantics import is_typed as _typed

#: The largest FLOAT64 offset translated: ``max + 1e290`` still rounds to the largest double.
_FLOAT_OFFSET_LIMIT = Decimal("1e290")
_CURRENT = "CURRENT ROW"


def _spec(window: exp.Expr) -> exp.WindowSpec | None:
    spec = window.args.get("spec") if isinstance(window, exp.Window) else None
    if spec is None or str(spec.args.get("kind") or "").upper() != "RANGE":
        return None
    return spec


def _bounds(spec: exp.WindowSpec) -> list[tuple[object, str]]:
    """``(bound, side)`` for start and end: a bound is ``"UNBOUNDED"``, ``"CURRENT ROW"``
    or an offset expression; side ``PRECEDING``/``FOLLOWING`` (``""`` for the current row)."""
    out = []
    for key in ("start", "end"):
        bound = spec.args.get(key)
        side = str(spec.args.get(f"{key}_side") or "").upper()
        if bound is None and key == "end":
            bound = _CURRENT  # ``RANGE 1 PRECEDING``: up to the current row
        if isinstance(bound, str):
            bound = bound.upper()
        out.append((bound, "" if bound == _CURRENT else side))
    return out


def _offsets(spec: exp.WindowSpec) -> list[exp.Expr]:
    return [b for b, _ in _bounds(spec) if isinstance(b, exp.Expr)]


def has_offset(window: exp.Expr) -> bool:
    """A ``RANGE`` frame with at least one offset bound (UNBOUNDED ones allowed)."""
    spec = _spec(window)
    return spec is not None and bool(_offsets(spec))


def offset_range(window: exp.Expr) -> bool:
    """A ``RANGE`` frame with an offset bound and no UNBOUNDED one (the frame of a number
    then holds numbers only)."""
    spec = _spec(window)
    if spec is None or not _offsets(spec):
        return False
    return all(isinstance(b, exp.Expr) or b == _CURRENT for b, _ in _bounds(spec))


def _literal(node: exp.Expr) -> Decimal | None:
    """The value of a number literal (``-1`` too), else None."""
    while isinstance(node, exp.Paren):
        node = node.this
    negative = isinstance(node, exp.Neg)
    inner = node.this if negative else node
    if not (isinstance(inner, exp.Literal) and inner.is_number):
        return None
    try:
        value = Decimal(inner.name)
    except InvalidOperation:
        return None
    return -value if negative else value


def _position(bound: object, side: str) -> Decimal | None:
    """Where a bound lies from the current row's key in ORDER BY's direction, or None."""
    if bound == _CURRENT:
        return Decimal(0)
    value = _literal(bound) if isinstance(bound, exp.Expr) else None
    if value is None:
        return None
    return -value if side == "PRECEDING" else value


#: Aggregates whose value over no rows is 0 (COUNT, COUNTIF) or NULL: the ones an
#: inverted frame is translated for.
_PLAIN_AGGREGATES = (
    exp.Count, exp.Sum, exp.Avg, exp.Min, exp.Max, exp.CountIf, exp.LogicalAnd, exp.LogicalOr,
    exp.Stddev, exp.StddevPop, exp.StddevSamp, exp.Variance, exp.VariancePop, exp.Corr,
    exp.CovarPop, exp.CovarSamp,
)  # fmt: skip


@handles(exp.WindowSpec)
def inverted_frames(tree: exp.Expr) -> exp.Expr:
    """A ``RANGE`` frame whose end may precede its start, as GoogleSQL frames it.

    Offsets on one side that are literals: if inverted, the frame of a finite key is empty
    and that of a NULL, NaN or infinite key its peers (``x ± offset`` is ``x``); DuckDB
    counted -1 rows. The aggregate becomes ``agg FILTER (WHERE key is not finite) OVER
    (... RANGE BETWEEN CURRENT ROW AND CURRENT ROW)`` (its peers, kept only if not finite);
    another function is refused. Offsets that are not literals: an error if inverted.
    """
    for spec in list(tree.find_all(exp.WindowSpec)):
        if not _one_sided(spec):
            continue
        window = spec.parent
        if window.arg_key == "windows":  # WINDOW w AS (...): each OVER w gets its own copy
            _inline_named(window)
            continue
        (start, start_side), (end, end_side) = _bounds(spec)
        first, last = _position(start, start_side), _position(end, end_side)
        if first is None or last is None:
            _guard_inverted(window, (start, start_side), (end, end_side))
        elif first > last:
            _empty_frame(window)
    return tree


def _one_sided(spec: exp.WindowSpec) -> bool:
    """A ``RANGE`` frame whose bounds are both offsets (or the current row) on one side."""
    if str(spec.args.get("kind") or "").upper() != "RANGE" or not _offsets(spec):
        return False
    (start, start_side), (end, end_side) = _bounds(spec)
    # an unbounded end, or PRECEDING to FOLLOWING: never inverted
    return "UNBOUNDED" not in (start, end) and len({start_side, end_side} - {""}) == 1


def _inline_named(definition: exp.Window) -> None:
    """Copy a named window's definition into each ``OVER name`` of its SELECT (then it is
    checked and rewritten as theirs) and drop it from the WINDOW clause."""
    select = definition.parent
    name = definition.this.name.lower()
    for window in list(select.find_all(exp.Window)):
        alias = window.args.get("alias")
        if window is definition or alias is None or alias.name.lower() != name:
            continue
        if any(window.args.get(k) for k in ("partition_by", "order", "spec")):
            raise TranspileError(
                "unsupported on DuckDB: a named window with a RANGE frame that may end before "
                "it starts, extended in OVER"
            )
        for key in ("partition_by", "order", "spec"):
            value = definition.args.get(key)
            if value is not None:
                window.set(
                    key, [v.copy() for v in value] if isinstance(value, list) else value.copy()
                )
        window.set("alias", None)
        inverted_frames(window)
    left = [w for w in select.args.get("windows") or [] if w is not definition]
    select.set("windows", left or None)


def _named_base(window: exp.Window) -> None:
    """``OVER (w RANGE ...)``: copy the named window ``w``'s PARTITION BY and ORDER BY in."""
    alias = window.args.get("alias")
    select = window.find_ancestor(exp.Select)
    if alias is None or select is None or window.args.get("order"):
        return
    for definition in select.args.get("windows") or []:
        if definition.this.name.lower() == alias.name.lower() and not definition.args.get("spec"):
            for key in ("partition_by", "order"):
                value = definition.args.get(key)
                if value is not None:
                    window.set(
                        key, [v.copy() for v in value] if isinstance(value, list) else value.copy()
                    )
            window.set("alias", None)
            return


def _empty_frame(window: exp.Expr) -> None:
    if isinstance(window, exp.Window):
        _named_base(window)
    order = window.args.get("order") if isinstance(window, exp.Window) else None
    agg = window.this if isinstance(window, exp.Window) else None
    if not isinstance(agg, _PLAIN_AGGREGATES) or order is None or len(order.expressions) != 1:
        raise TranspileError(
            "unsupported on DuckDB: a RANGE frame that ends before it starts, over a function "
            "other than COUNT/SUM/AVG/MIN/MAX and the statistical aggregates (DuckDB counts "
            "such a frame wrongly)"
        )
    key = order.expressions[0].this
    # NULL/NaN/±inf keys: their peers (x ± offset is x); finite keys: no row at all
    peers = exp.or_(
        exp.Is(this=key.copy(), expression=exp.null()),
        exp.not_(exp.Anonymous(this="isfinite", expressions=[exp.cast(key.copy(), "DOUBLE")])),
    )
    nothing = exp.Literal.number(0) if isinstance(agg, exp.Count | exp.CountIf) else exp.null()
    nothing.meta[FILLER] = True  # typed by the aggregate beside it, not as INT64
    slot = exp.null()
    window.replace(slot)
    window.set(
        "spec",
        exp.WindowSpec(kind="RANGE", start=_CURRENT, start_side=None, end=_CURRENT, end_side=None),
    )
    slot.replace(exp.Case(ifs=[exp.If(this=peers, true=window)], default=nothing))


def _guard_inverted(window: exp.Expr, start: tuple, end: tuple) -> None:
    """An error where offsets that are not literals make the frame end before it starts."""
    from idcbq.transpile.errors_guards import guard

    (a, a_side), (b, b_side) = start, end
    zero = exp.Literal.number(0)
    a_off = zero if a == _CURRENT else a.copy()
    b_off = zero if b == _CURRENT else b.copy()
    if "PRECEDING" in (a_side, b_side):  # start n PRECEDING .. end m PRECEDING: n < m
        inverted = exp.LT(this=a_off, expression=b_off)
    else:  # start n FOLLOWING .. end m FOLLOWING: n > m
        inverted = exp.GT(this=a_off, expression=b_off)
    slot = exp.null()
    window.replace(slot)
    slot.replace(
        guard(
            window, inverted, "RANGE window frame ends before it starts (not supported on DuckDB)"
        )
    )


def rank_partition(window: exp.Window, rank: exp.Expr) -> None:
    """Partition an offset ``RANGE`` frame by the NULL/NaN/number ``rank`` of its key.

    GoogleSQL's frame of a number holds numbers only (NULL and NaN are within no offset of
    it), a NULL's the NULLs, a NaN's the NaNs; DuckDB orders NaN above +inf and takes one
    ORDER BY key only. The offsets must be literals small enough that ``key ± offset``
    stays a finite FLOAT64 (see the module doc).
    """
    for offset in _offsets(window.args["spec"]):
        value = _literal(offset)
        if value is None or value < 0 or value > _FLOAT_OFFSET_LIMIT:
            raise TranspileError(
                "unsupported on DuckDB: a RANGE frame over a FLOAT64 key whose offset is not "
                "a literal between 0 and 1e290 (GoogleSQL keeps key ± offset finite)"
            )
    window.set("partition_by", [*(window.args.get("partition_by") or []), rank])


@handles(exp.Window)
def int_range_keys(tree: exp.Expr) -> exp.Expr:
    """Order an offset ``RANGE`` frame's INT64 key as HUGEINT (the bound cannot overflow)."""
    for window in tree.find_all(exp.Window):
        spec = _spec(window)
        order = window.args.get("order")
        if spec is None or not _offsets(spec) or order is None or len(order.expressions) != 1:
            continue
        ordered = order.expressions[0]
        key = ordered.this
        if _typed(key, T.BIGINT, T.INT) and not isinstance(key, exp.Literal):
            ordered.set("this", exp.cast(key.copy(), "HUGEINT"))
    return tree


def needs_types(tree: exp.Expr) -> bool:
    """True if a window has a ``RANGE`` frame bounded by an offset."""
    return any(
        str(s.args.get("kind") or "").upper() == "RANGE" and _offsets(s)
        for s in tree.find_all(exp.WindowSpec)
    )


TYPED = (int_range_keys,)
UNTYPED = (inverted_frames,)
