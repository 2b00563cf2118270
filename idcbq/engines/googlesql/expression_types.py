"""GoogleSQL's type of every expression of a resolved statement, keyed by its source span.

The analyzer resolves each expression with its type (a CASE inside a nested CTE, a
field of an UNNESTed STRUCT array: what sqlglot's annotator cannot type). With parse
locations recorded (``FULL_NODE_SCOPE``, see
:func:`idcbq.engines.googlesql.analysis.analyzer_options`) each resolved expression
carries the byte span of the text it came from. :func:`expression_types` lists them as
``[start, end, type_spec]`` in *character* offsets of the SQL the caller gave (the
gate's text rewrites, table names and :mod:`~idcbq.engines.googlesql.compat`, mapped
back), small and JSON-able so it survives the verdict cache and the helper process;
:mod:`idcbq.transpile.analyzed_types` reads it.

A span whose start or end falls inside a rewritten piece of text has no place in the
original: it is dropped (the transpiler then leaves that node's type unknown).

Example:
    >>> map_back(12, [(5, 3, 10)])  # 7 characters were added at 5..8
    5
    >>> map_back(3, [(5, 3, 10)]), map_back(15, [(5, 3, 10)]), map_back(16, [(5, 3, 10)])
    (3, 8, 9)
    >>> map_back(7, [(5, 3, 10)]) is None  # inside the rewritten piece
    True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

#: ``[start, end, type_spec]``: characters ``start:end`` of the SQL have this type.
Span = list


def map_back(offset: int, edits: Sequence[tuple[int, int, int]]) -> int | None:
    """The offset in the original text of ``offset`` in the edited text, or None if it
    falls strictly inside an edited piece.

    ``edits`` are ``(start, old_len, new_len)`` in original coordinates, sorted.
    """
    shift = 0
    for start, old_len, new_len in sorted(edits):
        begin = start + shift
        if offset < begin:
            break
        if offset == begin:
            return start
        if offset < begin + new_len:
            return None
        if offset == begin + new_len:
            return start + old_len
        shift += new_len - old_len
    return offset - shift


def _char_offsets(text: str) -> list[int]:
    """``offsets[b]``: the character index of byte ``b`` of ``text`` (UTF-8), and the end."""
    out: list[int] = []
    for i, ch in enumerate(text):
        out.extend([i] * len(ch.encode("utf-8")))
    out.append(len(text))
    return out


def expression_types(
    resolved: Any,
    analyzed_edits: Sequence[tuple[int, int, int]],
    middle_sql: str,
    compat_edits: Sequence[tuple[int, int, int]],
) -> dict[str, Any]:
    """``{"spans": [[start, end, type_spec], ...], "columns": {name: type_spec}}``.

    ``spans``: every located resolved expression (:func:`expression_spans`).
    ``columns``: the type of every resolved column name (lowercase) that has one type
    wherever it occurs in the statement. A plain column reference (``SELECT x`` of a
    CTE's column, ``ORDER BY`` an output name) is no expression of its own in the
    resolved statement, so it has no span; it is a column of that name, so where every
    column of that name has one type, that is its type.
    """
    from idcbq.engines.googlesql.ast_names import walk
    from idcbq.engines.googlesql.output_types import type_spec

    columns: dict[str, Any] = {}
    for node in walk(resolved):
        kind = node.DESCRIPTOR.name
        if kind == "ResolvedOutputColumnProto":  # the query's output names (ORDER BY them)
            name, column_type = node.name, node.column.type
        elif kind == "ResolvedColumnProto":
            name, column_type = node.name, node.type
        else:
            continue
        if not name or name.startswith("$"):  # the analyzer's own names ($col1, $agg1)
            continue
        spec = _jsonable(type_spec(column_type))
        name = name.lower()
        columns[name] = spec if columns.get(name, spec) == spec else None
    return {
        "spans": expression_spans(resolved, analyzed_edits, middle_sql, compat_edits),
        "columns": {k: v for k, v in sorted(columns.items()) if v is not None},
    }


def expression_spans(
    resolved: Any,
    analyzed_edits: Sequence[tuple[int, int, int]],
    middle_sql: str,
    compat_edits: Sequence[tuple[int, int, int]],
) -> list[Span]:
    """``[[start, end, type_spec], ...]`` of every located resolved expression.

    Args:
        resolved: the ``AnyResolvedStatementProto`` (parse locations recorded).
        analyzed_edits: byte edits from ``middle_sql`` to the analyzed text
            (:attr:`idcbq.engines.googlesql.analysis.Rewrite.edits`).
        middle_sql: the text between the two rewrites (compat's output).
        compat_edits: character edits from the caller's SQL to ``middle_sql``.

    Where one span has several expressions (an implicit coercion wraps a column), the
    innermost is kept: the type of the value as written.
    """
    from idcbq.engines.googlesql.ast_names import walk
    from idcbq.engines.googlesql.output_types import type_spec

    chars = _char_offsets(middle_sql)
    found: dict[tuple[int, int], Any] = {}
    for node in walk(resolved):
        if node.DESCRIPTOR.name != "ResolvedExprProto" or not node.HasField("type"):
            continue
        parent = node.parent
        if not parent.HasField("parse_location_range"):
            continue
        where = parent.parse_location_range
        start, end = (map_back(o, analyzed_edits) for o in (where.start, where.end))
        if start is None or end is None or not 0 <= start < end < len(chars):
            continue
        start, end = (map_back(chars[o], compat_edits) for o in (start, end))
        if start is None or end is None or start >= end:
            continue
        found[(start, end)] = type_spec(node.type)  # walk is outer first: inner wins
    return [[s, e, _jsonable(spec)] for (s, e), spec in sorted(found.items())]


def _jsonable(spec: Any) -> Any:
    return [_jsonable(x) for x in spec] if isinstance(spec, (list, tuple)) else spec
