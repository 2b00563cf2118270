"""Result column names: BigQuery refuses a result with two columns of one name.

``q.*`` of a subquery with an explicit select list counts that list's names; so does a
bare ``*`` whose FROM items are all such subqueries.

Example:
    >>> from idcbq.validate import check
    >>> sql = "SELECT r.*, s.* FROM (SELECT 1 AS x) AS r JOIN (SELECT 2 AS x) AS s ON TRUE"
    >>> str(check(sql, googlesql=False)[1][0]).splitlines()[0]
    '<sql>:1:13: duplicate column name x in the result (BigQuery does not support it)'
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from idcbq.errors import ValidationError

if TYPE_CHECKING:
    from sqlglot import exp

    from idcbq.templates.locations import LocationMap


def duplicate_names(
    tree: exp.Expression, sql: str, lmap: LocationMap, add: Callable[[ValidationError], None]
) -> None:
    """BigQuery: "Duplicate column names in the result are not supported"."""
    from sqlglot import exp

    from idcbq.validate.statements import node_location

    query = tree
    if isinstance(query, exp.SetOperation) and query.args.get("by_name"):
        return  # matched by name: the transpiler names the result (and refuses repeats)
    while isinstance(query, exp.SetOperation):
        query = query.left
    if not isinstance(query, exp.Select):
        return
    seen: set[str] = set()
    for sel, name in _result_names(query):
        key = name.lower()
        if key in seen:
            add(
                ValidationError(
                    f"duplicate column name {name} in the result (BigQuery does not support it)",
                    location=node_location(sel, sql, lmap),
                    hint="give each result column a distinct alias",
                )
            )
        seen.add(key)


def _result_names(query: exp.Select) -> list[tuple[exp.Expression, str]]:
    """``(select item, name)`` of the result's named columns; ``q.*`` of a subquery ``q``
    with an explicit select list gives that list's names."""
    from sqlglot import exp

    sources = [query.args.get("from_") or query.args.get("from")]
    sources += [j for j in query.args.get("joins") or []]
    by_alias = {s.this.alias.lower(): s.this for s in sources if s is not None and s.this.alias}
    out = []
    for sel in query.expressions:
        if isinstance(sel, exp.Star):
            dropped = {
                c.name.lower() for c in sel.args.get("except_") or sel.args.get("except") or []
            }
            names = _bare_star_names(sources)
            out += [(sel, name) for name in names if name.lower() not in dropped]
            continue
        if isinstance(sel, exp.Column) and sel.is_star and sel.table:
            inner = by_alias.get(sel.table.lower())
            inner = inner.this if isinstance(inner, exp.Subquery) else None
            if isinstance(inner, exp.Select) and not any(
                isinstance(e, exp.Star) or (isinstance(e, exp.Column) and e.is_star)
                for e in inner.expressions
            ):
                out += [(sel, e.alias_or_name) for e in inner.expressions if _named(e)]
            continue
        if _named(sel):
            out.append((sel, sel.alias_or_name))
    return out


def _bare_star_names(sources: list) -> list[str]:
    """The names a bare ``*`` gives when every FROM item is a subquery with an explicit
    select list and no join has USING (which merges names); [] where unsure."""
    from sqlglot import exp

    names: list[str] = []
    for source in sources:
        if source is None or source.args.get("using"):
            return []
        inner = source.this.this if isinstance(source.this, exp.Subquery) else None
        if not isinstance(inner, exp.Select) or any(
            isinstance(e, exp.Star) or (isinstance(e, exp.Column) and e.is_star)
            for e in inner.expressions
        ):
            return []
        if any(not _named(e) for e in inner.expressions):
            return []  # an unnamed column: GoogleSQL's star skips or names it otherwise
        names += [e.alias_or_name for e in inner.expressions]
    return names


def _named(item: exp.Expression) -> bool:
    from sqlglot import exp

    return (
        isinstance(item, (exp.Alias, exp.Column))
        and bool(item.alias_or_name)
        and not (isinstance(item, exp.Column) and item.is_star)
    )
