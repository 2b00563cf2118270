"""Byte-level scans of table files, shared by the readers of this package.

The longest line or row of a file (Arrow's streaming readers need blocks that hold it),
where a CSV file has newlines inside quoted values, its header, and the guard that turns
a decoding error met mid-stream into a :class:`TableReadError` naming the file.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

#: Bytes per block of the type-finding pass, and of the streaming readers.
BLOCK = 8 << 20
STREAM_BLOCK = 1 << 20


class TableReadError(ValueError):
    """A table file that cannot be read; the message names the file (and line if known)."""


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (Arrow's run to many)."""
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def guard(
    batches: Iterable[pa.RecordBatch], path: Path, line_base: int = 0
) -> Iterator[pa.RecordBatch]:
    """Re-raise a decoding error met mid-stream as a TableReadError naming the file."""
    import pyarrow as pa

    try:
        yield from batches
    except (pa.ArrowInvalid, pa.ArrowTypeError, UnicodeDecodeError) as exc:
        raise TableReadError(f"cannot read {path}: {first_line(exc)}") from exc


def longest_line(path: Path, block_size: int = BLOCK) -> int:
    """The longest line of a file in bytes (with its newline)."""
    import numpy as np

    offset, last_end, longest = 0, -1, 0
    with open(path, "rb") as fh:
        while block := fh.read(block_size):
            ends = np.flatnonzero(np.frombuffer(block, dtype=np.uint8) == ord("\n")) + offset
            if ends.size:
                longest = max(longest, int(ends[0] - last_end), int(np.diff(ends).max(initial=0)))
                last_end = int(ends[-1])
            offset += len(block)
    return max(longest, offset - last_end)


def csv_parse(names: list[str], newlines: bool) -> Any:
    """With one column, an empty line is a row (a null); ``newlines``: quoted values hold some."""
    import pyarrow.csv as pacsv

    return pacsv.ParseOptions(newlines_in_values=newlines, ignore_empty_lines=len(names) != 1)


def csv_shape(path: Path, block_size: int = BLOCK) -> tuple[bool, int]:
    """(a line break sits inside a quoted value, the longest row in bytes).

    A line break (``\n`` or ``\r``: Arrow ends rows at either) is inside a value when an
    odd number of quotes comes before it. Arrow's parser is several times slower when
    it must allow for that, so it is asked to only when the file needs it; its blocks
    must hold the longest row.
    """
    import numpy as np

    parity, offset, last_end, longest, inside = 0, 0, -1, 0, False
    with open(path, "rb") as fh:
        while block := fh.read(block_size):
            data = np.frombuffer(block, dtype=np.uint8)
            quotes = np.flatnonzero(data == ord('"'))
            newlines = np.flatnonzero(data == ord("\n"))
            odd = ((np.searchsorted(quotes, newlines) + parity) & 1).astype(bool)
            returns = np.flatnonzero(data == ord("\r"))
            quoted_returns = (np.searchsorted(quotes, returns) + parity) & 1
            inside = inside or bool(odd.any()) or bool(quoted_returns.any())
            ends = newlines[~odd] + offset  # newlines that end a row
            if ends.size:
                longest = max(longest, int(ends[0] - last_end), int(np.diff(ends).max(initial=0)))
                last_end = int(ends[-1])
            parity = (parity + quotes.size) & 1
            offset += len(block)
    return inside, max(longest, offset - last_end)


def csv_names(path: Path) -> list[str]:
    with open(path, encoding="utf-8", newline="") as fh:
        return next(csv.reader(fh), [])
