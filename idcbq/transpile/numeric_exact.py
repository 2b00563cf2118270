"""NUMERIC division and ``AVG`` of NUMERIC, exactly (DuckDB computes both in DOUBLE).

GoogleSQL's NUMERIC is a decimal with 9 fraction digits; a quotient or an average is
rounded to 9 digits, half away from zero. DuckDB's ``DECIMAL(38, 9)`` holds the same
values but divides in DOUBLE, so the translation divides the unscaled integers
(``value * 10^9`` as HUGEINT) itself:

- ``a / b``: ``round(a_u * 10^9 / b_u)`` by long division (quotient, then the
  remainder's 9 digits and the rounding digit); a divisor of ``10^20`` or more would
  overflow HUGEINT there and raises instead; a zero divisor raises as in BigQuery;
- ``DIV(a, b)``: ``a_u // b_u``, truncated toward zero;
- ``AVG(x)``: ``round(SUM(x)_u / COUNT(x))``, window or not; the integer parts and the
  fractions are summed apart (the unscaled sum may pass HUGEINT) and divided by long division.

The result is rebuilt as ``DECIMAL(38, 9)`` from its integer and fraction parts (a value
beyond NUMERIC's range raises, as BigQuery's overflow does).

Example:
    >>> import sqlglot
    >>> node = sqlglot.parse_one("a / b", read="bigquery")
    >>> "AS INT128) * 1000000000" in exact_quotient(node.this, node.expression).sql("duckdb")
    True
"""

from __future__ import annotations

from sqlglot import exp

from idcbq.transpile.errors_guards import guard
from idcbq.transpile.nan_unknown import duck_fragment

_SCALE = "1000000000"
_UNSCALED = f"CAST(trunc(_v) AS HUGEINT) * {_SCALE} + CAST((_v - trunc(_v)) * {_SCALE} AS HUGEINT)"
_FROM_UNSCALED = (
    f"CAST(_r // {_SCALE} AS DECIMAL(38, 9)) "
    f"+ CAST(_r % {_SCALE} AS DECIMAL(18, 0)) * CAST('0.000000001' AS DECIMAL(10, 9))"
)
#: round(_a * 10^9 / _b) of unscaled integers, half away from zero.
_QUOTIENT = (
    f"(_a // _b) * {_SCALE} + ((_a % _b) * {_SCALE}) // _b "
    f"+ CASE WHEN 2 * abs(((_a % _b) * {_SCALE}) % _b) >= abs(_b) "
    "THEN sign(_a) * sign(_b) ELSE 0 END"
)
#: round(_s / _n) of an unscaled sum and a count, half away from zero.
_MEAN = "_s // _n + CASE WHEN 2 * abs(_s % _n) >= _n THEN sign(_s) ELSE 0 END"
#: The unscaled mean of values whose integer parts sum to ``_i`` and whose fractions
#: (unscaled) sum to ``_f``, over ``_n`` values, rounded half away from zero. The unscaled
#: sum ``_i * 10^9 + _f`` may pass HUGEINT (two NUMERICs near the maximum do): so
#: ``_i = _q * _n + _r`` first; ``_t = _r * 10^9 + _f`` is below ``2 * _n * 10^9``.
_MEAN_PARTS = f"""
CASE WHEN _n = 0 THEN NULL ELSE
  (_i // _n) * {_SCALE} + (((_i % _n) * {_SCALE} + _f) // _n)
  + CASE WHEN 2 * abs(((_i % _n) * {_SCALE} + _f) % _n) > _n
           THEN sign(((_i % _n) * {_SCALE} + _f) % _n)
         WHEN 2 * abs(((_i % _n) * {_SCALE} + _f) % _n) = _n
           AND sign((_i // _n) * {_SCALE} + (((_i % _n) * {_SCALE} + _f) // _n))
             IN (0, sign(((_i % _n) * {_SCALE} + _f) % _n))
           THEN sign(((_i % _n) * {_SCALE} + _f) % _n)
         ELSE 0 END
END
"""
#: A NUMERIC's integer part and its fraction's 9 digits (same sign).
_WHOLE = "CAST(trunc(_v) AS HUGEINT)"
_FRACTION = f"CAST((_v - trunc(_v)) * {_SCALE} AS BIGINT)"


def _fragment(template: str, **parts: exp.Expr) -> exp.Expr:
    """``duck_fragment`` whose divisions are the translation's own (no zero check added:
    a zero divisor is checked once, a zero count gives NULL as AVG of no rows)."""
    tree = duck_fragment(template, **parts)
    for node in tree.find_all(exp.Div, exp.IntDiv, exp.Mod):
        node.meta["idcbq_div"] = True
    return tree


def _unscaled(value: exp.Expr) -> exp.Expr:
    numeric = exp.cast(value.copy(), exp.DataType.build("DECIMAL(38, 9)"))
    return exp.paren(duck_fragment(_UNSCALED, _v=numeric))


def _decimal(unscaled: exp.Expr) -> exp.Expr:
    return exp.paren(_fragment(_FROM_UNSCALED, _r=exp.paren(unscaled)))


def exact_quotient(left: exp.Expr, right: exp.Expr) -> exp.Expr:
    """``left / right`` of NUMERIC (or INT64 beside a NUMERIC) as an exact NUMERIC."""
    a, b = _unscaled(left), _unscaled(right)
    answer = _decimal(_fragment(_QUOTIENT, _a=a, _b=b))
    too_big = duck_fragment("abs(_b) >= CAST('1e29' AS HUGEINT)", _b=b)
    answer = guard(
        answer, too_big, "unsupported on DuckDB: NUMERIC division by 10^20 or more (exactly)"
    )
    zero = duck_fragment("_b = 0", _b=b)
    return guard(answer, zero, "division by zero")


def exact_int_quotient(left: exp.Expr, right: exp.Expr) -> exp.Expr:
    """``DIV(left, right)`` of NUMERIC: the quotient truncated toward zero, exactly (the
    unscaled integers' quotient; HUGEINT's ``//`` truncates toward zero)."""
    a, b = _unscaled(left), _unscaled(right)
    quotient = exp.cast(_fragment("_a // _b", _a=a, _b=b), exp.DataType.build("DECIMAL(38, 9)"))
    return guard(quotient, duck_fragment("_b = 0", _b=b), "division by zero")


def exact_mean(avg: exp.Avg) -> exp.Expr:
    """``AVG(x)`` (or ``AVG(x) OVER (...)``) of NUMERIC as an exact NUMERIC."""
    window = avg.parent if isinstance(avg.parent, exp.Window) else None

    def over(agg: exp.Expr) -> exp.Expr:
        if window is None:
            return agg
        copy = window.copy()
        copy.type = None  # AVG's type (NUMERIC) is not the SUM's or the COUNT's
        copy.set("this", agg)
        return copy

    count = over(exp.Count(this=avg.this.copy()))
    if isinstance(avg.this, exp.Distinct):  # parts of distinct values are not distinct
        total = over(exp.Sum(this=avg.this.copy()))
        return _decimal(_fragment(_MEAN, _s=_unscaled(total), _n=count))
    numeric = exp.cast(avg.this.copy(), exp.DataType.build("DECIMAL(38, 9)"))
    wholes = over(exp.Sum(this=duck_fragment(_WHOLE, _v=numeric)))
    fractions = over(exp.Sum(this=duck_fragment(_FRACTION, _v=numeric)))
    parts = {"_i": exp.paren(wholes), "_f": exp.paren(fractions), "_n": count}
    return _decimal(_fragment(_MEAN_PARTS, **parts))
