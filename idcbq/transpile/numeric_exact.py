"""NUMERIC division and ``AVG`` of NUMERIC, exactly (DuckDB computes both in DOUBLE).

GoogleSQL's NUMERIC is a decimal with 9 fraction digits; a quotient or an average is
rounded to 9 digits, half away from zero. DuckDB's ``DECIMAL(38, 9)`` holds the same
values but divides in DOUBLE, so the translation divides the unscaled integers
(``value * 10^9`` as HUGEINT) itself:

- ``a / b``: ``round(a_u * 10^9 / b_u)`` by long division (quotient, then the
  remainder's 9 digits and the rounding digit); a divisor of ``10^20`` or more would
  overflow HUGEINT there and raises instead; a zero divisor raises as in BigQuery;
- ``DIV(a, b)``: ``a_u // b_u``, truncated toward zero;
- ``AVG(x)``: ``round(SUM(x)_u / COUNT(x))`` (the sum is exact in DuckDB), window or not.

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
from idcbq.transpile.numeric import duck_fragment

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

    total = over(exp.Sum(this=avg.this.copy()))
    count = over(exp.Count(this=avg.this.copy()))
    return _decimal(_fragment(_MEAN, _s=_unscaled(total), _n=count))
