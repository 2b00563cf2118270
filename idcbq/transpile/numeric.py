"""Typed rewrites for numbers where DuckDB silently differs from GoogleSQL (issue 18 §5).

Each reads ``node.type`` (``idcbq.transpile.types.annotate``); probes in
``tests/probes/numbers.yaml`` compare with GoogleSQL's reference implementation:

- ``nan_comparisons``: ``NaN = NaN``, ``NaN < x``, ``NaN > x`` are FALSE, ``NaN != NaN``
  TRUE (DuckDB: NaN equals itself, the largest value); so is ``NaN IN (NaN)``.
  ``NULLIF``, simple CASE, ``IN UNNEST``/``IN (SELECT)`` and join keys: ``nan_unknown``.
- ``nan_order``: ORDER BY a FLOAT64 puts NaN after NULL and before ``-inf`` (ASC).
- ``nan_extremes``: ``MIN``/``MAX``/``LEAST``/``GREATEST`` with a NaN are NaN (untyped
  values decided at run time, :mod:`idcbq.transpile.nan_unknown`).
- INT64 shifts and ``BIT_COUNT`` on the 64-bit pattern: :mod:`idcbq.transpile.bits`.
- ``ROUND(x, d)``/``TRUNC(x, d)`` of a FLOAT64 as if ``x * 10^d`` were exact:
  :mod:`idcbq.transpile.float_digits`.
- ``numeric_results``: ``TRUNC``/``CEIL``/``FLOOR``/``SIGN``/``ABS`` of NUMERIC stay NUMERIC;
  ``DIV`` of NUMERIC truncates.
- ``safe_divide_overflow``: ``SAFE_DIVIDE(1e300, 1e-300)`` is NULL (DuckDB: inf).
- ``range_bucket``: ``RANGE_BUCKET`` (DuckDB has no such function).
- ``refused``: BIGNUMERIC (DuckDB decimals hold 38 digits, BigQuery's 76) and
  ``TO_JSON_STRING`` of NUMERIC are loud.
"""

from __future__ import annotations

from sqlglot import exp

from idcbq.errors import TranspileError
from idcbq.transpile.bits import TYPED as BITS
from idcbq.transpile.float_digits import float_digits
from idcbq.transpile.nan_unknown import (
    NAN_EQUALITIES,
    NAN_TRIGGERS,
    alias_value,
    distinct_nan_order,
    duck_fragment,
    is_unknown,
    least_of_unknown,
    maybe_nan_pair,
    min_of_unknown,
    rank_value,
    runtime_isnan,
)
from idcbq.transpile.numeric_exact import exact_int_quotient
from idcbq.transpile.range_frames import (
    numeric_range_keys,
    offset_range_window,
    ordinal_target,
    unbounded_guards,
)
from idcbq.transpile.rewrites import detach
from idcbq.transpile.rules import handles, inspects
from idcbq.transpile.semantics import T, is_numeric_cast, is_typed
from idcbq.transpile.set_order import wrap_float_set_order
from idcbq.transpile.window_frames import offset_range, rank_partition


def _typed(node: exp.Expr, *types: exp.DataType.Type) -> bool:
    """``is_typed``, lenient on an unknown type without the analysis: the FLOAT64
    questions test such a value at run time (``runtime_isnan``, the TYPEOF guards of
    :mod:`idcbq.transpile.nan_unknown`). The NUMERIC ones (``numeric_results``: ABS or
    TRUNC of a NUMERIC) are not proven harmless: real queries ask them of CTE columns
    sqlglot cannot type (ABS(dotProduct)), so they stay lenient as a known gap."""
    return is_typed(node, *types, unknown=False)


_FLOAT = (T.DOUBLE, T.FLOAT)
_DECIMAL = (T.DECIMAL,)


def _nan() -> exp.Expr:
    return exp.cast(exp.Literal.string("nan"), "DOUBLE")


def _is_float(node: exp.Expr | None) -> bool:
    return node is not None and _typed(node, *_FLOAT)


def _nan_test(value: exp.Expr) -> exp.Expr:
    """``ISNAN(value)`` of a FLOAT64; decided at run time for an untyped value."""
    return exp.IsNan(this=value.copy()) if _is_float(value) else runtime_isnan(value)


