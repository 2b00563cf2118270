"""Runtime errors BigQuery raises are errors on DuckDB too (DuckDB ``error()`` calls).

Where BigQuery stops a query, DuckDB often answers (``inf``, a shortened string, a
mirrored window offset). Each rewrite wraps the expression in
``CASE WHEN <BigQuery would fail> THEN error('<message>') ELSE <expression> END``:

- ``float_overflow``: ``EXP``, ``POW``/``POWER`` and ``*``/``+``/``-`` of FLOAT64 whose result
  is infinite from finite inputs ("Floating point overflow"; DuckDB returns ``inf``);
- ``negative_length``: ``LEFT(s, n)``/``RIGHT(s, n)`` with ``n < 0`` (DuckDB counts from the
  other end);
- ``negative_offset``: ``LEAD``/``LAG`` with a negative offset (DuckDB flips the direction);
- ``translate_duplicates``: ``TRANSLATE`` whose source characters repeat;
- ``json_wildcard``: a JSONPath with ``[*]``, ``.*`` or ``..`` (BigQuery's JSONPath has no
  wildcards; DuckDB expands them).

Example:
    >>> import sqlglot
    >>> tree = apply(sqlglot.parse_one("SELECT LEFT(s, n) AS x FROM t", read="bigquery"))
    >>> tree.sql("duckdb")
    "SELECT CASE WHEN n < 0 THEN ERROR('LEFT: the length cannot be negative') ELSE LEFT(s, n) END AS x FROM t"
"""

from __future__ import annotations

from sqlglot import exp

from idcbq.transpile.rewrites import detach
from idcbq.transpile.semantics import error_call as _error

_DONE = "idcbq_runtime_error"


def _guard(value: exp.Expr, bad: exp.Expr, message: str) -> exp.Expr:
    return exp.Case(ifs=[exp.If(this=bad, true=_error(message))], default=value)


def _fresh(tree: exp.Expr, *kinds: type[exp.Expr]) -> list[exp.Expr]:
    out = []
    for node in list(tree.find_all(*kinds)):
        if not node.meta.get(_DONE):
            node.meta[_DONE] = True
            out.append(node)
    return out


def _fn(name: str, *args: exp.Expr) -> exp.Expr:
    return exp.Anonymous(this=name, expressions=list(args))


def _finite(*args: exp.Expr) -> exp.Expr:
    return exp.and_(*(_fn("isfinite", exp.cast(a.copy(), "DOUBLE")) for a in args))


def _is_float(node: exp.Expr) -> bool:
    if isinstance(node, exp.Cast) and node.to.this in (
        exp.DataType.Type.DOUBLE,
        exp.DataType.Type.FLOAT,
    ):
        return True
    if isinstance(node, exp.Literal) and not node.is_string:
        return any(c in node.this.lower() for c in ".e")
    return isinstance(node, (exp.Exp, exp.Pow, exp.Sqrt, exp.Ln, exp.Log))


def float_overflow(tree: exp.Expr) -> exp.Expr:
    """EXP/POW/arithmetic of FLOAT64: an infinite result from finite inputs raises."""
    for node in _fresh(tree, exp.Exp, exp.Pow, exp.Mul, exp.Add, exp.Sub):
        if isinstance(node, exp.Exp):
            inputs, what = [node.this], "function: EXP"
        elif isinstance(node, exp.Pow):
            inputs, what = [node.this, node.expression], "function: POW"
        else:
            if not (_is_float(node.this) or _is_float(node.expression)):
                continue
            inputs, what = [node.this, node.expression], f"operator {_symbol(node)}"
        result = exp.cast(node.copy(), "DOUBLE")
        bad = exp.and_(_fn("isinf", result), _finite(*inputs))
        detach(node).replace(_guard(node, bad, f"Floating point overflow in {what}"))
    return tree


def _symbol(node: exp.Expr) -> str:
    return {exp.Mul: "*", exp.Add: "+", exp.Sub: "-"}[type(node)]


def negative_length(tree: exp.Expr) -> exp.Expr:
    """``LEFT``/``RIGHT`` with a negative length raise (DuckDB cuts from the other end)."""
    for node in _fresh(tree, exp.Left, exp.Right):
        n = node.expression
        name = "LEFT" if isinstance(node, exp.Left) else "RIGHT"
        bad = exp.LT(this=n.copy(), expression=exp.Literal.number(0))
        detach(node).replace(_guard(node, bad, f"{name}: the length cannot be negative"))
    return tree


def negative_offset(tree: exp.Expr) -> exp.Expr:
    """``LEAD``/``LAG`` with a negative offset raise (DuckDB reverses the direction)."""
    for node in _fresh(tree, exp.Lead, exp.Lag):
        offset = node.args.get("offset")
        window = node.parent
        if offset is None or not isinstance(window, exp.Window):
            continue
        name = "LEAD" if isinstance(node, exp.Lead) else "LAG"
        bad = exp.LT(this=offset.copy(), expression=exp.Literal.number(0))
        detach(window).replace(_guard(window, bad, f"{name}: the offset cannot be negative"))
    return tree


def translate_duplicates(tree: exp.Expr) -> exp.Expr:
    """``TRANSLATE(s, source, target)`` with a repeated source character raises."""
    for node in _fresh(tree, exp.Translate):
        src = node.args.get("from_") or node.args.get("from")
        if src is None:
            continue
        chars = _fn("string_split", src.copy(), exp.Literal.string(""))
        bad = exp.NEQ(
            this=_fn("length", src.copy()),
            expression=_fn("len", _fn("list_distinct", chars)),
        )
        detach(node).replace(
            _guard(node, bad, "TRANSLATE: duplicate character in the source characters")
        )
    return tree


def json_wildcard(tree: exp.Expr) -> exp.Expr:
    """A JSONPath with a wildcard or recursive descent is an error (not BigQuery's JSONPath)."""
    kinds = tuple(
        k
        for k in (getattr(exp, "JSONPathWildcard", None), getattr(exp, "JSONPathRecursive", None))
        if k is not None
    )
    for part in list(tree.find_all(*kinds)):
        path = part.find_ancestor(exp.JSONPath)
        call = path.parent if path is not None else None
        if call is None or call.meta.get(_DONE):
            continue
        call.meta[_DONE] = True
        token = "[*] or .*" if "Wildcard" in type(part).__name__ else ".."
        call.replace(_error(f"Unsupported JSONPath token {token} (BigQuery's JSONPath)"))
    return tree


ALL = (float_overflow, negative_length, negative_offset, translate_duplicates, json_wildcard)


def apply(tree: exp.Expr) -> exp.Expr:
    """All the rewrites above."""
    for rewrite in ALL:
        tree = rewrite(tree)
    return tree
