"""Which columns of a result name the files to fetch: one key column, or several of one kind.

A result finds its files by a key (``SeriesInstanceUID``, ...). Some results carry that
key more than once under prefixed names, e.g. ``seg.series_with_referenced`` has
``seg_SeriesInstanceUID`` and ``referenced_SeriesInstanceUID``: a user asking for
segmentations and their source images wants the files of both. Every column that is the
key or ends in ``_<key>`` counts, for the most specific key any column has; column names
stay as they are (they are the template's interface).

Example:
    >>> key_columns(["seg_SeriesInstanceUID", "referenced_SeriesInstanceUID", "n"],
    ...             ("SOPInstanceUID", "SeriesInstanceUID"))
    ('SeriesInstanceUID', ['seg_SeriesInstanceUID', 'referenced_SeriesInstanceUID'])
    >>> key_columns(["SOPInstanceUID", "x_SeriesInstanceUID"], ("SOPInstanceUID", "SeriesInstanceUID"))
    ('SOPInstanceUID', ['SOPInstanceUID'])
    >>> key_columns(["n"], ("SeriesInstanceUID",)) is None
    True
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pyarrow as pa


def is_key_column(name: str, key: str) -> bool:
    """Whether column ``name`` holds values of ``key`` (the key itself, or ``<prefix>_<key>``)."""
    return name == key or (name.endswith(f"_{key}") and len(name) > len(key) + 1)


def key_columns(names: Iterable[str], keys: Sequence[str]) -> tuple[str, list[str]] | None:
    """``(key, columns)`` for the first of ``keys`` any column holds, or None."""
    names = list(names)
    for key in keys:
        columns = [n for n in names if is_key_column(n, key)]
        if columns:
            return key, columns
    return None


def key_values(batches: Iterable[pa.RecordBatch], columns: Sequence[str]) -> list[str]:
    """The distinct non-NULL values of all ``columns`` across ``batches``, as sorted strings."""
    seen: dict[str, None] = {}
    for batch in batches:
        for column in columns:
            for value in batch.column(column).to_pylist():
                if value is not None:
                    seen[str(value)] = None
    return sorted(seen)


def describe(key: str, columns: Sequence[str]) -> str:
    """How a message names the columns keys came from.

    Example:
        >>> describe("SeriesInstanceUID", ["a_SeriesInstanceUID", "b_SeriesInstanceUID"])
        'SeriesInstanceUID (columns a_SeriesInstanceUID, b_SeriesInstanceUID)'
        >>> describe("SeriesInstanceUID", ["SeriesInstanceUID"])
        'SeriesInstanceUID'
    """
    if list(columns) == [key]:
        return key
    return f"{key} (column{'s' if len(columns) > 1 else ''} {', '.join(columns)})"
