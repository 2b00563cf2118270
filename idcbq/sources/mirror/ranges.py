"""Fetch exactly the column chunks a mirror keeps, in a few coalesced ranged reads.

pyarrow's own pre-buffering merges ranges across holes of up to 8 KB, and in a wide
``dicom_all`` file the chunks of wanted columns sit between hundreds of small all-NULL
chunks, so it pulls in several times the needed bytes. Here the byte ranges are taken
from the footer (a top-level column's leaf chunks are contiguous in a row group),
merged only while the merged-in gaps stay under a budget (``slack`` of the wanted
bytes), fetched, and served to pyarrow from memory through a sparse file object.

Example:
    >>> merge([(0, 10), (12, 20), (100, 110)], hole=4, slack=0.5)
    [(0, 20), (100, 110)]
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow.fs as pafs

#: Largest gap merged into one read, and the share of extra bytes merges may add.
HOLE = 64 * 1024
SLACK = 0.25


def leaf_indices(meta: Any, cols: list[str]) -> list[int]:
    """Leaf column indices of the top-level columns ``cols`` (same for every file of a table)."""
    wanted = set(cols)
    schema = meta.schema
    return [i for i in range(meta.num_columns) if schema.column(i).path.split(".", 1)[0] in wanted]


def chunk_ranges(meta: Any, groups: list[int], leaves: list[int]) -> list[tuple[int, int]]:
    """``[start, end)`` byte ranges of the given leaf columns' chunks in the given row groups."""
    out = []
    for g in groups:
        rg = meta.row_group(g)
        for i in leaves:
            col = rg.column(i)
            start = col.data_page_offset
            if col.has_dictionary_page and col.dictionary_page_offset:
                start = min(start, col.dictionary_page_offset)
            out.append((start, start + col.total_compressed_size))
    return sorted(out)


def merge(
    ranges: list[tuple[int, int]], hole: int = HOLE, slack: float = SLACK
) -> list[tuple[int, int]]:
    """Merge sorted ranges across gaps <= ``hole`` while the gaps total <= ``slack`` x wanted."""
    if not ranges:
        return []
    wanted = sum(e - s for s, e in ranges)
    budget = slack * wanted
    out = [list(ranges[0])]
    extra = 0
    for s, e in ranges[1:]:
        gap = s - out[-1][1]
        if gap <= 0:
            out[-1][1] = max(out[-1][1], e)
        elif gap <= hole and extra + gap <= budget:
            extra += gap
            out[-1][1] = e
        else:
            out.append([s, e])
    return [(s, e) for s, e in out]


class SparseFile(io.RawIOBase):
    """A read-only file of ``size`` bytes of which only some ranges are held in memory.

    A read outside the held ranges is fetched from ``fallback`` (and counted in
    ``missed``), so a wrong range computation costs a request, never a wrong result.
    """

    def __init__(self, size: int, pieces: dict[int, bytes], fallback: Any):
        super().__init__()
        self._size = size
        self._starts = sorted(pieces)
        self._pieces = pieces
        self._pos = 0
        self._fallback = fallback
        self.missed = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self._pos, 2: self._size}[whence]
        self._pos = base + offset
        return self._pos

    def readinto(self, buffer: Any) -> int:
        import bisect

        n = min(len(buffer), self._size - self._pos)
        if n <= 0:
            return 0
        i = bisect.bisect_right(self._starts, self._pos) - 1
        data: bytes | None = None
        if i >= 0:
            start = self._starts[i]
            piece = self._pieces[start]
            if self._pos + n <= start + len(piece):
                off = self._pos - start
                data = piece[off : off + n]
        if data is None:
            data = bytes(self._fallback.read_at(n, self._pos))
            self.missed += len(data)
        buffer[: len(data)] = data
        self._pos += len(data)
        return len(data)


def read_columns(
    fs: pafs.FileSystem, path: str, size: int, meta: Any, groups: list[int], leaves: list[int]
) -> tuple[Any, int]:
    """The given row groups and leaf columns of one file as an Arrow table, and bytes fetched."""
    import pyarrow as pa
    from pyarrow._parquet import ParquetReader  # ParquetFile walks all 4,000 columns in Python

    ranges = merge(chunk_ranges(meta, groups, leaves))
    with fs.open_input_file(path) as fh:
        pieces = {s: bytes(fh.read_at(e - s, s)) for s, e in ranges}
        sparse = SparseFile(size, pieces, fh)
        reader = ParquetReader()
        reader.open(pa.PythonFile(sparse, mode="r"), metadata=meta, pre_buffer=False)
        table = reader.read_row_groups(groups, column_indices=leaves, use_threads=False)
        return table, sum(e - s for s, e in ranges) + sparse.missed
