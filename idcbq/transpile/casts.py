"""Type-aware cast rewrites (need types from ``idcbq.transpile.types.annotate``).

- ``SAFE_CAST(<STRING> AS INT64)``: DuckDB's TRY_CAST also accepts ``'1.0'``, ``'1e3'``
  and ``'1_000'``; BigQuery returns NULL for them (only decimal or ``0x`` hex digits).
- ``CAST(<FLOAT64> AS INT64)`` (and SAFE_CAST): BigQuery rounds halfway cases away from
  zero (2.5 -> 3); DuckDB rounds them to even (2.5 -> 2). ``ROUND`` first makes them agree.
"""

from __future__ import annotations

from sqlglot import exp

#: What BigQuery accepts as an INT64 string (DuckDB's own whitespace handling kept).
_INT_TEXT = r"^\s*[+-]?(0[xX][0-9a-fA-F]+|[0-9]+)\s*$"


def _is_int64(node: exp.Cast) -> bool:
    return node.to.this in (exp.DataType.Type.BIGINT, exp.DataType.Type.INT)


def needs_types(tree: exp.Expr) -> bool:
    """True if a cast to INT64 appears (only then is annotation worth it)."""
    return any(_is_int64(node) for node in tree.find_all(exp.Cast))


def cast_to_int64(tree: exp.Expr) -> exp.Expr:
    for node in list(tree.find_all(exp.Cast)):  # TryCast is a Cast subclass
        if not _is_int64(node):
            continue
        arg = node.this
        arg_type = arg.type
        safe = isinstance(node, exp.TryCast) or bool(node.args.get("safe"))
        if arg_type is not None and arg_type.is_type(
            exp.DataType.Type.DOUBLE, exp.DataType.Type.FLOAT
        ):
            node.set("this", exp.Round(this=arg.copy()))
        elif safe and arg_type is not None and arg_type.is_type(*exp.DataType.TEXT_TYPES):
            guard = exp.RegexpLike(this=arg.copy(), expression=exp.Literal.string(_INT_TEXT))
            node.replace(exp.Case(ifs=[exp.If(this=guard, true=node.copy())]))
    return tree
