"""BigQuery's FLOAT64 literals as DuckDB DOUBLE literals.

Example:
    >>> import sqlglot
    >>> float_literals(sqlglot.parse_one("SELECT 0.9999999999999999 AS x")).sql("duckdb")
    'SELECT CAST(0.9999999999999999e0 AS DOUBLE) AS x'
"""

from __future__ import annotations

import re

from sqlglot import exp

from idcbq.transpile.rules import datatype, dup, handles


@handles(exp.Literal)
def float_literals(tree: exp.Expr) -> exp.Expr:
    """``2.5`` is FLOAT64 in BigQuery but DECIMAL in DuckDB: make it DOUBLE.

    Otherwise results come back as Decimal and arithmetic uses fixed-point rules. The
    literal is written with an exponent (``2.5e0``), which DuckDB reads as the nearest
    DOUBLE, as BigQuery does; its DECIMAL cast to DOUBLE is not always the nearest
    (``CAST(0.9999999999999999 AS DOUBLE)`` is ``1``).
    """
    for lit in list(tree.find_all(exp.Literal)):
        if lit.is_string or re.fullmatch(r"\d+", lit.this):
            continue
        if isinstance(lit.parent, exp.Limit | exp.TableSample):
            continue
        if isinstance(lit.parent, exp.Cast | exp.TryCast):
            if lit.parent.to.this in (exp.DataType.Type.DOUBLE, exp.DataType.Type.FLOAT):
                lit.set("this", _with_exponent(lit.this))
            continue
        double = dup(lit)
        double.set("this", _with_exponent(lit.this))
        lit.replace(exp.cast(double, datatype("DOUBLE"), copy=False))
    return tree


def _with_exponent(number: str) -> str:
    """``number`` as DuckDB reads a DOUBLE literal (``0.5`` -> ``0.5e0``)."""
    return number if re.search(r"[eE]", number) else number + "e0"
