"""BigQuery never stores a NULL array: the DuckDB views read a NULL list as ``[]``.

IDC's Parquet export (and the embedded sample) hold NULL where BigQuery holds an empty
repeated field, at the top level and inside records. ``ARRAY_LENGTH``, ``IS NULL``,
``TO_JSON_STRING``, ``ARRAY_TO_STRING`` and sums of lengths see the difference, so the
DuckDB engine's view over each table replaces such columns with an expression that
turns every NULL list into an empty one. A NULL record stays NULL (its fields read
NULL, as in BigQuery). Columns without lists are untouched, so projection and filter
pushdown into Parquet are unchanged for them.

Example:
    >>> import pyarrow as pa
    >>> view_select_list(pa.schema([("a", pa.list_(pa.string())), ("b", pa.int64())]))
    '* REPLACE (COALESCE("a", []) AS "a")'
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pyarrow as pa


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def has_list(kind: pa.DataType) -> bool:
    """Whether a type is a list or holds one (in a record, at any depth)."""
    import pyarrow as pa

    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        return True
    if pa.types.is_struct(kind):
        return any(has_list(kind.field(i).type) for i in range(kind.num_fields))
    return False


def _fixed(expr: str, kind: pa.DataType, depth: int) -> str:
    import pyarrow as pa

    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        element = kind.value_type
        if has_list(element):
            var = f"_idcbq_e{depth}"
            expr = f"list_transform({expr}, {var} -> {_fixed(var, element, depth + 1)})"
        return f"COALESCE({expr}, [])"
    if pa.types.is_struct(kind) and has_list(kind):
        fields = ", ".join(
            f"{_q(kind.field(i).name)} := "
            f"{_fixed(f'{expr}.{_q(kind.field(i).name)}', kind.field(i).type, depth)}"
            for i in range(kind.num_fields)
        )
        return f"CASE WHEN {expr} IS NULL THEN NULL ELSE struct_pack({fields}) END"
    return expr


def view_select_list(schema: pa.Schema) -> str:
    """``*`` or ``* REPLACE (...)`` so that no list in the view is NULL."""
    replaced = [
        f"{_fixed(_q(field.name), field.type, 0)} AS {_q(field.name)}"
        for field in schema
        if has_list(field.type)
    ]
    return f"* REPLACE ({', '.join(replaced)})" if replaced else "*"
