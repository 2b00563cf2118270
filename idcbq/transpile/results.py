"""Result checks that make a DuckDB answer one BigQuery would give (or refuse).

BigQuery cannot return an array holding a NULL element ("Array cannot have a null
element; error in writing field ..."); DuckDB lists can. Nor a result with two columns
of one name (case-insensitive: "Duplicate column names in the result are not
supported"); DuckDB answers ``SELECT t1.id, t2.id``. The DuckDB engine calls
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


def check_result(table: pa.Table) -> pa.Table:
    """Raise QueryError if a result array holds a NULL element or names repeat; return the table."""
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
    return table
