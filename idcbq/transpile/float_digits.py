"""``ROUND(x, d)`` and ``TRUNC(x, d)`` of a FLOAT64, digit by digit as GoogleSQL does.

GoogleSQL rounds or truncates ``x * 10^d`` as if the product were exact; DuckDB takes the
double product, which can round across the boundary: 2.675 is 2.67499999... in binary,
so ``ROUND(2.675, 2)`` is 2.67 and ``TRUNC(2.675, 3)`` is 2.674, where DuckDB gave 2.68
and 2.675. The product's rounding error (Dekker's exact product) decides the cases the
double product moved. For ``d`` in 1..15 (a literal, or a value checked at run time);
other digits keep DuckDB's answer, and NaN and infinities stay themselves whatever the
digits (DuckDB's ``round(-inf, -7)`` is 0).

Example:
    >>> import sqlglot
    >>> from idcbq.transpile.semantics import T
    >>> tree = sqlglot.parse_one("SELECT TRUNC(x, 3) FROM t", read="bigquery")
    >>> tree.find(exp.Trunc).this.type = exp.DataType.build("DOUBLE")
    >>> "134217729.0" in float_digits(tree).sql("duckdb")
    True
"""

from __future__ import annotations

from sqlglot import exp

from idcbq.transpile.dekker import product_error
from idcbq.transpile.errors_guards import GUARDED
from idcbq.transpile.nan_unknown import duck_fragment
from idcbq.transpile.rewrites import detach, int_literal
from idcbq.transpile.rules import datatype, dup, handles
from idcbq.transpile.semantics import T, is_typed

#: The exact ``_x * _s - _p`` (``_p`` the rounded product).
_PRODUCT_ERROR = product_error("_x", "_s", "_p")
#: ``_p`` (the double product) rounded half away from zero as if exact (``_e``: its error).
_EXACT_ROUND = (
    "CASE WHEN abs(_p - trunc(_p)) = 0.5 AND _e <> 0 "
    "THEN (CASE WHEN _e < 0 THEN floor(_p) ELSE ceil(_p) END) ELSE round(_p) END"
)
#: ``_p`` truncated toward zero as if exact: a whole product the rounding reached from
#: below zero's side is one step too far.
_EXACT_TRUNC = (
    "CASE WHEN _p = trunc(_p) AND _p > 0 AND _e < 0 THEN _p - 1 "
    "WHEN _p = trunc(_p) AND _p < 0 AND _e > 0 THEN _p + 1 ELSE trunc(_p) END"
)


def _exact(x: exp.Expr, scale: exp.Expr, template: str) -> exp.Expr:
    """``template`` applied to ``x * scale`` and its error, divided back by ``scale``."""
    product = exp.Mul(this=dup(x), expression=scale.copy())
    product.meta[GUARDED] = True  # x * 10^d may be inf where ROUND(x, d) is x
    p = exp.paren(product, copy=False)
    err = exp.paren(duck_fragment(_PRODUCT_ERROR, _x=x, _s=scale, _p=p), copy=False)
    whole = duck_fragment(template, _p=p, _e=err)
    quotient = exp.Div(this=exp.paren(whole, copy=False), expression=scale.copy())
    quotient.meta["idcbq_div"] = quotient.meta[GUARDED] = True
    # x * 10^d infinite (x huge): x has no digits to round
    too_big = exp.Not(this=exp.Anonymous(this="isfinite", expressions=[dup(p)]))
    return exp.Case(ifs=[exp.If(this=too_big, true=dup(x))], default=quotient)


@handles(exp.Round, exp.Trunc)
def float_digits(tree: exp.Expr) -> exp.Expr:
    """``ROUND``/``TRUNC`` of a FLOAT64 with digits (see the module's note)."""
    for node in list(tree.find_all(exp.Round, exp.Trunc)):
        digits = node.args.get("decimals")
        if digits is None or not is_typed(node.this, T.DOUBLE, T.FLOAT) or node.meta.get(GUARDED):
            continue
        node.meta[GUARDED] = True
        template = _EXACT_ROUND if isinstance(node, exp.Round) else _EXACT_TRUNC
        x = exp.cast(dup(node.this), datatype("DOUBLE"), copy=False)
        places = int_literal(digits)
        if places is not None and 0 < places <= 15:
            scale = exp.cast(exp.Literal.number(f"1e{places}"), datatype("DOUBLE"), copy=False)
            detach(node).replace(_exact(x, scale, template))
            continue
        slot = detach(node)
        if places is None and isinstance(node, exp.Trunc):  # DuckDB: trunc(DOUBLE, INTEGER)
            node.set("decimals", exp.cast(dup(digits), datatype("INT"), copy=False))
        nan_or_inf = exp.Not(this=exp.Anonymous(this="isfinite", expressions=[dup(x)]))
        ifs = [exp.If(this=nan_or_inf, true=dup(node.this))]
        if places is None:  # a value: the exact form where it is 1..15
            text = duck_fragment("CAST('1e' || CAST(_d AS VARCHAR) AS DOUBLE)", _d=dup(digits))
            in_range = exp.Between(
                this=dup(digits), low=exp.Literal.number(1), high=exp.Literal.number(15)
            )
            ifs.append(exp.If(this=in_range, true=_exact(x, text, template)))
        slot.replace(exp.Case(ifs=ifs, default=node))
    return tree
