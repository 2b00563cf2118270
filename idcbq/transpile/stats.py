"""Typed rewrites for statistical aggregates where DuckDB silently differs from GoogleSQL.

Each reads ``node.type`` (``idcbq.transpile.types.annotate``), applies to the plain and
the windowed (``OVER``) form alike, and is compared with GoogleSQL's reference
implementation by the probes in ``tests/probes/aggregates.yaml`` and Google's
compliance cases (``stat_aggregation.test``):

- ``corr_of_few_rows``: ``CORR`` of fewer than two non-NULL pairs is NULL (DuckDB: NaN).
- ``variance_non_finite``: ``VAR_*``/``STDDEV_*``/``COVAR_*``/``CORR`` of FLOAT64 values
  holding an infinity or a NaN is NaN (DuckDB: 0 for one row, an error or an infinity).
  ``VAR_*``/``STDDEV_*`` of FLOAT64 whose largest magnitude is outside [2^-400, 2^400]
  run on values scaled by a power of two (DuckDB's squares underflow to 0 or overflow).
- ``variance_of_numeric``: ``VAR_*``/``STDDEV_*``/``COVAR_*``/``CORR`` of NUMERIC are
  computed on exact differences from one of the values (DuckDB converts each value to
  FLOAT64 first: ``1000000000000000000000000.1`` and ``...0.2`` become equal and the
  variance 0). These statistics do not change when every value moves by one constant.
- ``mean_non_finite``: ``AVG`` of FLOAT64 with two or more infinities is NaN (GoogleSQL's
  running mean); with one among other values it is refused (the row order decides).
- ``percentile_nan_first``: ``PERCENTILE_CONT`` of FLOAT64 orders NaN first, before
  -inf (DuckDB's ``quantile_cont`` last): ``-quantile_cont(-x, 1 - p)`` reads the same
  positions with NaN at the front. Of NUMERIC: refused (DuckDB interpolates in DOUBLE).
"""

from __future__ import annotations

from sqlglot import exp

from idcbq.errors import TranspileError
from idcbq.transpile.numeric import duck_fragment
from idcbq.transpile.rewrites import detach
from idcbq.transpile.rules import handles
from idcbq.transpile.semantics import T
from idcbq.transpile.semantics import is_typed as _typed

_FLOAT = (T.DOUBLE, T.FLOAT)
_ONE_ARGUMENT = (exp.VariancePop, exp.Variance, exp.StddevPop, exp.StddevSamp, exp.Stddev)
_TWO_ARGUMENTS = (exp.CovarPop, exp.CovarSamp, exp.Corr)
#: DuckDB's name of each aggregate for ``list_aggregate``.
_NAMES = {
    exp.VariancePop: "var_pop",
    exp.Variance: "var_samp",
    exp.StddevPop: "stddev_pop",
    exp.StddevSamp: "stddev_samp",
    exp.Stddev: "stddev_samp",
}
_POPULATION = (exp.VariancePop, exp.StddevPop)


def _over(node: exp.Expr, agg: exp.Expr) -> exp.Expr:
    """``agg`` in the same window as ``node`` (``node`` itself when it is not windowed)."""
    window = node.parent
    if not isinstance(window, exp.Window) or window.this is not node:
        return agg
    out = window.copy()
    out.set("this", agg)
    return out


def _spot(node: exp.Expr) -> exp.Expr:
    """What to replace: the window around ``node`` if there is one."""
    window = node.parent
    return window if isinstance(window, exp.Window) and window.this is node else node


def _not_null(value: exp.Expr) -> exp.Expr:
    return exp.Not(this=exp.Is(this=value.copy(), expression=exp.null()))


@handles(exp.Corr)
def corr_of_few_rows(tree: exp.Expr) -> exp.Expr:
    """``CORR(x, y)`` of fewer than two non-NULL pairs is NULL."""
    for node in list(tree.find_all(exp.Corr)):
        if node.meta.get("idcbq_few"):
            continue
        node.meta["idcbq_few"] = True
        both = exp.and_(_not_null(node.this), _not_null(node.expression))
        few = exp.LT(this=_over(node, exp.CountIf(this=both)), expression=exp.Literal.number(2))
        spot = _spot(node)
        detach(spot).replace(exp.Case(ifs=[exp.If(this=few, true=exp.null())], default=spot))
    return tree


