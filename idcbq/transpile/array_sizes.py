"""GoogleSQL's limit on generated arrays (untyped rule ``generated_size_limit``).

``GENERATE_ARRAY``, ``GENERATE_DATE_ARRAY`` and ``GENERATE_TIMESTAMP_ARRAY`` raise
"Cannot generate arrays with more than 16000 elements." when their element number 16000
(counted from 0: ``start + 16000 * step``) still lies within ``end``. DuckDB builds any
size (``GENERATE_ARRAY(1, 1000000000)`` ran for minutes), so the translation tests that
element first, without building the array: DuckDB's CASE builds an ELSE branch only for
the rows that reach it, and folds a constant condition before it.

The element is computed in a type that holds it (HUGEINT for INT64, FLOAT64, DuckDB's
timestamps for steps small enough to pass the limit within GoogleSQL's years; NUMERIC
as ``_NUMERIC_WITHIN`` says). A zero, NULL or NaN step or bound is left to the other
rules' errors and NULLs.

Example:
    >>> import sqlglot
    >>> tree = sqlglot.parse_one("SELECT GENERATE_ARRAY(1, n) AS a", read="bigquery")
    >>> "16000 elements" in generated_size_limit(tree).sql("duckdb")
    True
"""

from __future__ import annotations

from sqlglot import exp

from idcbq.transpile.errors_guards import guard
from idcbq.transpile.numeric import duck_fragment
from idcbq.transpile.rules import handles
from idcbq.transpile.sequences import is_float_bound, is_numeric_bound

LIMIT = 16000
MESSAGE = f"Cannot generate arrays with more than {LIMIT} elements."
_DONE = "idcbq_size_limit"

#: ``start + LIMIT * step`` within ``end``, for a step of either sign (``_t`` 0: no).
_WITHIN = (
    f"CASE WHEN _t > 0 THEN _s + {LIMIT} * _t <= _e "
    f"WHEN _t < 0 THEN _s + {LIMIT} * _t >= _e ELSE false END"
)
#: NUMERIC: ``_s + LIMIT * _t`` may pass DECIMAL(38, 9)'s range. A FLOAT64 estimate of
#: the count decides away from the edge; near it ``_e - _s`` is about ``LIMIT * _t``,
#: exact in DECIMAL while the step is below 1e24; above, refused.
_NUMERIC_WITHIN = (
    "CASE WHEN _t = 0 THEN false "
    f"WHEN _c >= {LIMIT} + 0.5 THEN true WHEN _c < {LIMIT} - 0.5 THEN false "
    "WHEN abs(_t) >= 1e24 THEN error('unsupported on DuckDB: GENERATE_ARRAY of NUMERIC "
    f"with a step of 1e24 or more and about {LIMIT} elements') "
    f"WHEN _t > 0 THEN _e - _s >= {LIMIT} * _t ELSE _e - _s <= {LIMIT} * _t END"
)
_ESTIMATE = "(CAST(_e AS DOUBLE) - CAST(_s AS DOUBLE)) / CAST(_t AS DOUBLE)"
#: DuckDB's interval of ``_n`` steps of each GoogleSQL date part, and the largest step
#: count that fits LIMIT steps between 0001-01-01 and 9999-12-31 (3652059 days): a
#: larger one cannot pass the limit, and is not computed (no DuckDB overflow).
_DAYS = 3652059
_US_PER_DAY = 86_400_000_000
_INTERVALS = {
    "MICROSECOND": ("to_microseconds(_n)", _DAYS * _US_PER_DAY // LIMIT),
    "MILLISECOND": ("to_milliseconds(_n)", _DAYS * 86_400_000 // LIMIT),
    "SECOND": ("to_seconds(_n)", _DAYS * 86_400 // LIMIT),
    "MINUTE": ("to_minutes(_n)", _DAYS * 1440 // LIMIT),
    "HOUR": ("to_hours(_n)", _DAYS * 24 // LIMIT),
    "DAY": ("to_days(_n)", _DAYS // LIMIT),
    "WEEK": ("to_weeks(_n)", _DAYS // 7 // LIMIT),
    "MONTH": ("to_months(_n)", 119_988 // LIMIT),
    "QUARTER": ("to_months(3 * _n)", 39_996 // LIMIT),
    "YEAR": ("to_years(_n)", 9_999 // LIMIT),
}


def _series_test(node: exp.GenerateSeries) -> exp.Expr | None:
    start, end = node.args.get("start"), node.args.get("end")
    step = node.args.get("step") or exp.Literal.number(1)
    if start is None or end is None:
        return None
    bounds = (start, end, step)
    if any(is_float_bound(b) for b in bounds):
        kind = "DOUBLE"
    elif any(is_numeric_bound(b) for b in bounds):
        kind = "DECIMAL(38, 9)"
    else:
        kind = "HUGEINT"
    s, e, t = (exp.cast(b.copy(), kind, dialect="duckdb") for b in bounds)
    if kind.startswith("DECIMAL"):
        count = duck_fragment(_ESTIMATE, _s=s, _e=e, _t=t)
        return duck_fragment(_NUMERIC_WITHIN, _s=s, _e=e, _t=t, _c=count)
    test = duck_fragment(_WITHIN, _s=s, _e=e, _t=t)
    if kind == "DOUBLE":  # NaN sorts last in DuckDB: leave NaN to its own error
        nan = duck_fragment("NOT (isnan(_s) OR isnan(_e) OR isnan(_t))", _s=s, _e=e, _t=t)
        test = exp.and_(nan, test)
    return test


def _dates_test(node: exp.Expr) -> exp.Expr | None:
    start, end, step = (node.args.get(k) for k in ("start", "end", "step"))
    if start is None or end is None:
        return None
    if step is None:
        count, unit = exp.Literal.number(1), "DAY"
    elif isinstance(step, exp.Interval):
        count, unit = step.this, str(step.args.get("unit") or "").upper()
    else:
        return None
    if unit not in _INTERVALS or count is None:
        return None  # the analyzer or another rule refuses the part
    interval, most = _INTERVALS[unit]
    if most == 0:
        return None  # LIMIT steps of this part never fit in GoogleSQL's range
    number = exp.cast(count.copy(), "BIGINT")
    kind = "TIMESTAMPTZ" if isinstance(node, exp.GenerateTimestampArray) else "TIMESTAMP"
    s, e = (exp.cast(b.copy(), kind, dialect="duckdb") for b in (start, end))
    shift = interval.replace("_n", f"{LIMIT} * _t")
    test = (
        f"CASE WHEN abs(_t) > {most} THEN false WHEN _t > 0 THEN _s + {shift} <= _e "
        f"WHEN _t < 0 THEN _s + {shift} >= _e ELSE false END"
    )
    return duck_fragment(test, _s=s, _e=e, _t=number)


@handles(exp.GenerateSeries, exp.GenerateDateArray, exp.GenerateTimestampArray)
def generated_size_limit(tree: exp.Expr) -> exp.Expr:
    """Raise GoogleSQL's error where a generated array would pass :data:`LIMIT` elements."""
    kinds = (exp.GenerateSeries, exp.GenerateDateArray, exp.GenerateTimestampArray)
    for node in list(tree.find_all(*kinds)):
        if node.meta.get(_DONE):
            continue
        node.meta[_DONE] = True
        test = _series_test(node) if isinstance(node, exp.GenerateSeries) else _dates_test(node)
        if test is None:
            continue
        hole = exp.null()
        node.replace(hole)
        hole.replace(guard(node, test, MESSAGE))
    return tree
