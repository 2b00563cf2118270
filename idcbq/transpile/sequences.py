"""``GENERATE_ARRAY`` of FLOAT64 or NUMERIC (untyped rule: a FLOAT64 or NUMERIC literal
or cast among its bounds).

DuckDB's ``generate_series`` takes integers only. GoogleSQL's elements are
``start + i * step`` (not a running sum: ``GENERATE_ARRAY(0, 1, 0.1)`` holds
``0.6000000000000001``), up to and including ``end``; a zero step or a NaN bound is an
error, a NULL bound gives NULL (checked first). The translation builds the same products over
``range(0, n)``, ``n`` one more than the quotient promises, and keeps those within
``end`` (the products are monotone in ``i``, so the kept ones are a prefix).

Example:
    >>> import sqlglot
    >>> tree = sqlglot.parse_one("SELECT GENERATE_ARRAY(0, 1, 0.25) AS a", read="bigquery")
    >>> "LIST_TRANSFORM(RANGE(0," in float_generate_array(tree).sql("duckdb")
    True
"""

from __future__ import annotations

from sqlglot import exp

from idcbq.transpile.errors_guards import guard
from idcbq.transpile.numeric import duck_fragment
from idcbq.transpile.rules import handles

_FLOAT_NAMES = ("FLOAT64", "DOUBLE", "FLOAT")
_COUNT = "greatest(0, CAST(floor((_e - _s) / _t) AS BIGINT) + 2)"  # one spare; the filter trims
_ELEMENTS = (
    "list_filter(list_transform(range(0, _n), lambda _idcbq_i: _s + _idcbq_i * _t), "
    "lambda _idcbq_v: CASE WHEN _t > 0 THEN _idcbq_v <= _e ELSE _idcbq_v >= _e END)"
)


@handles(exp.GenerateSeries)
def float_generate_array(tree: exp.Expr) -> exp.Expr:
    """``GENERATE_ARRAY(start, end[, step])`` with a FLOAT64 (else NUMERIC) literal or cast
    among them."""
    for node in list(tree.find_all(exp.GenerateSeries)):
        bounds = [node.args.get(k) for k in ("start", "end", "step")]
        if bounds[0] is None or bounds[1] is None:
            continue
        if any(b is not None and is_float_bound(b) for b in bounds):
            kind = "DOUBLE"
        elif any(b is not None and is_numeric_bound(b) for b in bounds):
            kind = "DECIMAL(38, 9)"  # exact decimal products, as GoogleSQL's NUMERIC
        else:
            continue
        start, end, step = (
            exp.cast(b.copy() if b is not None else exp.Literal.number(1), kind) for b in bounds
        )
        parts = {"_s": start, "_e": end, "_t": step}
        count = duck_fragment(_COUNT, **parts)
        answer = duck_fragment(_ELEMENTS, _n=count, **parts)
        if kind != "DOUBLE":
            answer = exp.cast(answer, f"{kind}[]")  # DuckDB widens a decimal product
        else:
            not_finite = duck_fragment("NOT isfinite((_e - _s) / _t)", **parts)
            answer = guard(
                answer, not_finite, "Cannot generate arrays with more than 16000 elements."
            )
        zero = exp.EQ(this=step.copy(), expression=exp.Literal.number(0))
        answer = guard(answer, zero, "Sequence step cannot be 0.")
        if kind == "DOUBLE":
            nan = exp.or_(
                *(exp.Anonymous(this="isnan", expressions=[b.copy()]) for b in (start, end, step))
            )
            answer = guard(answer, nan, "Sequence start, end, and step cannot be NaN.")
        # a NULL bound gives NULL (DuckDB's greatest() skips the NULL count: [])
        nulls = exp.or_(*(exp.Is(this=b.copy(), expression=exp.null()) for b in (start, end, step)))
        answer = exp.Case(ifs=[exp.If(this=nulls, true=exp.null())], default=answer)
        node.replace(answer)
    return tree


def is_numeric_bound(node: exp.Expr) -> bool:
    """A NUMERIC literal or cast (BIGNUMERIC is refused before this rule runs)."""
    while isinstance(node, exp.Neg | exp.Paren):
        node = node.this
    node = _read_cast(node)
    return isinstance(node, exp.Cast) and node.to.is_type(exp.DataType.Type.DECIMAL)


def _read_cast(node: exp.Expr) -> exp.Expr:
    """The cast inside a CASE that a typed rule built to read text (``NUMERIC '1.5'``,
    ``CAST('nan' AS FLOAT64)``): its first THEN that is a cast; else ``node``."""
    if isinstance(node, exp.Case):
        casts = (i.args.get("true") for i in node.args.get("ifs", []))
        return next((c for c in casts if isinstance(c, exp.Cast)), node)
    return node


def is_float_bound(node: exp.Expr) -> bool:
    while isinstance(node, exp.Neg | exp.Paren):
        node = node.this
    if isinstance(node, exp.Literal):
        text = str(node.this).lower()
        return not node.is_string and ("." in text or "e" in text)
    node = _read_cast(node)
    if isinstance(node, exp.Cast):
        return node.to.sql("bigquery").upper() in _FLOAT_NAMES
    return False