@handles(*_ONE_ARGUMENT, *_TWO_ARGUMENTS)
def variance_non_finite(tree: exp.Expr) -> exp.Expr:
    """``VAR_*``/``STDDEV_*``/``COVAR_*``/``CORR`` of FLOAT64 with an infinity or NaN among
    the values (of the non-NULL pairs) is NaN."""
    for node in list(tree.find_all(*_ONE_ARGUMENT, *_TWO_ARGUMENTS)):
        values = [node.this] + ([node.expression] if isinstance(node, _TWO_ARGUMENTS) else [])
        if any(isinstance(v, exp.Distinct) for v in values):
            continue
        if any(_numeric(v) for v in values):
            continue  # variance_of_numeric's exact form
        # Any other type: integers are always finite, so the test below costs them
        # nothing, and a value whose type annotation missed is still covered.
        counted = exp.and_(*(_not_null(v) for v in values))
        finite = exp.and_(
            *(exp.Anonymous(this="isfinite", expressions=[exp.cast(v.copy(), "DOUBLE")])
              for v in values)
        )  # fmt: skip
        scaled = isinstance(node, _ONE_ARGUMENT) and _typed(node.this, *_FLOAT)
        bad = exp.CountIf(this=exp.and_(counted.copy(), exp.Not(this=exp.paren(finite))))
        rows = exp.CountIf(this=counted)
        enough = 1 if isinstance(node, (*_POPULATION, exp.CovarPop)) else 2
        nan = exp.cast(exp.Literal.string("nan"), "DOUBLE")
        # the aggregate sees finite values only (DuckDB raises on an infinity otherwise)
        for value in values:
            value.replace(
                duck_fragment(
                    "CASE WHEN _v IS NULL OR isfinite(CAST(_v AS DOUBLE)) THEN _v ELSE 0 END",
                    _v=value,
                )
            )
        test = exp.and_(
            exp.GT(this=_over(node, bad), expression=exp.Literal.number(0)),
            exp.GTE(this=_over(node, rows), expression=exp.Literal.number(enough)),
        )
        spot = _spot(node)
        hole = detach(spot)
        plain = _rescaled(node) if scaled else spot
        hole.replace(exp.Case(ifs=[exp.If(this=test, true=nan)], default=plain))
    return tree


#: Where the largest magnitude lies outside [2^-400, 2^400], squares of the deviations
#: may underflow or overflow FLOAT64 (GoogleSQL's wider accumulator keeps them: the
#: STDDEV of ``[5e-324, 1e-323, 0]`` is 5e-324, of ``[1, 2.2e304, -2.2e304]`` finite;
#: DuckDB gives 0, or raises). There the aggregate runs on the values times 2^-600 or
#: 2^600 (exact: powers of two) and its result is scaled back (STDDEV once, VAR twice),
#: so DuckDB rounds as it does in the middle range. Each of the three aggregates sees
#: only values it cannot overflow on (DuckDB computes every aggregate of a CASE).
_HIGH, _LOW = "2.5822498780869086e+120", "3.8725919148493183e-121"  # 2^400, 2^-400
_UP, _DOWN = "4.149515568880993e+180", "2.409919865102884e-181"  # 2^600, 2^-600
_RANGES = {
    # value fed to the aggregate, factor its result is scaled back by
    "middle": (f"CASE WHEN abs(_x) <= {_HIGH} THEN _x END", None),
    "high": (f"_x * {_DOWN}", _UP),
    "low": (f"CASE WHEN abs(_x) < {_LOW} THEN _x * {_UP} END", _DOWN),
}


