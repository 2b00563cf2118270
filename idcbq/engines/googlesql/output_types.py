"""GoogleSQL's output column types of a resolved query, in the plain form conform reads."""

from __future__ import annotations

from typing import Any


def output_types(resolved: Any) -> list[tuple[str, Any]] | None:
    """``[(name, type_spec)]`` of a resolved query's output columns (see :func:`type_spec`).

    Names are the analyzer's (``$col1`` for an anonymous column). A value table
    (``SELECT AS STRUCT``/``AS VALUE``) is one entry named
    :data:`idcbq.engines.conform.VALUE_TABLE`. None if the statement is not a query.
    """
    from idcbq.engines.conform import VALUE_TABLE

    which = resolved.WhichOneof("node")
    if which is None:
        return None
    stmt = getattr(resolved, which)
    if stmt.DESCRIPTOR.name != "ResolvedQueryStmtProto":
        return None
    if stmt.is_value_table:
        (only,) = stmt.output_column_list
        return [(VALUE_TABLE, type_spec(only.column.type))]
    return [(col.name, type_spec(col.column.type)) for col in stmt.output_column_list]


def type_spec(t: Any) -> Any:
    """A plain form of a ``TypeProto``: ``"INT64"``, ``("ARRAY", spec)`` or
    ``("STRUCT", ((name, spec), ...))`` (what :mod:`idcbq.engines.conform` reads)."""
    from zetasql.wasi._pb2.zetasql.public import type_pb2

    kind = type_pb2.TypeKind.Name(t.type_kind).removeprefix("TYPE_")
    if kind == "ARRAY":
        return ("ARRAY", type_spec(t.array_type.element_type))
    if kind == "STRUCT":
        return (
            "STRUCT",
            tuple((f.field_name, type_spec(f.field_type)) for f in t.struct_type.field),
        )
    return kind