def _finite_literal(node: exp.Expr) -> bool:
    inner = node.this if isinstance(node, exp.Neg) else node
    return isinstance(inner, exp.Literal) and inner.is_number


def _same_with_literal(node: exp.Expr) -> bool:
    """DuckDB already agrees when one side is a number literal and NaN gives the same:
    ``NaN = 1`` and ``NaN < 1`` are FALSE, ``NaN != 1`` TRUE in both (not ``NaN > 1``)."""
    left, right = node.this, node.expression
    if isinstance(node, exp.EQ | exp.NEQ):
        return _finite_literal(left) or _finite_literal(right)
    if isinstance(node, exp.LT | exp.LTE):
        return _finite_literal(right)  # x < 1: NaN largest in DuckDB -> FALSE
    return _finite_literal(left)  # 1 > x


@handles(exp.Between, exp.In, exp.EQ, exp.NEQ, exp.LT, exp.LTE, exp.GT, exp.GTE)
def nan_comparisons(tree: exp.Expr) -> exp.Expr:
    """Comparisons of FLOAT64 values: any NaN makes them FALSE (``!=``: TRUE).

    ``x BETWEEN a AND b`` is ``a <= x AND x <= b`` first (``x`` without a volatile call).
    """
    for node in list(tree.find_all(exp.Between)):
        parts = (node.this, node.args.get("low"), node.args.get("high"))
        if not any(_is_float(p) for p in parts) or node.this.find(exp.Rand, exp.Uuid):
            continue
        low = exp.LTE(this=parts[1].copy(), expression=parts[0].copy())
        high = exp.LTE(this=parts[0].copy(), expression=parts[2].copy())
        for side, (a, b) in ((low, (parts[1], parts[0])), (high, (parts[0], parts[2]))):
            side.this.type, side.expression.type = a.type, b.type
        node.replace(exp.paren(exp.and_(low, high)))
    for node in list(tree.find_all(exp.In)):
        value, items = node.this, node.expressions
        if not items or node.args.get("query") or node.args.get("unnest"):
            continue
        if isinstance(node.parent, exp.Pivot):
            continue  # PIVOT/UNPIVOT's FOR x IN (...): a list of columns, no comparison
        if not any(_is_float(p) for p in (value, *items)) or value.find(exp.Rand, exp.Uuid):
            continue
        if all(_finite_literal(item) for item in items):
            continue  # NaN IN (1.5) is FALSE in both; keeps filter pushdown
        # x IN (a, b) is x = a OR x = b (the same NULLs); each = gets the NaN rule below
        tests = []
        for item in items:
            test = exp.EQ(this=value.copy(), expression=item.copy())
            test.this.type, test.expression.type = value.type, item.type
            tests.append(test)
        node.replace(exp.paren(exp.or_(*tests)))
    kinds = (exp.EQ, exp.NEQ, exp.LT, exp.LTE, exp.GT, exp.GTE)
    for node in list(tree.find_all(*kinds)):
        left, right = node.this, node.expression
        if isinstance(node, exp.EQ) and node.find_ancestor(exp.Join):
            continue  # join keys stay keys: nan_join_keys guards them
        untyped = not (_is_float(left) or _is_float(right))
        if untyped and not maybe_nan_pair(left, right):
            continue
        if _same_with_literal(node):
            continue  # keeps filter pushdown for the common ``x = 1.5`` / ``x < 2``
        nans = [_nan_test(side) for side in (left, right) if _is_float(side) or is_unknown(side)]
        any_nan = nans[0] if len(nans) == 1 else exp.or_(*nans)
        nulls = exp.or_(
            exp.Is(this=left.copy(), expression=exp.null()),
            exp.Is(this=right.copy(), expression=exp.null()),
        )
        outcome = exp.Boolean(this=isinstance(node, exp.NEQ))
        detach(node).replace(
            exp.Case(
                ifs=[exp.If(this=nulls, true=exp.null()), exp.If(this=any_nan, true=outcome)],
                default=node,
            )
        )
    return tree


