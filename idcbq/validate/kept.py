"""Validation a client does once per query shape: same SQL, parameter types and settings.

Whether a query passes the checks (read-only, tables, columns, the strict layer,
GoogleSQL's analyzer) depends on its text, its parameters' names and types, the tables'
columns and the client's settings, never on the values bound, except that each value
must fit its type. A :class:`~idcbq.api.Client` keeps what :func:`validate` returned
under that key and, when the same query comes again, checks only the values.

Example:
    >>> from idcbq.core.memo import Memo
    >>> from idcbq.params import BoundParameter
    >>> kept = Memo()
    >>> p = (BoundParameter.of("n", "INT64", 1),)
    >>> first = validate_kept(kept, "SELECT @n AS n", params=p, googlesql=False)
    >>> validate_kept(kept, "SELECT @n AS n", params=p, googlesql=False) is first
    True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from idcbq.core.memo import Memo
    from idcbq.params import BoundParameter
    from idcbq.validate import ValidatedQuery


def validate_kept(memo: Memo | None, sql: str, **kwargs: Any) -> ValidatedQuery:
    """``validate(sql, **kwargs)``, or what it returned before for the same key.

    Only a query that passed is kept: a refused one is checked (and reported) afresh.
    """
    from idcbq.validate import validate

    if memo is None:
        return validate(sql, **kwargs)
    params: Sequence[BoundParameter] = kwargs.get("params", ())
    key = (
        sql,
        tuple((p.name, str(p.type)) for p in params),
        tuple(
            (name, _hashable(value))
            for name, value in sorted(kwargs.items())
            if name not in ("params", "location_map")  # positions only name where errors are
        ),
    )
    kept = memo.get(key)
    if kept is None:
        return memo.put(key, validate(sql, **kwargs))
    from idcbq.templates.locations import LocationMap
    from idcbq.validate.params import check_values

    problems: list[Exception] = []
    lmap = kwargs.get("location_map") or LocationMap.identity("<sql>", sql)
    check_values(params, lmap, problems.append)
    if problems:
        raise problems[0]
    return kept


def _hashable(value: Any) -> Any:
    if isinstance(value, (list, set, frozenset)):
        return tuple(sorted(map(repr, value)))
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return value
