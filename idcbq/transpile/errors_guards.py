"""Building blocks of the runtime-error rewrites: a guarded ``error()`` call DuckDB raises
where BigQuery would.

Example:
    >>> from sqlglot import exp
    >>> guard(exp.column("x"), exp.column("x").is_(exp.null()), "x is NULL").sql("duckdb")
    "CASE WHEN x IS NULL THEN ERROR('x is NULL') ELSE x END"
"""

from __future__ import annotations

from sqlglot import exp

from idcbq.transpile.rewrites import GUARD_ERROR
from idcbq.transpile.rewrites import error_call as _error

#: Marks a node a rewrite has already guarded (rewrites run more than once per query).
GUARDED = "idcbq_runtime_error"


#: Marks the ``error()`` calls these rewrites add (a ``SAFE.`` call turns them to NULL).
OURS = GUARD_ERROR


def raise_error(message: str) -> exp.Expr:
    """DuckDB ``error(message)``, marked as ours (:data:`OURS`)."""
    return _error(message)


def guard(value: exp.Expr, bad: exp.Expr, message: str) -> exp.Expr:
    """``value``, or an error with ``message`` where ``bad`` holds."""
    return exp.Case(ifs=[exp.If(this=bad, true=raise_error(message))], default=value)


def fresh(tree: exp.Expr, *kinds: type[exp.Expr], key: str = GUARDED) -> list[exp.Expr]:
    """Nodes of ``kinds`` in ``tree`` not yet marked with ``key`` (and marks them)."""
    out = []
    for node in list(tree.find_all(*kinds)):
        if not node.meta.get(key):
            node.meta[key] = True
            out.append(node)
    return out


def duck_call(name: str, *args: exp.Expr) -> exp.Expr:
    """A call of DuckDB function ``name``."""
    return exp.Anonymous(this=name, expressions=list(args))


def finite(*args: exp.Expr) -> exp.Expr:
    """Every argument is a finite number."""
    return exp.and_(*(duck_call("isfinite", exp.cast(a.copy(), "DOUBLE")) for a in args))