@handles(exp.Order)
def nan_order(tree: exp.Expr) -> exp.Expr:
    """ORDER BY a FLOAT64: NULL, NaN, then numbers (ASC); reversed for DESC."""
    for order in list(tree.find_all(exp.Order)):
        if isinstance(order.parent, exp.SetOperation):
            wrapper = wrap_float_set_order(order, _is_float)
            if wrapper is None:
                continue  # no FLOAT64 key: DuckDB orders the output columns alike
            if wrapper.parent is None:
                tree = wrapper
        keys = []
        # DuckDB orders a DISTINCT aggregate only by its arguments: no rank key can be
        # added there; ARRAY_AGG's NaN is moved in its result instead
        distinct = isinstance(order.this, exp.Distinct)
        if distinct and len(order.expressions) == 1 and _is_float(order.expressions[0].this):
            distinct_nan_order(order)
        if offset_range_window(order) is not None:
            numeric_range_keys(order)
        for ordered in order.expressions:
            key = ordered.this
            rank_of = key
            target = ordinal_target(key, order)
            if distinct:
                maybe = False
            elif target is not None:  # ORDER BY 2: the select item's value is ranked
                maybe = _is_float(target)
                rank_of = target
            elif not _is_float(key) and is_unknown(key) and not isinstance(key, exp.Literal):
                rank_of = rank_value(key, order)
                maybe = rank_of is not None
            else:
                maybe = _is_float(key)
                rank_of = alias_value(key, order) if maybe else key
            if isinstance(ordered, exp.Ordered) and maybe and (target or not key.is_number):
                if offset_range(order.parent) and len(order.expressions) == 1:
                    # DuckDB frames an offset RANGE by one key: the rank partitions instead
                    rank_partition(order.parent, _class_rank(rank_of, 0))
                    keys.append(ordered)
                    continue
                if offset_range_window(order) is not None and len(order.expressions) == 1:
                    # an UNBOUNDED bound as well: see range_frames.unbounded_guards
                    unbounded_guards(order.parent, rank_of)
                    keys.append(ordered)
                    continue
                desc = bool(ordered.args.get("desc"))
                nulls_first = bool(ordered.args.get("nulls_first"))
                null_rank = (0 if nulls_first else 3) if not desc else (3 if nulls_first else 0)
                rank = _class_rank(rank_of, null_rank)
                keys.append(exp.Ordered(this=rank, desc=desc, nulls_first=False))
            keys.append(ordered)
        order.set("expressions", keys)
    return tree


def _class_rank(value: exp.Expr, null_rank: int) -> exp.Expr:
    """``null_rank`` for NULL, 1 for NaN, 2 for a number."""
    return exp.Case(
        ifs=[
            exp.If(
                this=exp.Is(this=value.copy(), expression=exp.null()),
                true=exp.Literal.number(null_rank),
            ),
            exp.If(this=_nan_test(value), true=exp.Literal.number(1)),
        ],
        default=exp.Literal.number(2),
    )


@handles(exp.Min, exp.Max, exp.Least, exp.Greatest)
def nan_extremes(tree: exp.Expr) -> exp.Expr:
    """``MIN``/``MAX`` (also windowed) and ``LEAST``/``GREATEST`` with a NaN are NaN."""
    for node in list(tree.find_all(exp.Min, exp.Max)):
        if isinstance(node, exp.Min | exp.Max) and node.expressions:
            continue  # the scalar form of LEAST/GREATEST in some dialects
        value = node.this
        if isinstance(value, exp.Distinct) and len(value.expressions) == 1:
            value = value.expressions[0]  # MIN(DISTINCT x)
        if not (_is_float(value) or _is_float(node.this)):
            if isinstance(node, exp.Min) and is_unknown(value):
                min_of_unknown(node)  # MAX with a NaN is NaN in DuckDB too
            continue
        window = node.parent if isinstance(node.parent, exp.Window) else None
        has_nan = exp.LogicalOr(this=exp.IsNan(this=value.copy()))
        if window is not None:
            probe = window.copy()
            probe.set("this", has_nan)
            target, has_nan = window, probe
        else:
            target = node
        slot = detach(target)
        case = exp.Case(ifs=[exp.If(this=has_nan, true=_nan())], default=target)
        case.type = target.type  # later rules (NaN comparisons, casts to STRING) read it
        slot.replace(case)
    for node in list(tree.find_all(exp.Least, exp.Greatest)):
        args = [node.this, *node.expressions]
        if not any(_is_float(a) for a in args):
            if isinstance(node, exp.Least) and any(is_unknown(a) for a in args):
                least_of_unknown(node)
            continue
        nulls = exp.or_(*(exp.Is(this=a.copy(), expression=exp.null()) for a in args))
        # beside a FLOAT64 an untyped argument is a number: it may be the NaN
        floats = [a for a in args if _is_float(a) or is_unknown(a)]
        nans = exp.or_(*(exp.IsNan(this=a.copy()) for a in floats))
        slot = detach(node)
        case = exp.Case(
            ifs=[exp.If(this=nulls, true=exp.null()), exp.If(this=nans, true=_nan())],
            default=node,
        )
        case.type = node.type
        slot.replace(case)
    return tree


