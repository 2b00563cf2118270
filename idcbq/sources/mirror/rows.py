"""Row-level selection for ``idcbq mirror --collections``.

Row-group statistics only say which row groups *may* hold a collection: a row group
whose ``collection_id`` range spans ``a`` to ``c`` also holds ``b``'s rows. After the
row groups are pruned, the rows themselves are filtered on ``collection_id``, so a
mirror holds exactly the collections asked for (no partial copies of neighbours).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pyarrow as pa

#: The column ``--collections`` selects on.
COLUMN = "collection_id"


def needs_filter(names: Sequence[str], collections: Sequence[str] | None) -> bool:
    """True when rows must be filtered: collections were asked for and the table has them."""
    return bool(collections) and COLUMN in names


def read_columns_for(cols: Sequence[str], names: Sequence[str], filtering: bool) -> list[str]:
    """``cols`` plus ``collection_id`` when rows are filtered (in the source's order)."""
    wanted = set(cols) | ({COLUMN} if filtering else set())
    return [n for n in names if n in wanted]


def mask(table: pa.Table, collections: Sequence[str]) -> pa.ChunkedArray:
    """Boolean mask of the rows whose ``collection_id`` is one of ``collections``."""
    import pyarrow as pa
    import pyarrow.compute as pc

    column = table.column(COLUMN)
    values = pa.array(sorted(set(collections)), type=column.type)
    return pc.fill_null(pc.is_in(column, value_set=values), False)


def keep(table: pa.Table, collections: Sequence[str], cols: Sequence[str]) -> pa.Table:
    """The rows of ``table`` in ``collections``, with only the columns ``cols``."""
    out = table.filter(mask(table, collections))
    return out.select([c for c in out.column_names if c in set(cols)])
