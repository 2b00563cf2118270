"""Parquet DECIMAL columns wider than 38 digits: BigQuery's BIGNUMERIC, which DuckDB reads as DOUBLE.

BigQuery exports BIGNUMERIC as a Parquet ``DECIMAL(76, 38)``. DuckDB's decimals hold 38
digits, so it reads such a column as DOUBLE: every value rounded, silently. The schema
idcbq validates against must say BIGNUMERIC there (then GoogleSQL's analysis types the
query right, and the DuckDB engine refuses the values it cannot compute exactly), so the
Arrow schema DuckDB gives is corrected from the footer: such a column gets
``decimal256(precision, scale)``.

Example:
    >>> import pyarrow as pa
    >>> rows = [("schema", None, None, None, 2, "REQUIRED"),
    ...         ("a", "DECIMAL", 76, 38, None, "OPTIONAL"),
    ...         ("b", None, None, None, None, "OPTIONAL")]
    >>> wide_decimals(pa.schema([("a", pa.float64()), ("b", pa.float64())]), rows)
    a: decimal256(76, 38)
    b: double
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from idcbq.errors import SourceError

if TYPE_CHECKING:
    import pyarrow as pa

#: DuckDB's widest DECIMAL.
DUCKDB_DIGITS = 38
#: ``parquet_schema`` columns :func:`wide_decimals` reads, in this order.
FOOTER_COLUMNS = "name, converted_type, precision, scale, num_children, repetition_type"


@dataclass
class _Node:
    name: str
    converted: str | None
    precision: int | None
    scale: int | None
    repeated: bool
    children: list[_Node] = field(default_factory=list)

    @property
    def wide(self) -> bool:
        return self.converted == "DECIMAL" and (self.precision or 0) > DUCKDB_DIGITS


def _tree(rows: Sequence[Sequence[Any]]) -> _Node:
    """The footer's flattened elements (depth first, ``num_children`` each) as a tree."""
    items = iter(rows)

    def node() -> _Node:
        name, converted, precision, scale, n, repetition = next(items)
        out = _Node(name, converted, precision, scale, repetition == "REPEATED")
        out.children = [node() for _ in range(n or 0)]
        return out

    return node()


def _any_wide(node: _Node) -> bool:
    return node.wide or any(_any_wide(c) for c in node.children)


def _fix(node: _Node, kind: pa.DataType, *, as_element: bool = False) -> pa.DataType:
    """``kind`` with wide decimals restored; ValueError if the shapes do not line up."""
    import pyarrow as pa

    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        if node.repeated and not as_element:  # a 2-level list: the repeated field is the element
            element = node
        elif node.converted == "LIST" and len(node.children) == 1:
            inner = node.children[0]
            element = inner.children[0] if len(inner.children) == 1 else inner
        else:
            raise ValueError(node.name)
        value = _fix(element, kind.value_type, as_element=element is node)
        return pa.list_(pa.field(kind.value_field.name, value))
    if pa.types.is_struct(kind):
        if len(node.children) != kind.num_fields:
            raise ValueError(node.name)
        return pa.struct(
            [
                pa.field(kind.field(i).name, _fix(child, kind.field(i).type))
                for i, child in enumerate(node.children)
            ]
        )
    if node.wide:
        if not pa.types.is_floating(kind) and not pa.types.is_decimal(kind):
            raise ValueError(node.name)
        return pa.decimal256(node.precision, node.scale or 0)
    return kind


def wide_decimals(schema: pa.Schema, rows: Sequence[Sequence[Any]]) -> pa.Schema:
    """``schema`` (as DuckDB read it) with the footer's wide decimals as ``decimal256``.

    Args:
        schema: the Arrow schema DuckDB gives the file.
        rows: the file's ``parquet_schema`` rows, columns :data:`FOOTER_COLUMNS`.

    Raises:
        SourceError: a wide decimal the schema cannot be lined up with (refused: DuckDB
            would read its values rounded).
    """
    import pyarrow as pa

    root = _tree(rows)
    if not _any_wide(root):
        return schema
    if len(root.children) != len(schema):
        raise SourceError("a DECIMAL wider than 38 digits (BIGNUMERIC) DuckDB would round")
    fields = []
    for child, f in zip(root.children, schema, strict=True):
        if not _any_wide(child):
            fields.append(f)
            continue
        try:
            fields.append(pa.field(f.name, _fix(child, f.type), f.nullable, f.metadata))
        except ValueError as exc:
            raise SourceError(
                f"column {f.name}: a DECIMAL wider than 38 digits (BIGNUMERIC) at {exc}, "
                "which DuckDB would read rounded to DOUBLE"
            ) from exc
    return pa.schema(fields, metadata=schema.metadata)
