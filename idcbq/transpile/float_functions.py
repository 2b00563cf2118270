"""FLOAT64 functions computed as GoogleSQL computes them.

``LOG(x, b)`` is ``LN(x) / LN(b)`` in GoogleSQL (NaN for an infinite base); DuckDB's two-argument ``log`` (a
``log2`` for base 2) differed in the last place for most inputs. ``LOG10`` parses to
the same node with base 10 and keeps DuckDB's ``log10``; so does ``SAFE.LOG`` (its
arguments are evaluated apart from the call, :mod:`idcbq.transpile.safe_calls`).

``CBRT(x)`` is correctly rounded, as GoogleSQL's is.

DuckDB's ``cbrt`` (the C library's) is often one unit in the last place off:
``CBRT(27)`` is ``3.0000000000000004`` and ``CBRT(2)`` ``1.2599210498948734`` where
GoogleSQL gives ``3`` and ``1.2599210498948732``. Of DuckDB's root and its two
neighbours, the one whose cube is nearest ``x`` is the correctly rounded root; each cube
is compared exactly enough in double-double arithmetic (Dekker's products). Subnormal
and non-finite ``x`` keep DuckDB's root (there a split loses bits; GoogleSQL's answers
agree at 0, infinities and NaN).

Example:
    >>> import sqlglot
    >>> tree = sqlglot.parse_one("SELECT CBRT(x), LOG(x, 2) FROM t", read="bigquery")
    >>> sql = apply(tree).sql("duckdb")
    >>> "NEXTAFTER" in sql, "ELSE LN(x) / LN(2) END" in sql
    (True, True)
"""

from __future__ import annotations

from sqlglot import exp

from idcbq.transpile.numeric import duck_fragment
from idcbq.transpile.rules import handles, run_steps

_SPLIT = "134217729.0"  # 2^27 + 1: splits a double into two 26-bit halves


def _high(a: str) -> str:
    return f"(({a}) * {_SPLIT} - (({a}) * {_SPLIT} - ({a})))"


def _product_error(a: str, b: str, product: str) -> str:
    """Exact ``a * b - product`` for ``product = a * b`` rounded (Dekker)."""
    ah, bh = _high(a), _high(b)
    al, bl = f"(({a}) - {ah})", f"(({b}) - {bh})"
    return (
        f"(((({ah}) * ({bh}) - ({product})) + ({ah}) * ({bl}) + ({al}) * ({bh})) + ({al}) * ({bl}))"
    )


_SQUARE, _CUBE = "(c * c)", "((c * c) * c)"
#: |c^3 - x| for a candidate root ``c`` (a lambda parameter) of ``_x``
_DISTANCE = (
    f"abs(({_CUBE} - _x) + ({_product_error(_SQUARE, 'c', _CUBE)} + "
    f"{_product_error('c', 'c', _SQUARE)} * c))"
)
_CANDIDATES = (
    "[cbrt(_x), nextafter(cbrt(_x), CAST('inf' AS DOUBLE)), "
    "nextafter(cbrt(_x), CAST('-inf' AS DOUBLE))]"
)
_ROOT = (
    "CASE WHEN NOT isfinite(_x) OR abs(_x) < 1e-290 THEN cbrt(_x) ELSE "
    f"list_min(list_transform({_CANDIDATES}, c -> {{'d': {_DISTANCE}, 'c': c}})).c END"
)


@handles(exp.Cbrt)
def correctly_rounded_cbrt(tree: exp.Expr) -> exp.Expr:
    """Every ``CBRT(x)`` as the correctly rounded cube root."""
    for node in list(tree.find_all(exp.Cbrt)):
        node.replace(exp.paren(duck_fragment(_ROOT, _x=node.this)))
    return tree


@handles(exp.Log)
def log_of_base(tree: exp.Expr) -> exp.Expr:
    """``LOG(x, b)`` as ``LN(x) / LN(b)`` (base 10: ``LOG10``, DuckDB's ``log10``)."""
    for node in list(tree.find_all(exp.Log)):
        base, value = node.this, node.args.get("expression")
        if value is None or (isinstance(base, exp.Literal) and base.this in ("10", 10)):
            continue
        infinite_base = exp.EQ(this=base.copy(), expression=duck_fragment("CAST('inf' AS DOUBLE)"))
        nan = duck_fragment("CAST('nan' AS DOUBLE)")
        if isinstance(node.parent, exp.SafeFunc):  # safe_calls reads the call's own arguments
            safe = node.parent
            safe.replace(exp.Case(ifs=[exp.If(this=infinite_base, true=nan)], default=safe.copy()))
            continue
        quotient = exp.Div(this=exp.Ln(this=value.copy()), expression=exp.Ln(this=base.copy()))
        node.replace(exp.Case(ifs=[exp.If(this=infinite_base, true=nan)], default=quotient))
    return tree


#: Every rule of this module, in order.
STEPS = (correctly_rounded_cbrt, log_of_base)


def apply(tree: exp.Expr) -> exp.Expr:
    """Run every rule of this module (:data:`STEPS`)."""
    return run_steps(tree, STEPS)
