"""INT64 bit operations on the 64-bit two's complement pattern, as GoogleSQL defines them.

- ``shifts``: ``>>`` does not sign-extend, ``<<`` of a negative value shifts its bits,
  a shift by 64 or more is 0, a negative shift is an error (DuckDB sign-extends ``>>``
  and raises on large shifts).
- ``bit_count``: ``BIT_COUNT`` of a negative INT64 counts its 64-bit two's complement
  (DuckDB counts the magnitude's bits).

Probes: ``tests/probes/numbers.yaml``.
"""

from __future__ import annotations

from sqlglot import exp

from idcbq.transpile.nan_unknown import duck_fragment
from idcbq.transpile.rules import handles
from idcbq.transpile.semantics import error_call as _error
from idcbq.transpile.semantics import is_typed as _typed

_UNSIGNED = "(CAST(_a AS HUGEINT) + 18446744073709551616) % 18446744073709551616"
_SIGNED = (
    "CAST(CASE WHEN _v >= 9223372036854775808 THEN _v - 18446744073709551616 ELSE _v END AS BIGINT)"
)


@handles(exp.BitwiseLeftShift, exp.BitwiseRightShift)
def shifts(tree: exp.Expr) -> exp.Expr:
    """INT64 ``<<``/``>>`` on the 64-bit pattern: logical, 0 from 64 bits, error if negative."""
    for node in list(tree.find_all(exp.BitwiseLeftShift, exp.BitwiseRightShift)):
        value, count = node.this, node.expression
        if not _typed(value, *exp.DataType.INTEGER_TYPES):
            continue
        unsigned = duck_fragment(_UNSIGNED, _a=value)
        power = "(CAST(1 AS HUGEINT) << CAST(_n AS INTEGER))"
        if isinstance(node, exp.BitwiseRightShift):
            shifted = duck_fragment(f"_u // {power}", _u=unsigned, _n=count)
        else:
            rest = "(CAST(1 AS HUGEINT) << CAST(64 - _n AS INTEGER))"
            shifted = duck_fragment(f"(_u % {rest}) * {power}", _u=unsigned, _n=count)
        for div in shifted.find_all(exp.IntDiv, exp.Mod):
            div.meta["idcbq_div"] = True  # divisors are powers of two, never 0
        signed = duck_fragment(_SIGNED, _v=exp.paren(shifted))
        bad = exp.LT(this=count.copy(), expression=exp.Literal.number(0))
        wide = exp.GTE(this=count.copy(), expression=exp.Literal.number(64))
        node.replace(
            exp.Case(
                ifs=[
                    exp.If(this=bad, true=_error("Bit shift by a negative amount")),
                    exp.If(this=wide, true=exp.cast(exp.Literal.number(0), "BIGINT")),
                ],
                default=signed,
            )
        )
    return tree


@handles(exp.BitwiseCount)
def bit_count(tree: exp.Expr) -> exp.Expr:
    """``BIT_COUNT(INT64)`` counts the bits of the 64-bit two's complement pattern."""
    for node in list(tree.find_all(exp.BitwiseCount)):
        if not _typed(node.this, *exp.DataType.INTEGER_TYPES):
            continue
        unsigned = exp.cast(
            duck_fragment(_UNSIGNED, _a=node.this), exp.DataType.build("UBIGINT", dialect="duckdb")
        )
        for mod in unsigned.find_all(exp.Mod):
            mod.meta["idcbq_div"] = True
        node.replace(exp.cast(exp.Anonymous(this="bit_count", expressions=[unsigned]), "BIGINT"))
    return tree


#: Run among ``numeric.TYPED``.
TYPED = (shifts, bit_count)
