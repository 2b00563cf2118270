"""GoogleSQL's expression types, from the gate's analysis to the DuckDB translation.

The gate's analysis (:mod:`idcbq.validate.googlesql`) records, for a query it accepted,
each resolved expression's type keyed by its character span in the SQL text, and the
types of resolved column names (:func:`idcbq.engines.googlesql.expression_types.
expression_types`) with :func:`remember_spans`; the DuckDB engine looks them up with
:func:`spans_for` and passes them to :func:`idcbq.transpile.to_duckdb`
(``expression_types=``), whose typed rewrites then know what sqlglot could not type.

Example:
    >>> remember_spans("SELECT 1 AS x", {"types": ["INT64"], "spans": [[7, 8, 0]], "columns": {}})
    >>> spans_for("SELECT 1 AS x")["spans"]
    [[7, 8, 0]]
    >>> spans_for("SELECT 2 AS x") is None
    True
    >>> remember_spans("SELECT 3 AS x", {"spans": [[7, 8, "INT64"]]})  # not this format
    >>> spans_for("SELECT 3 AS x") is None
    True
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from idcbq.params import BoundParameter

_MAX = 512
_LOCK = threading.Lock()
_REMEMBERED: OrderedDict[tuple[str, tuple[tuple[str, str], ...]], Mapping[str, Any]] = OrderedDict()


def _key(sql: str, params: Sequence[BoundParameter]) -> tuple[str, tuple[tuple[str, str], ...]]:
    return sql, tuple(sorted((p.name.lower(), str(p.type)) for p in params))


def remember_spans(
    sql: str, typed: Mapping[str, Any] | None, params: Sequence[BoundParameter] = ()
) -> None:
    """Record GoogleSQL's expression types of ``sql`` (None forgets them; shared,
    never mutated)."""
    key = _key(sql, params)
    if not _well_formed(typed):  # e.g. a verdict cached by another idcbq: not used
        typed = None
    with _LOCK:
        _REMEMBERED.pop(key, None)
        if typed is None:
            return
        _REMEMBERED[key] = typed
        while len(_REMEMBERED) > _MAX:
            _REMEMBERED.popitem(last=False)


def spans_for(sql: str, params: Sequence[BoundParameter] = ()) -> Mapping[str, Any] | None:
    """The expression types recorded for ``sql`` with these parameter types, or None."""
    with _LOCK:
        return _REMEMBERED.get(_key(sql, params))


def _well_formed(typed: Any) -> bool:
    """``{"types": [...], "spans": [[start, end, i], ...], "columns": {name: i}}``."""
    if not isinstance(typed, Mapping):
        return False
    types, spans, columns = typed.get("types"), typed.get("spans"), typed.get("columns")
    if not isinstance(types, list) or not isinstance(spans, list):
        return False
    if not isinstance(columns, Mapping):
        return False
    indexes = [span[2] for span in spans if isinstance(span, list) and len(span) == 3]
    if len(indexes) != len(spans):
        return False
    indexes += list(columns.values())
    return all(isinstance(i, int) and 0 <= i < len(types) for i in indexes)