def _rescaled(node: exp.Expr) -> exp.Expr:
    """``node`` (maybe windowed) with DuckDB's aggregate kept from overflowing
    or underflowing (see ``_RANGES``)."""
    value = exp.cast(node.this.copy(), "DOUBLE")
    stats = {}
    for name, (fed, factor) in _RANGES.items():
        agg = node.copy()
        agg.set("this", duck_fragment(fed, _x=value))
        stat = _over(node, agg)
        if factor is not None:  # VAR is scaled back twice (one factor is 2^600 at most)
            times = 2 if isinstance(node, (exp.VariancePop, exp.Variance)) else 1
            stat = duck_fragment("_s" + f" * {factor}" * times, _s=stat)
        stats[name] = stat
    magnitude = _over(node, exp.Max(this=exp.Abs(this=value.copy())))
    return duck_fragment(
        f"CASE WHEN _m > {_HIGH} THEN _h WHEN _m < {_LOW} THEN _l ELSE _c END",
        _m=magnitude,
        _h=stats["high"],
        _l=stats["low"],
        _c=stats["middle"],
    )


def _numeric(node: exp.Expr) -> bool:
    return _typed(node, T.DECIMAL)


@handles(*_ONE_ARGUMENT, *_TWO_ARGUMENTS)
def variance_of_numeric(tree: exp.Expr) -> exp.Expr:
    """Statistics of NUMERIC computed on exact differences from the first non-NULL value."""
    for node in list(tree.find_all(*_ONE_ARGUMENT, *_TWO_ARGUMENTS)):
        args = [node.this] + ([node.expression] if isinstance(node, _TWO_ARGUMENTS) else [])
        plain = [a.expressions[0] if isinstance(a, exp.Distinct) else a for a in args]
        if not any(_numeric(a) for a in plain):
            continue
        if any(isinstance(a, exp.Distinct) for a in args):
            raise TranspileError(
                "unsupported on DuckDB: a statistic of DISTINCT NUMERIC values "
                "(DuckDB computes it on FLOAT64 conversions, losing NUMERIC's precision)"
            )
        if isinstance(node, _TWO_ARGUMENTS):
            detach(_spot(node)).replace(exp.paren(_covariance(node)))
            continue
        value = node.this
        values = _over(node, exp.Anonymous(this="list", expressions=[value.copy()]))
        kept = duck_fragment("list_filter(_l, e -> e IS NOT NULL)", _l=values)
        stat = duck_fragment(
            f"list_aggregate(list_transform(_k, e -> CAST(e - _k[1] AS DOUBLE)), '{_NAMES[type(node)]}')",
            _k=kept,
        )
        detach(_spot(node)).replace(exp.paren(stat))
    return tree


#: Over the list ``_p`` of non-NULL pairs ``{a, b}``: differences from the first pair
#: (exact in NUMERIC), their means, then the centred sums of products.
_DIFFS = (
    "list_transform(_p, e -> {'a': CAST(e.a - _p[1].a AS DOUBLE), "
    "'b': CAST(e.b - _p[1].b AS DOUBLE)})"
)
_CENTRED = "list_sum(list_transform(_d, e -> (e.{0} - list_avg(list_transform(_d, f -> f.{0}))) * (e.{1} - list_avg(list_transform(_d, f -> f.{1})))))"
_COVARIANCE = {
    exp.CovarPop: "CASE WHEN len(_p) >= 1 THEN _sab / len(_p) END",
    exp.CovarSamp: "CASE WHEN len(_p) >= 2 THEN _sab / (len(_p) - 1) END",
    exp.Corr: "CASE WHEN len(_p) < 2 THEN NULL WHEN _saa * _sbb = 0 THEN CAST('nan' AS DOUBLE) "
    "ELSE _sab / sqrt(_saa * _sbb) END",
}


def _covariance(node: exp.Expr) -> exp.Expr:
    pairs = duck_fragment("{'a': _x, 'b': _y}", _x=node.this, _y=node.expression)
    listed = _over(node, exp.Anonymous(this="list", expressions=[pairs]))
    kept = duck_fragment("list_filter(_l, e -> e.a IS NOT NULL AND e.b IS NOT NULL)", _l=listed)
    diffs = duck_fragment(_DIFFS, _p=kept)
    sums = {
        f"_s{x}{y}": duck_fragment(_CENTRED.format(x, y), _d=diffs)
        for x, y in (("a", "b"), ("a", "a"), ("b", "b"))
    }
    return duck_fragment(_COVARIANCE[type(node)], _p=kept, **sums)


