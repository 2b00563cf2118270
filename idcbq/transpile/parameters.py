"""Query parameters: BigQuery ``@name`` -> DuckDB ``$name`` with the declared type.

Casting the placeholder keeps the declared type when the value is NULL or an empty
list (DuckDB would otherwise infer ``NULL``/``INTEGER[]`` and comparisons would
silently change meaning).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlglot import exp

    from idcbq.params import ParamType


def bind_placeholders(tree: exp.Expr, types: Mapping[str, ParamType]) -> exp.Expr:
    """Replace every ``@name`` with ``CAST($name AS <duckdb type>)`` (uncast if undeclared)."""
    from sqlglot import exp

    from idcbq.transpile.rules import datatype

    lowered = {k.lower(): v for k, v in types.items()}
    for param in list(tree.find_all(exp.Parameter)):
        name = param.name
        new: exp.Expr = exp.Placeholder(this=name)
        ptype = types.get(name) or lowered.get(name.lower())
        if ptype is not None:
            new = exp.cast(new, datatype(ptype.duckdb_type, dialect="duckdb"), copy=False)
        param.replace(new)
    return tree
