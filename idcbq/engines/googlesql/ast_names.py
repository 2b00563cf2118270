"""Walking GoogleSQL's parse tree, and the columns a statement can name.

ZetaSQL's analyzer spends time in proportion to the columns of every table a query
scans: ``dicom_all`` has over 800, and one analysis against it takes ~200 ms in the
WebAssembly build, against ~8 ms with only the columns the query names. A query can
only reach a column by writing its name (or through ``*``, a pipe operator, or the
table used as a value), so analyzing against the named columns gives the same
resolved statement. :func:`named_columns` says which names those are, or ``None``
when the statement can reach columns it does not name.

Example:
    >>> from idcbq.sources.schema import Field
    >>> tables = {"t": (Field("a", "INT64"), Field("B", "STRING"), Field("c", "DATE"))}
    >>> [f.name for f in narrow_tables(tables, frozenset({"b", "t"}))["t"]]
    ['B']
    >>> narrow_tables(tables, None) is tables
    True
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from idcbq.sources.schema import Field

#: Nodes that bring in columns the text does not name.
_EXPANDING = frozenset(
    {"ASTDotStarProto", "ASTStarWithModifiersProto", "ASTDotStarWithModifiersProto"}
)


def walk(msg: Any) -> Iterator[Any]:
    """Every message node of a parse or resolved tree, depth first."""
    yield msg
    for fd, value in msg.ListFields():
        if fd.message_type is None:
            continue
        for item in value if fd.is_repeated else (value,):
            yield from walk(item)


def location(node: Any) -> tuple[int, int]:
    """Byte span of a parse-tree node (through ``parent`` links and ``Any...`` wrappers)."""
    while "parse_location_range" not in node.DESCRIPTOR.fields_by_name:
        if "parent" in node.DESCRIPTOR.fields_by_name:
            node = node.parent
        else:  # an Any...Proto wrapper: its one set field is the node
            node = node.ListFields()[0][1]
    r = node.parse_location_range
    return r.start, r.end


def named_columns(statement: Any) -> frozenset[str] | None:
    """Lower-cased identifiers of a parsed statement, or None if it can reach others.

    None when the statement expands a star in a select list (``*``, ``t.*``, with
    ``EXCEPT``/``REPLACE``), uses pipe syntax (``FROM t |> ...`` passes every column
    on), or names a table (or its alias) as a value (``SELECT t FROM t``: a STRUCT of
    all its columns).
    """
    names: set[str] = set()
    stars: set[tuple[int, int]] = set()
    select_columns: set[tuple[int, int]] = set()
    table_paths: set[tuple[int, int]] = set()
    range_names: set[str] = set()
    single_paths: list[tuple[tuple[int, int], str]] = []
    for node in walk(statement):
        kind = node.DESCRIPTOR.name
        if kind == "ASTIdentifierProto":
            names.add(node.id_string.lower())
        elif kind in _EXPANDING or kind.startswith("ASTPipe"):
            return None
        elif kind == "ASTStarProto":
            stars.add(location(node))
        elif kind == "ASTSelectColumnProto":
            select_columns.add(location(node))
        elif kind == "ASTPathExpressionProto" and len(node.names) == 1:
            single_paths.append((location(node), node.names[0].id_string.lower()))
        elif kind == "ASTTablePathExpressionProto" and node.HasField("path_expr"):
            table_paths.add(location(node.path_expr))
            if node.path_expr.names:
                last = node.path_expr.names[-1].id_string
                range_names.add(last.rsplit(".", 1)[-1].lower())
            if node.HasField("alias"):
                alias = node.alias
                if "identifier" in alias.DESCRIPTOR.fields_by_name:
                    alias = alias.identifier
                range_names.add(alias.id_string.lower())
    if stars & select_columns:
        return None
    for span, name in single_paths:
        if span not in table_paths and name in range_names:
            return None  # a table as a value, or a column sharing a table's name
    return frozenset(names)


def narrow_tables(
    tables: Mapping[str, Sequence[Field]], names: frozenset[str] | None
) -> Mapping[str, Sequence[Field]]:
    """``tables`` with only the columns in ``names`` (case-insensitive); all if None."""
    if names is None:
        return tables
    return {
        table: tuple(f for f in fields if f.name.lower() in names)
        for table, fields in tables.items()
    }