@handles(exp.PercentileCont)
def percentile_nan_first(tree: exp.Expr) -> exp.Expr:
    """``PERCENTILE_CONT(x, p)``: GoogleSQL's order puts NaN first (see the module doc)."""
    from decimal import Decimal, InvalidOperation

    for node in list(tree.find_all(exp.PercentileCont)):
        if node.meta.get("idcbq_nan_first"):
            continue
        value, fraction = node.this, node.expression
        if _typed(value, T.DECIMAL, T.BIGDECIMAL):
            raise TranspileError(
                "unsupported on DuckDB: PERCENTILE_CONT of NUMERIC (DuckDB interpolates "
                f"in FLOAT64): {node.sql(dialect='bigquery')}",
                hint="CAST the value to FLOAT64, or use --engine bigquery",
            )
        if not _typed(value, *_FLOAT):
            continue  # integers: no NaN
        sign, number = (-1, fraction.this) if isinstance(fraction, exp.Neg) else (1, fraction)
        if not (isinstance(number, exp.Literal) and not number.is_string):
            continue  # a parameter or an expression: DuckDB wants a constant anyway
        try:
            rest = Decimal(1) - sign * Decimal(number.this)
        except InvalidOperation:
            continue
        node.meta["idcbq_nan_first"] = True
        node.set("this", exp.Neg(this=exp.paren(value.copy())))
        node.set("expression", exp.Literal.number(str(rest)))
        window = node.parent if isinstance(node.parent, exp.Window) else None
        whole = window if window is not None and window.this is node else node
        hole = detach(whole)
        hole.replace(exp.Neg(this=exp.paren(whole)))
    return tree


@handles(exp.Avg)
def mean_non_finite(tree: exp.Expr) -> exp.Expr:
    """``AVG`` of FLOAT64 with infinities: GoogleSQL updates a running mean row by row, so
    two infinities give NaN (``inf + (inf - inf) / 2``), and one infinity among other
    values gives NaN or the infinity as it comes last or not: refused, the order of the
    rows is not BigQuery's to promise. DuckDB divides a sum (an infinity, always)."""
    for node in list(tree.find_all(exp.Avg)):
        value = node.this
        if node.meta.get("idcbq_mean") or isinstance(value, exp.Distinct):
            continue
        if not _typed(value, *_FLOAT):
            continue
        node.meta["idcbq_mean"] = True
        as_double = exp.cast(value.copy(), "DOUBLE")
        infinite = _over(
            node, exp.CountIf(this=exp.Anonymous(this="isinf", expressions=[as_double]))
        )
        nans = _over(node, exp.CountIf(this=exp.IsNan(this=as_double.copy())))
        rows = _over(node, exp.Count(this=value.copy()))
        nan = exp.cast(exp.Literal.string("nan"), "DOUBLE")
        one_of_many = exp.and_(
            exp.EQ(this=infinite.copy(), expression=exp.Literal.number(1)),
            exp.GTE(this=rows, expression=exp.Literal.number(2)),
            exp.EQ(this=nans, expression=exp.Literal.number(0)),
        )
        refused = exp.Anonymous(
            this="error",
            expressions=[
                exp.Literal.string(
                    "unsupported on DuckDB: AVG of FLOAT64 with one infinity among other "
                    "values (GoogleSQL's running mean gives NaN or the infinity by row order)"
                )
            ],
        )
        spot = _spot(node)
        detach(spot).replace(
            exp.Case(
                ifs=[
                    exp.If(this=exp.GTE(this=infinite, expression=exp.Literal.number(2)), true=nan),
                    exp.If(this=one_of_many, true=refused),
                ],
                default=spot,
            )
        )
    return tree


TYPED = (
    variance_of_numeric,
    variance_non_finite,
    corr_of_few_rows,
    percentile_nan_first,
    mean_non_finite,
)


def needs_types(tree: exp.Expr) -> bool:
    """True if a statistical aggregate appears."""
    kinds = (*_ONE_ARGUMENT, *_TWO_ARGUMENTS, exp.PercentileCont, exp.Avg)
    return any(True for _ in tree.find_all(*kinds))
