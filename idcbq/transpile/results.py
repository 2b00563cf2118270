"""Result checks that make a DuckDB answer one BigQuery would give (or refuse).

BigQuery cannot return an array holding a NULL element ("Array cannot have a null
element; error in writing field ..."); DuckDB lists can. Nor a result with two columns
of one name (case-insensitive: "Duplicate column names in the result are not
supported"); DuckDB answers ``SELECT t1.id, t2.id``. Nor a DATE, DATETIME or TIMESTAMP
outside years 1 to 9999 (DuckDB's range is wider: a path no rule guards, such as
``SAFE.DATE(0, 1, 1)``, gave year 0, which BigQuery cannot hold). Nor can idcbq give
an ARRAY or STRUCT of DuckDB INTERVALs a BigQuery type (GoogleSQL's analyzer, where it
ran, refuses every INTERVAL result). The DuckDB engine calls
:func:`check_result` on every result so such a query fails as it would on BigQuery.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from idcbq.errors import QueryError
from idcbq.transpile.empty_arrays import has_list

if TYPE_CHECKING:
    import pyarrow as pa


def _null_element(array: pa.Array) -> bool:
    import pyarrow as pa

    kind = array.type
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        values = array.flatten()  # only the elements of non-NULL lists
        return values.null_count > 0 or _null_element(values)
    if pa.types.is_struct(kind):
        return any(_null_element(array.field(i)) for i in range(kind.num_fields))
    return False


def _nested_interval(kind: pa.DataType, *, top: bool = False) -> bool:
    """An INTERVAL inside a list or struct (a column of its own is named INTERVAL)."""
    import pyarrow as pa

    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        return _nested_interval(kind.value_type)
    if pa.types.is_struct(kind):
        return any(_nested_interval(kind.field(i).type) for i in range(kind.num_fields))
    return not top and kind == pa.month_day_nano_interval()


#: BigQuery's civil range: days and microseconds since the epoch of 0001-01-01 and
#: 9999-12-31 (23:59:59.999999).
_DAYS = (-719162, 2932896)
_MICROS = (-62135596800000000, 253402300799999999)


def _outside_civil_range(array: pa.Array) -> bool:
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = array.type
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        return _outside_civil_range(array.flatten())
    if pa.types.is_struct(kind):
        return any(_outside_civil_range(array.field(i)) for i in range(kind.num_fields))
    if pa.types.is_date32(kind):
        low, high = _DAYS
        storage = array.cast(pa.int32())
    elif pa.types.is_timestamp(kind):
        per_micro = {"s": 1e-6, "ms": 1e-3, "us": 1, "ns": 1e3}[kind.unit]
        low, high = (bound * per_micro for bound in _MICROS)
        storage = array.cast(pa.int64())
    else:
        return False
    if storage.null_count == len(storage):
        return False
    bounds = pc.min_max(storage)
    return bounds["min"].as_py() < low or bounds["max"].as_py() > high


def check_result(table: pa.Table) -> pa.Table:
    """Raise QueryError if a result array holds a NULL element, names repeat or a civil
    value is out of range; return the table."""
    seen: set[str] = set()
    dups = sorted({n for n in table.column_names if n.lower() in seen or seen.add(n.lower())})
    if dups:
        raise QueryError(
            "Duplicate column names in the result are not supported. "
            f"Found duplicate(s): {', '.join(dups)}",
            hint="BigQuery refuses it too: give the columns distinct aliases",
        )
    for field, column in zip(table.schema, table.columns, strict=True):
        if not has_list(field.type):
            continue
        if any(_null_element(chunk) for chunk in column.chunks):
            raise QueryError(
                f"Array cannot have a null element; error in writing field {field.name}",
                hint="BigQuery refuses it too: filter NULLs out (ARRAY_AGG(x IGNORE NULLS), "
                "WHERE x IS NOT NULL)",
            )
    for field in table.schema:
        if _nested_interval(field.type, top=True):
            raise QueryError(
                f"column {field.name}: an ARRAY or STRUCT holding INTERVAL values has no "
                "BigQuery type idcbq can give a DuckDB result",
                hint="return the INTERVAL values as columns of their own, or use --engine bigquery",
            )
    for field, column in zip(table.schema, table.columns, strict=True):
        if any(_outside_civil_range(chunk) for chunk in column.chunks):
            raise QueryError(
                f"column {field.name}: a date or time value outside BigQuery's range "
                "(years 1 to 9999)",
                hint="BigQuery raises (or gives NULL under SAFE.) for such a value",
            )
    return table
