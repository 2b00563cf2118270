"""GoogleSQL's type of every expression of a resolved statement, keyed by its source span.

The analyzer resolves each expression with its type (a CASE inside a nested CTE, a
field of an UNNESTed STRUCT array: what sqlglot's annotator cannot type). With parse
locations recorded (``FULL_NODE_SCOPE``, see
:func:`idcbq.engines.googlesql.analysis.analyzer_options`) each resolved expression
carries the byte span of the text it came from. :func:`expression_types` lists them as
``[start, end, type]`` in *character* offsets of the SQL the caller gave (the
gate's text rewrites, table names and :mod:`~idcbq.engines.googlesql.compat`, mapped
back), small and JSON-able so it survives the verdict cache and the helper process;
:mod:`idcbq.transpile.analyzed_types` reads it.

A span whose start or end falls inside a rewritten piece of text has no place in the
original: it is dropped (the transpiler then leaves that node's type unknown).

Example:
    >>> map_back(5, [(5, 3, 10)])  # 3 characters at 5 became 10
    5
    >>> map_back(3, [(5, 3, 10)]), map_back(15, [(5, 3, 10)]), map_back(16, [(5, 3, 10)])
    (3, 8, 9)
    >>> map_back(7, [(5, 3, 10)]) is None  # inside the rewritten piece
    True
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any


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


def _char_offsets(text: str) -> Sequence[int]:
    """``offsets[b]``: the character index of byte ``b`` of ``text`` (UTF-8), and the end."""
    if text.isascii():
        return range(len(text) + 1)
    out: list[int] = []
    for i, ch in enumerate(text):
        out.extend([i] * len(ch.encode("utf-8")))
    out.append(len(text))
    return out


#: Messages no expression or column is inside (walking a big STRUCT type is most of
#: the walk's time).
_LEAVES = frozenset({"TypeProto", "AnnotationMapProto", "ParseLocationRangeProto"})


def _walk(msg: Any) -> Iterator[Any]:
    """Every message node of a resolved tree, outer first, not into types."""
    stack = [msg]
    while stack:
        node = stack.pop()
        yield node
        children = []
        for fd, value in node.ListFields():
            kind = fd.message_type
            if kind is None or kind.name in _LEAVES:
                continue
            if fd.is_repeated:
                children.extend(value)
            else:
                children.append(value)
        stack.extend(reversed(children))


def expression_types(
    resolved: Any,
    analyzed_edits: Sequence[tuple[int, int, int]],
    middle_sql: str,
    compat_edits: Sequence[tuple[int, int, int]],
) -> dict[str, Any]:
    """``{"types": [type_spec, ...], "spans": [[start, end, i], ...], "columns": {name: i}}``
    (``i`` indexes ``types``: a STRUCT type is written once, not once per use).

    ``spans``: every located resolved expression's type (of the value as written where
    an implicit coercion has the same span).

    ``columns``: the type of every resolved column name (lowercase) that has one type
    wherever it occurs in the statement. A plain column reference (``SELECT x`` of a
    CTE's column, ``ORDER BY`` an output name) is no expression of its own in the
    resolved statement, so it has no span; it is a column of that name, so where every
    column of that name has one type, that is its type.

    Args:
        resolved: the ``AnyResolvedStatementProto`` (parse locations recorded).
        analyzed_edits: byte edits from ``middle_sql`` to the analyzed text
            (:attr:`idcbq.engines.googlesql.analysis.Rewrite.edits`).
        middle_sql: the text between the two rewrites (compat's output).
        compat_edits: character edits from the caller's SQL to ``middle_sql``.
    """
    from idcbq.engines.googlesql.output_types import type_spec

    chars = _char_offsets(middle_sql)
    types: list[Any] = []
    index: dict[bytes, int] = {}

    def type_index(proto: Any) -> int:
        key = proto.SerializeToString(deterministic=True)
        if key not in index:
            index[key] = len(types)
            types.append(_jsonable(type_spec(proto)))
        return index[key]

    found: dict[tuple[int, int], tuple[int, str]] = {}
    columns: dict[str, int | None] = {}
    for node in _walk(resolved):
        kind = node.DESCRIPTOR.name
        fields = node.DESCRIPTOR.fields_by_name
        if "parent" in fields and fields["parent"].message_type.name == "ResolvedExprProto":
            expr = node.parent  # ``node`` is the expression's kind (a cast, a column...)
            span = _span(expr, analyzed_edits, chars, compat_edits)
            if span is None or not expr.HasField("type"):
                continue
            # One span, two expressions (outer first): an implicit coercion around the
            # value as written (the value's type is the inner one), or a field of a
            # column in one path ``t.a.b`` (the outer one, the field, is what is written).
            if span not in found or found[span][1] == "ResolvedCastProto":
                found[span] = (type_index(expr.type), kind)
            continue
        if kind == "ResolvedOutputColumnProto":  # the query's output names (ORDER BY them)
            name, column_type = node.name, node.column.type
        elif kind == "ResolvedColumnProto":
            name, column_type = node.name, node.type
        else:
            continue
        if not name or name.startswith("$"):  # the analyzer's own names ($col1, $agg1)
            continue
        i = type_index(column_type)
        name = name.lower()
        columns[name] = i if columns.get(name, i) == i else None
    return {
        "types": types,
        "spans": [[s, e, i] for (s, e), (i, _kind) in sorted(found.items())],
        "columns": {k: v for k, v in sorted(columns.items()) if v is not None},
    }


def _span(
    node: Any,
    analyzed_edits: Sequence[tuple[int, int, int]],
    chars: Sequence[int],
    compat_edits: Sequence[tuple[int, int, int]],
) -> tuple[int, int] | None:
    """The character span in the caller's SQL of a resolved expression, if it has one."""
    parent = node.parent
    if not parent.HasField("parse_location_range"):
        return None
    where = parent.parse_location_range
    start, end = (map_back(o, analyzed_edits) for o in (where.start, where.end))
    if start is None or end is None or not 0 <= start < end < len(chars):
        return None
    start, end = (map_back(chars[o], compat_edits) for o in (start, end))
    if start is None or end is None or start >= end:
        return None
    return start, end


def _jsonable(spec: Any) -> Any:
    return [_jsonable(x) for x in spec] if isinstance(spec, (list, tuple)) else spec