@handles(exp.Trunc, exp.Ceil, exp.Floor, exp.Sign, exp.Abs, exp.IntDiv)
def numeric_results(tree: exp.Expr) -> exp.Expr:
    """NUMERIC stays NUMERIC through TRUNC/CEIL/FLOOR/SIGN/ABS; ``DIV`` of NUMERIC truncates."""
    numeric = exp.DataType.build("DECIMAL(38, 9)")
    for node in list(tree.find_all(exp.Trunc, exp.Ceil, exp.Floor, exp.Sign, exp.Abs)):
        # also under another CAST: the cast to NUMERIC is the range check (CEIL of the
        # largest NUMERIC overflows; CAST(... AS STRING) would print it)
        if _typed(node.this, *_DECIMAL) and not is_numeric_cast(node.parent):
            detach(node).replace(exp.cast(node, numeric.copy()))
    for node in list(tree.find_all(exp.IntDiv)):
        if _typed(node.this, *_DECIMAL) or _typed(node.expression, *_DECIMAL):
            node.replace(exact_int_quotient(node.this, node.expression))
    return tree


@handles(exp.SafeDivide)
def safe_divide_overflow(tree: exp.Expr) -> exp.Expr:
    """``SAFE_DIVIDE`` of finite FLOAT64 values whose quotient overflows is NULL (not inf)."""
    for node in list(tree.find_all(exp.SafeDivide)):
        if node.meta.get("idcbq_overflow") or not any(
            _is_float(o) for o in (node.this, node.expression)
        ):
            continue
        node.meta["idcbq_overflow"] = True
        finite = [
            exp.Anonymous(this="isfinite", expressions=[exp.cast(o.copy(), "DOUBLE")])
            for o in (node.this, node.expression)
        ]
        inf = exp.Anonymous(this="isinf", expressions=[exp.cast(node.copy(), "DOUBLE")])
        hole = detach(node)
        hole.replace(
            exp.Case(ifs=[exp.If(this=exp.and_(inf, *finite), true=exp.null())], default=node)
        )
    return tree


@handles(exp.RangeBucket)
def range_bucket(tree: exp.Expr) -> exp.Expr:
    """``RANGE_BUCKET(x, sorted_array)``: how many boundaries are <= x (NULL for NULL x)."""
    for node in list(tree.find_all(exp.RangeBucket)):
        node.replace(
            duck_fragment(
                "CASE WHEN _x IS NULL OR _a IS NULL THEN NULL "
                "WHEN len(list_filter(_a, e -> e IS NULL)) > 0 "
                "THEN error('RANGE_BUCKET: the array has a NULL element') "
                "WHEN list_sort(_a) <> _a THEN error('RANGE_BUCKET: the array is not sorted') "
                "ELSE CAST(len(list_filter(_a, e -> e <= _x)) AS BIGINT) END",
                _x=node.this,
                _a=node.expression,
            )
        )
    return tree


def type_contains(kind: exp.DataType | None, *types: T) -> bool:
    """True if ``kind`` is one of ``types`` or holds one (as an ARRAY element or STRUCT field)."""
    if kind is None:
        return False
    return kind.is_type(*types) or any(
        type_contains(sub if isinstance(sub, exp.DataType) else getattr(sub, "kind", None), *types)
        for sub in kind.expressions
    )


