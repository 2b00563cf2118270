"""BigQuery's FLOAT64 literals as DuckDB DOUBLE literals; INT64 constants as BIGINT.

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


def _int_constant(node: exp.Expr) -> bool:
    """An INT64 made of integer literals only (DuckDB types it INTEGER, 32 bits)."""
    if isinstance(node, exp.Literal):
        return not node.is_string and re.fullmatch(r"\d+", node.this) is not None
    if isinstance(node, exp.Neg | exp.Paren):
        return _int_constant(node.this)
    if isinstance(node, exp.Add | exp.Sub | exp.Mul):
        return _int_constant(node.this) and _int_constant(node.expression)
    if isinstance(node, exp.Case | exp.If | exp.Coalesce):
        if isinstance(node, exp.Case):
            results = [branch.args.get("true") for branch in node.args.get("ifs") or []]
            results.append(node.args.get("default"))
        elif isinstance(node, exp.If):
            results = [node.args.get("true"), node.args.get("false")]
        else:
            results = [node.this, *node.expressions]
        results = [r for r in results if r is not None and not isinstance(r, exp.Null)]
        return bool(results) and all(_int_constant(r) for r in results)
    return False


def _stored(node: exp.Expr) -> bool:
    """Whether DuckDB stores ``node``'s value with the type it infers: an array element,
    a STRUCT field, a VALUES item or a named SELECT item (later read as a column)."""
    parent = node.parent
    if isinstance(parent, exp.PropertyEQ):
        return isinstance(parent.parent, exp.Struct) and node is parent.expression
    if isinstance(parent, exp.Alias):
        return isinstance(parent.parent, exp.Select) and node is parent.this
    if isinstance(parent, exp.Tuple):
        return isinstance(parent.parent, exp.Values)
    return isinstance(parent, exp.Array | exp.Struct)


_CONSTANT_PARTS = (exp.Literal, exp.Neg, exp.Paren, exp.Add, exp.Sub, exp.Mul, exp.Case, exp.If)


@handles(exp.Literal)
def int_constants(tree: exp.Expr) -> exp.Expr:
    """An INT64 constant DuckDB would store as INTEGER (``[100000]``, ``STRUCT(1 AS a)``,
    ``SELECT 50000 + 50000 AS a``) is cast to BIGINT: arithmetic on the stored value
    overflowed 32 bits (``x * x``: an error; ``SAFE_MULTIPLY``: NULL) where BigQuery's
    INT64 does not."""
    # One walk, then the candidates in the order of one find_all per kind: a stored
    # constant may sit in a CASE condition of another (``CASE WHEN ... [5] ... THEN 1``),
    # and which one is replaced first decides the result.
    found = [node for node in tree.find_all(*_CONSTANT_PARTS) if _stored(node)]
    stored = [
        node
        for kind in _CONSTANT_PARTS
        for node in found
        if isinstance(node, kind) and _int_constant(node)
    ]
    for node in stored:
        node.replace(exp.cast(node.copy(), datatype("BIGINT"), copy=False))
    return tree
