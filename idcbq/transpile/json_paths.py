"""JSONPath arguments GoogleSQL reads and DuckDB would read otherwise (an untyped rule).

Run with :mod:`idcbq.transpile.json_values`' rules; its probes are in
``tests/probes/json*.yaml`` and ``compose33.yaml``.
"""

from __future__ import annotations

from sqlglot import exp

from idcbq.errors import TranspileError
from idcbq.transpile.errors_guards import GUARDED
from idcbq.transpile.rules import handles
from idcbq.transpile.semantics import error_call as _error

PATH_FUNCTIONS = (exp.JSONExtract, exp.JSONExtractScalar, exp.JSONExtractArray, exp.JSONValueArray)


@handles(*PATH_FUNCTIONS)
def json_path_modes(tree: exp.Expr) -> exp.Expr:
    """A JSONPath sqlglot could not read (``'lax $.a'``, ``'lax recursive $'``) is refused:
    DuckDB would find nothing (NULL) where GoogleSQL's path modes find values. A path
    without its leading ``$`` is GoogleSQL's error, also when computed (a constant
    expression or a parameter): DuckDB would read ``'a'`` as a key."""
    for node in tree.find_all(*PATH_FUNCTIONS):
        path = node.expression
        if path is not None and not isinstance(path, exp.Literal | exp.JSONPath | exp.Null):
            if not node.meta.get(_PATH_GUARDED) and not node.meta.get(GUARDED):  # ours
                node.meta[_PATH_GUARDED] = True
                node.set("expression", _dollar_first(path))
            continue
        if isinstance(path, exp.Literal) and path.is_string:
            if not path.this.lstrip().startswith(("$", "lax", "strict")):
                raise TranspileError(f"JSONPath must start with '$': {path.this!r}")
            raise TranspileError(
                f"unsupported on DuckDB: the JSONPath {path.this!r} (path modes such as "
                "'lax' and 'recursive' have no DuckDB equivalent)"
            )
        if isinstance(path, exp.JSONPath) and any(
            isinstance(part, exp.JSONPathSubscript) and _negative(part.this)
            for part in path.expressions
        ):
            raise TranspileError(
                "unsupported on DuckDB: a negative array index in a JSONPath (GoogleSQL "
                "finds nothing; DuckDB counts from the end)"
            )
    return tree


_PATH_GUARDED = "idcbq_json_path_guarded"


def _dollar_first(path: exp.Expr) -> exp.Expr:
    """``path`` if NULL or starting with ``$``, else GoogleSQL's error."""
    ok = exp.or_(
        exp.Is(this=path.copy(), expression=exp.null()),
        exp.Anonymous(this="starts_with", expressions=[path.copy(), exp.Literal.string("$")]),
    )
    return exp.Case(
        ifs=[exp.If(this=ok, true=path)], default=_error("JSONPath must start with '$'")
    )


def _negative(index: object) -> bool:
    return (isinstance(index, int) and index < 0) or (
        isinstance(index, str) and index.startswith("-")
    )
