"""Query parameters: every ``@name`` used must be bound, and values must fit their types."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from idcbq.errors import ParameterError, ValidationError
from idcbq.validate.statements import node_location

if TYPE_CHECKING:
    from sqlglot import exp

    from idcbq.params import BoundParameter
    from idcbq.templates.locations import LocationMap


def used_parameters(tree: exp.Expression) -> dict[str, exp.Expression]:
    """``@name`` parameters in the query (first occurrence of each), by lower-case name."""
    from sqlglot import exp

    found: dict[str, exp.Expression] = {}
    for node in tree.find_all(exp.Parameter):
        if isinstance(node.this, exp.Parameter):
            continue  # @@system variables are rejected elsewhere
        found.setdefault(node.name.lower(), node)
    for node in tree.find_all(exp.Placeholder):
        found.setdefault((node.name or "?").lower(), node)
    return found


def check_parameters(
    tree: exp.Expression,
    sql: str,
    lmap: LocationMap,
    params: Sequence[BoundParameter],
    add: Callable[[ValidationError], None],
) -> None:
    import difflib

    bound = {p.name.lower(): p for p in params}
    for name, node in used_parameters(tree).items():
        if name == "?":
            add(
                ValidationError(
                    "positional parameters (?) are not supported; use @name",
                    location=node_location(node, sql, lmap, token="?"),
                )
            )
            continue
        if name not in bound:
            close = difflib.get_close_matches(name, list(bound), n=1)
            declared = ", ".join(p.name for p in params) or "none"
            add(
                ValidationError(
                    f"parameter @{node.name} is used but not declared",
                    location=node_location(node, sql, lmap, token=f"@{node.name}"),
                    hint=(
                        f"did you mean @{close[0]}?"
                        if close
                        else f"pass a value: -p {node.name}=VALUE (CLI) or params="
                        f"{{'{node.name}': ...}} (API); declared: {declared}"
                    ),
                )
            )
    check_values(params, lmap, add)


def check_values(
    params: Sequence[BoundParameter], lmap: LocationMap, add: Callable[[ValidationError], None]
) -> None:
    """Each bound value fits its declared type (the part of the check that reads values)."""
    for p in params:
        try:
            p.type.check(p.value, name=p.name)
        except ParameterError as exc:
            add(ValidationError(exc.message, location=lmap.locate(None)))
