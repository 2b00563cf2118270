"""FLOAT64 functions computed as GoogleSQL computes them.

GoogleSQL's reference implementation calls the C math library for each function
(``std::log``, ``std::acosh``, ...) and raises where a finite argument gives a
non-finite answer; DuckDB calls its own C library (glibc). Where the two libraries share
the algorithm (``SQRT``, ``LN``, ``EXP``, ``POW``, ``ACOSH``) the answers agree bit for
bit but for rare arguments (1 in 1,300 to 1 in 20,000 sampled); where they do not
(``SIN``, ``LOG10``, ``ATAN2``, ... 0.3% to 13% of sampled arguments,
``tests/tools/float_math_rates.py``) DuckDB's answer may differ from GoogleSQL's
reference build in the last bits. Those run, as a float aggregate's summation order
does: a last-bit difference no SQL expression can remove (strict xfail probes in
``tests/probes/float_math.yaml`` name the residuals).

- ``CBRT(x)`` is the correctly rounded cube root (DuckDB's ``CBRT(27)`` was
  ``3.0000000000000004``): of DuckDB's root and its two neighbours, the one whose cube is
  nearest ``x``, compared in double-double arithmetic (Dekker's products). Subnormal and
  non-finite ``x`` keep DuckDB's root.

- ``LOG(x, b)`` is ``LN(x) / LN(b)`` in GoogleSQL, base 10 included (NaN for a base
  not finite and positive); DuckDB's two-argument ``log`` differed in the last place for
  most inputs. It raises (NULL under ``SAFE.``) where the quotient is not finite but
  both arguments are. ``LOG10(x)`` parses to the same node; only SQL that skipped the
  capability check (the sample builder's own) reaches it, and keeps DuckDB's ``log10``.
- ``LN(-inf)`` is NaN in GoogleSQL (a non-finite argument never raises); DuckDB's
  ``ln`` raises: the argument is NaN there.
- ``ACOSH(x)`` raises for a finite ``x < 1`` (DuckDB: NaN).

Example:
    >>> import sqlglot
    >>> tree = sqlglot.parse_one("SELECT LOG(x, 10), ACOSH(y) FROM t", read="bigquery")
    >>> sql = apply(tree).sql("duckdb")
    >>> "THEN ERROR('Floating point error in function: LOG')" in sql, "ELSE ACOSH(y)" in sql
    (True, True)
"""

from __future__ import annotations

from sqlglot import exp

from idcbq.transpile.capability import function_name
from idcbq.transpile.dekker import product_error
from idcbq.transpile.errors_guards import finite, guard, raise_error
from idcbq.transpile.numeric import duck_fragment
from idcbq.transpile.rules import handles, run_steps

_DONE = "idcbq_float_function"


_SQUARE, _CUBE = "(c * c)", "((c * c) * c)"
#: |c^3 - x| for a candidate root ``c`` (a lambda parameter) of ``_x``
_DISTANCE = (
    f"abs(({_CUBE} - _x) + ({product_error(_SQUARE, 'c', _CUBE)} + "
    f"{product_error('c', 'c', _SQUARE)} * c))"
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


def _fresh(tree: exp.Expr, kind: type[exp.Expr]) -> list[exp.Expr]:
    """Nodes of ``kind`` not rewritten yet (rules may run more than once)."""
    out = [node for node in tree.find_all(kind) if not node.meta.get(_DONE)]
    for node in out:
        node.meta[_DONE] = True
    return out


def _quiet_ln(value: exp.Expr) -> exp.Expr:
    """The C library's ``log(value)``: -inf at 0, NaN below (DuckDB's ``ln`` raises there)."""
    return duck_fragment(
        "CASE WHEN _v > 0 OR isnan(_v) THEN ln(_v) WHEN _v = 0 THEN CAST('-inf' AS DOUBLE) "
        "ELSE CAST('nan' AS DOUBLE) END",
        _v=value,
    )


@handles(exp.Log)
def log_of_base(tree: exp.Expr) -> exp.Expr:
    """``LOG(x, b)`` as GoogleSQL computes it (``LOG10(x)`` stays DuckDB's ``log10``).

    ``LN(x) / LN(b)`` for a finite positive ``b``, else NaN; an error (NULL under
    ``SAFE.``) where that is not finite while ``x`` and ``b`` are.
    """
    for node in list(tree.find_all(exp.Log)):
        base, value = node.this, node.args.get("expression")
        if value is None or function_name(node) == "LOG10":
            continue
        quotient = exp.Div(this=_quiet_ln(value), expression=_quiet_ln(base))
        quotient.meta["idcbq_ieee"] = True  # infinite by design: no overflow guard
        positive = exp.and_(
            duck_fragment("isfinite(_b)", _b=base),
            exp.GT(this=base.copy(), expression=exp.Literal.number(0)),
        )
        nan = duck_fragment("CAST('nan' AS DOUBLE)")
        nulls = exp.or_(*(exp.Is(this=v.copy(), expression=exp.null()) for v in (value, base)))
        log = exp.Case(  # a NULL argument gives NULL, not the NaN of a bad base
            ifs=[exp.If(this=nulls, true=exp.null()), exp.If(this=positive, true=quotient)],
            default=nan,
        )
        bad = exp.and_(exp.Not(this=duck_fragment("isfinite(_q)", _q=log)), finite(value, base))
        safe = node.parent if isinstance(node.parent, exp.SafeFunc) else None
        failed = exp.null() if safe else raise_error("Floating point error in function: LOG")
        (safe or node).replace(exp.Case(ifs=[exp.If(this=bad, true=failed)], default=log.copy()))
    return tree


@handles(exp.Ln)
def log_of_minus_infinity(tree: exp.Expr) -> exp.Expr:
    """``LN(-inf)`` is NaN, as GoogleSQL's (DuckDB's ``ln`` raises)."""
    for node in _fresh(tree, exp.Ln):
        value = node.this
        minus_inf = exp.EQ(this=value.copy(), expression=duck_fragment("CAST('-inf' AS DOUBLE)"))
        nan = duck_fragment("CAST('nan' AS DOUBLE)")
        node.set("this", exp.Case(ifs=[exp.If(this=minus_inf, true=nan)], default=value))
    return tree


@handles(exp.Acosh)
def acosh_domain(tree: exp.Expr) -> exp.Expr:
    """``ACOSH(x)`` raises for a finite ``x < 1``, as GoogleSQL's (DuckDB: NaN)."""
    for node in _fresh(tree, exp.Acosh):
        below = exp.LT(this=node.this.copy(), expression=exp.Literal.number(1))
        bad = exp.and_(below, finite(node.this))
        # under SAFE. the guard's error() turns to NULL (safe_calls)
        node.replace(guard(node.copy(), bad, "Floating point error in function: ACOSH"))
    return tree


#: Every rule of this module, in order.
STEPS = (correctly_rounded_cbrt, log_of_base, log_of_minus_infinity, acosh_domain)


def apply(tree: exp.Expr) -> exp.Expr:
    """Run every rule of this module (:data:`STEPS`)."""
    return run_steps(tree, STEPS)
