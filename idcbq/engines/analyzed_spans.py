"""GoogleSQL's expression types by source span, from the gate to the DuckDB translation.

The gate's analysis (:mod:`idcbq.validate.googlesql`) records, for a query it accepted,
each resolved expression's type keyed by its character span in the SQL text
(:func:`idcbq.engines.googlesql.expression_types.expression_spans`) with
:func:`remember_spans`; the DuckDB engine looks them up with :func:`spans_for` and
passes them to :func:`idcbq.transpile.to_duckdb` (``expression_types=``), whose typed
rewrites then know what sqlglot alone could not type.

Example:
    >>> remember_spans("SELECT 1 AS x", [[7, 8, "INT64"]])
    >>> spans_for("SELECT 1 AS x")
    ((7, 8, 'INT64'),)
    >>> spans_for("SELECT 2 AS x") is None
    True
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from idcbq.params import BoundParameter

#: ``(start, end, type_spec)``: characters ``start:end`` have GoogleSQL type ``type_spec``.
Spans = tuple[tuple[int, int, Any], ...]

_MAX = 512
_LOCK = threading.Lock()
_REMEMBERED: OrderedDict[tuple[str, tuple[tuple[str, str], ...]], Spans] = OrderedDict()


def _key(sql: str, params: Sequence[BoundParameter]) -> tuple[str, tuple[tuple[str, str], ...]]:
    return sql, tuple(sorted((p.name.lower(), str(p.type)) for p in params))


def _spec(value: Any) -> Any:
    """JSON lists back to the tuples type specs are."""
    return tuple(_spec(x) for x in value) if isinstance(value, list) else value


def remember_spans(
    sql: str, spans: Sequence[Sequence[Any]] | None, params: Sequence[BoundParameter] = ()
) -> None:
    """Record GoogleSQL's expression types of ``sql`` (None forgets them)."""
    key = _key(sql, params)
    with _LOCK:
        _REMEMBERED.pop(key, None)
        if spans is None:
            return
        _REMEMBERED[key] = tuple((int(s), int(e), _spec(t)) for s, e, t in spans)
        while len(_REMEMBERED) > _MAX:
            _REMEMBERED.popitem(last=False)


def spans_for(sql: str, params: Sequence[BoundParameter] = ()) -> Spans | None:
    """The expression types recorded for ``sql`` with these parameter types, or None."""
    with _LOCK:
        return _REMEMBERED.get(_key(sql, params))
