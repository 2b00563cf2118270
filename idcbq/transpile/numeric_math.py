"""SQRT/CBRT/LN/LOG/EXP/POW of NUMERIC: NUMERIC in BigQuery, DOUBLE in DuckDB.

A typed rewrite (it reads ``node.type``), run with :mod:`idcbq.transpile.functions`'
typed rules.
"""

from __future__ import annotations

from sqlglot import exp

from idcbq.transpile.rewrites import detach
from idcbq.transpile.rules import handles
from idcbq.transpile.semantics import T, error_call

_NUMERIC_MATH = (exp.Sqrt, exp.Cbrt, exp.Ln, exp.Log, exp.Exp, exp.Pow)
_NUMERIC_MATH_DONE = "idcbq_numeric_math"
#: 2^22: below it a DOUBLE's spacing is under 1e-9, so a DOUBLE equal to a NUMERIC is one.
_FINE = 4194304.0


def _decimal(node: exp.Expr | None) -> bool:
    return node is not None and node.type is not None and node.type.is_type(T.DECIMAL)


@handles(*_NUMERIC_MATH)
def numeric_math(tree: exp.Expr) -> exp.Expr:
    """SQRT/CBRT/LN/LOG/LOG10/EXP/POW of NUMERIC are NUMERIC, computed exactly in
    BigQuery; DuckDB's DOUBLE answer becomes NUMERIC only where it is exactly one and
    below 2^22 in magnitude, else the query raises (loudly): a cast or
    an arithmetic on it would otherwise carry DOUBLE digits (``CAST(LN(n) AS STRING)``)."""
    numeric = exp.DataType.build("DECIMAL(38, 9)")
    for node in list(tree.find_all(*_NUMERIC_MATH)):
        if node.meta.get(_NUMERIC_MATH_DONE):
            continue
        operands = [node.this, node.args.get("expression")]
        typed = [o for o in operands if o is not None]
        if not any(_decimal(o) for o in typed) or not all(
            _decimal(o) or (o.type is not None and o.type.is_type(*exp.DataType.INTEGER_TYPES))
            for o in typed
        ):
            continue  # a FLOAT64 operand (FLOAT64 result) or an unknown type: as before
        node.meta[_NUMERIC_MATH_DONE] = True
        value = exp.cast(node.copy(), "DOUBLE")
        as_numeric = exp.TryCast(this=value.copy(), to=numeric.copy())
        # Beyond 2^22 a DOUBLE's step exceeds NUMERIC's 1e-9: every such DOUBLE "is" a
        # NUMERIC, but its last decimals are noise (CBRT(1e29) differed from the 7th on).
        exact = exp.and_(
            exp.EQ(this=exp.cast(as_numeric.copy(), "DOUBLE"), expression=value.copy()),
            exp.LT(this=exp.Abs(this=value.copy()), expression=exp.Literal.number(_FINE)),
        )
        name = node.sql(dialect="bigquery").split("(", 1)[0]
        message = (
            f"unsupported on DuckDB: {name} of NUMERIC whose FLOAT64 value (DuckDB's) is not "
            "exactly a NUMERIC (BigQuery computes it exactly)"
        )
        slot = detach(node)
        case = exp.Case(
            ifs=[
                exp.If(this=exp.Is(this=node.copy(), expression=exp.null()), true=exp.null()),
                exp.If(this=exact, true=exp.cast(node, numeric.copy())),
            ],
            default=error_call(message),
        )
        case.type = numeric.copy()
        slot.replace(case)
    return tree
