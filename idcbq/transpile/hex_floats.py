"""Hexadecimal floating-point text read as FLOAT64, the way GoogleSQL reads it.

GoogleSQL's ``CAST(s AS FLOAT64)`` accepts C-style hex floats besides decimal text:
``'0x1p3'`` is 8, ``'0x1.8'`` 1.5, ``'-0x.8p0'`` -0.5 (a ``p`` exponent is optional and
counts powers of two). DuckDB reads none of them (a ``TRY_CAST`` gives NULL, so a
``SAFE_CAST`` answered NULL where GoogleSQL answers a number). The value is computed
exactly where it can be: at most 13 hex digits (52 bits, so the integer is exact as a
DOUBLE) and a binary exponent within +-900 (no overflow, no subnormal); any other hex
float text raises instead of guessing.

Example:
    >>> branches = hex_float_branches(exp.column("s"))
    >>> [b.sql("duckdb").startswith("CASE WHEN REGEXP_MATCHES(s, ") for b in branches]
    [True, True]
"""

from __future__ import annotations

from sqlglot import exp

from idcbq.transpile.rewrites import error_call
from idcbq.transpile.rules import dup

#: Any hex float text (hex integers included; callers try those first).
HEX_FLOAT_TEXT = r"^\s*[+-]?0[xX]([0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)([pP][+-]?\d+)?\s*$"
#: Its parts: sign, integer digits, fraction digits, binary exponent.
_PARTS = r"^\s*([+-]?)0[xX]([0-9a-fA-F]*)\.?([0-9a-fA-F]*)(?:[pP]([+-]?\d+))?\s*$"
_MAX_DIGITS = 13
_MAX_EXPONENT = 900


def _fn(name: str, *args: exp.Expr) -> exp.Expr:
    # DuckDB's own functions: BigQuery's rewrites leave an Anonymous call alone
    return exp.Anonymous(this=name, expressions=list(args))


def _part(text: exp.Expr, group: int) -> exp.Expr:
    return _fn("regexp_extract", dup(text), exp.Literal.string(_PARTS), exp.Literal.number(group))


def hex_float_branches(text: exp.Expr) -> list[exp.If]:
    """``CASE`` branches reading hex float ``text``: the exact value, else an error.

    Args:
        text: a STRING expression (copied, never moved).

    Returns:
        Two ``If`` branches to place after the decimal and hex-integer ones.
    """
    digits = exp.DPipe(this=_part(text, 2), expression=_part(text, 3))
    mantissa = exp.TryCast(
        this=exp.DPipe(this=exp.Literal.string("0x"), expression=digits),
        to=exp.DataType.build("UBIGINT", dialect="duckdb"),
    )
    power = exp.TryCast(
        this=exp.Coalesce(
            this=_fn("nullif", _part(text, 4), exp.Literal.string("")),
            expressions=[exp.Literal.string("0")],
        ),
        to=exp.DataType.build("INTEGER"),
    )
    scale = exp.Sub(
        this=power.copy(),
        expression=exp.Mul(this=exp.Literal.number(4), expression=_fn("length", _part(text, 3))),
    )
    magnitude = exp.Mul(
        this=exp.cast(mantissa.copy(), "DOUBLE"),
        expression=_fn("pow", exp.Literal.number("2.0"), scale),
    )
    signed = exp.Case(
        ifs=[
            exp.If(
                this=exp.EQ(this=_part(text, 1), expression=exp.Literal.string("-")),
                true=exp.Neg(this=exp.paren(magnitude.copy(), copy=False)),
            )
        ],
        default=magnitude,
    )
    exact = exp.and_(
        _fn("regexp_matches", dup(text), exp.Literal.string(HEX_FLOAT_TEXT)),
        exp.LTE(this=_fn("length", digits.copy()), expression=exp.Literal.number(_MAX_DIGITS)),
        exp.LTE(this=_fn("abs", power.copy()), expression=exp.Literal.number(_MAX_EXPONENT)),
        copy=False,
    )
    refuse = error_call(
        "unsupported on DuckDB: a hexadecimal floating-point STRING read as FLOAT64 "
        f"with more than {_MAX_DIGITS} hex digits or a binary exponent beyond "
        f"{_MAX_EXPONENT}"
    )
    matches = _fn("regexp_matches", dup(text), exp.Literal.string(HEX_FLOAT_TEXT))
    return [
        exp.If(this=exact, true=signed),  # a NULL condition (no match) is not taken
        exp.If(this=matches, true=refuse),
    ]