def _only_counted(column: exp.Column) -> bool:
    """``COUNT(col)`` / ``col IS [NOT] NULL`` read no value: exact on DuckDB's DOUBLE too."""
    parent = column.parent
    if isinstance(parent, exp.Distinct):
        return False
    if isinstance(parent, exp.Count):
        return True
    return isinstance(parent, exp.Is) and isinstance(parent.expression, exp.Null)


@inspects
def refused(tree: exp.Expr) -> exp.Expr:
    """BIGNUMERIC values and ``TO_JSON_STRING`` of NUMERIC: loud, not approximated."""
    holds: dict[int, bool] = {}  # by type object: the nodes share their types
    for node in tree.walk():
        kind = node if isinstance(node, exp.DataType) else node.type
        if kind is None:
            continue
        if (big := holds.get(id(kind))) is None:
            # a type of no parameters is BIGNUMERIC or holds none (most nodes: no build)
            simple = not kind.args.get("expressions")
            big = kind.this == T.BIGDECIMAL if simple else type_contains(kind, T.BIGDECIMAL)
            holds[id(kind)] = big
        if not big:
            continue
        if isinstance(node, exp.Column) and _only_counted(node):
            continue
        raise TranspileError(  # a literal, column or result of BIGNUMERIC type
            "unsupported on DuckDB: BIGNUMERIC (DuckDB decimals hold 38 digits, "
            "BigQuery's BIGNUMERIC 76 with 38 decimals)",
            hint="use NUMERIC or FLOAT64, or --engine bigquery",
        )
    for node in tree.find_all(exp.JSONFormat):
        if node.this is not None and type_contains(node.this.type, T.DECIMAL):
            raise TranspileError(
                "unsupported on DuckDB: TO_JSON_STRING of NUMERIC values (BigQuery writes "
                "some as JSON strings, some as numbers)",
                hint="CAST the NUMERIC to STRING first, or use --engine bigquery",
            )
    return tree


#: Run after ``functions.TYPED`` and before ``typed.TYPED``.
TYPED = (
    range_bucket,
    refused,
    numeric_results,
    float_digits,
    safe_divide_overflow,
    *BITS,
    nan_extremes,
    nan_order,
    *NAN_EQUALITIES,
    nan_comparisons,
)

#: Node types whose rewrite here applies whatever the operands' types.
_ANY_TYPE = (
    exp.BitwiseLeftShift,
    exp.BitwiseRightShift,
    exp.BitwiseCount,
    exp.Round,
    exp.SafeDivide,
    exp.RangeBucket,
)


#: Triggers that matter only where FLOAT64 or NUMERIC values can occur.
_FLOAT_ONLY = (
    exp.Between,
    *NAN_TRIGGERS,
    exp.EQ,
    exp.NEQ,
    exp.LT,
    exp.LTE,
    exp.GT,
    exp.GTE,
    exp.Order,
    exp.Min,
    exp.Max,
    exp.Least,
    exp.Greatest,
    exp.Trunc,
    exp.Ceil,
    exp.Floor,
    exp.Sign,
    exp.Abs,
    exp.IntDiv,
    exp.Mul,  # FLOAT64 overflow (errors_runtime.float_overflow reads the mark types leave)
    exp.Add,
    exp.Sub,
)


def needs_types(tree: exp.Expr, schema=None, params=None) -> bool:
    """True if a rewrite here could apply (the comparisons and orders only where a
    FLOAT64 or NUMERIC value can occur: annotation costs ~30 ms on dicom_all)."""
    from idcbq.transpile.known import may_hold

    if any(True for _ in tree.find_all(*_ANY_TYPE)):
        return True
    if any(node.is_type(T.BIGDECIMAL) for node in tree.find_all(exp.DataType)):
        return True
    if may_hold(tree, schema or {}, params or {}, ("BIGNUMERIC",)):  # refused wherever it flows
        return True
    if not any(True for _ in tree.find_all(*_FLOAT_ONLY)):
        return False
    return may_hold(tree, schema or {}, params or {}, ("FLOAT", "NUMERIC", "DOUBLE", "DECIMAL"))
