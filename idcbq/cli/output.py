"""How the CLI shows query results: a file (via :mod:`idcbq.io.formats`) or rows on stdout.

Writing files is :func:`idcbq.io.formats.write_table`'s job (atomic, one encoding for every
caller); this module adds the CLI's printing and the provenance it stores.

Formats on stdout: ``table`` (rich, for people), ``csv``, ``tsv``, ``json`` (one array),
``jsonl`` (one object a line). Without ``--format``, a terminal gets a table and a pipe
gets TSV, so ``idcbq sql ... | grep 1.3.6`` sees whole UIDs on one line. Only a
``table`` on a terminal is shortened (the first 50 rows, text cells folded to the width;
identifiers such as UIDs and URLs are never folded or cut).
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from idcbq.io.formats import PROVENANCE_KEY, decimal_text, dumps

if TYPE_CHECKING:
    import os

    import pyarrow as pa

    from idcbq.result import QueryResult


#: What ``--format`` accepts (rows on stdout).
STDOUT_FORMATS = ("table", "csv", "tsv", "json", "jsonl")

#: Rows a table on a terminal shows; piped output is never shortened.
TERMINAL_ROWS = 50


def write_result(result: QueryResult, out: str | os.PathLike[str]) -> Path:
    """Write ``result`` to ``out`` by its suffix, atomically; Parquet keeps the provenance."""
    from idcbq.io.formats import write_table

    provenance = json.dumps(result.provenance(), default=str)
    return write_table(result.to_arrow(), out, metadata={PROVENANCE_KEY: provenance})


def default_format(stream: TextIO | None = None) -> str:
    """``table`` on a terminal, ``tsv`` when stdout is a pipe or a file."""
    stream = stream or sys.stdout
    isatty = getattr(stream, "isatty", None)
    return "table" if isatty is not None and isatty() else "tsv"


def print_rows(result: QueryResult, fmt: str, stream: TextIO | None = None) -> None:
    """Print every row of ``result`` to ``stream`` (stdout) as ``fmt`` (not ``table``)."""
    stream = stream or sys.stdout
    table = result.to_arrow()
    if fmt in ("csv", "tsv"):
        writer = csv.writer(stream, delimiter="," if fmt == "csv" else "\t", lineterminator="\n")
        writer.writerow(table.column_names)
        for row in _rows(table):
            writer.writerow(["" if v is None else _cell(v) for v in row.values()])
    elif fmt == "jsonl":
        for row in _rows(table):
            stream.write(dumps(row) + "\n")
    elif fmt == "json":
        from idcbq.io.formats import json_text

        stream.write(json_text(table) + "\n")
    else:
        raise ValueError(f"not a stdout format: {fmt!r}")
    stream.flush()


def _rows(table: pa.Table) -> Iterator[dict[str, Any]]:
    for batch in table.to_batches(max_chunksize=10_000):
        yield from batch.to_pylist()


def print_table(result: QueryResult, *, max_rows: int | None = TERMINAL_ROWS) -> None:
    """A rich table on stdout plus a one-line summary on stderr.

    On a terminal the first ``max_rows`` rows are shown, folded to the width; when stdout
    is not a terminal every row is printed and no cell is wrapped or cut.
    """
    from rich.console import Console
    from rich.table import Table

    table = result.to_arrow()
    tty = default_format() == "table"
    shown = max_rows if tty and max_rows is not None else table.num_rows
    view = Table(show_header=True, header_style="bold")
    rows = [
        ["" if v is None else _cell(v) for v in row.values()]
        for row in _rows(table.slice(0, shown))
    ]
    whole = [_is_identifier_column([r[i] for r in rows]) for i in range(table.num_columns)]
    for name, keep in zip(table.column_names, whole, strict=True):
        if tty and not keep:
            view.add_column(name, overflow="fold")
        else:  # identifiers (UIDs, URLs, paths) are never folded or cut
            view.add_column(name, no_wrap=True, overflow="ignore")
    for cells in rows:
        view.add_row(*cells)
    if tty:
        console = Console(soft_wrap=False)
        # Wider than the terminal only if whole identifiers need it (the terminal then
        # wraps the line, but each UID stays one unbroken run of text to copy).
        needed = _min_width(view, whole)
        if needed > console.width:
            console = Console(soft_wrap=False, width=needed)
        console.print(view)
    else:  # wide enough for the widest row: nothing folds, nothing is cut
        Console(width=_table_width(view), soft_wrap=True, force_terminal=False).print(view)
    more = f" (showing {shown})" if table.num_rows > shown else ""
    Console(stderr=True).print(
        f"{table.num_rows} row(s){more} in {result.elapsed_s:.2f}s "
        f"[{result.engine}, IDC {result.idc_version}]",
        style="dim",
        markup=False,
    )


def _is_identifier_column(cells: list[str]) -> bool:
    """True for a column of identifiers: every non-empty cell is one word (a UID, a URL)."""
    present = [c for c in cells if c]
    return bool(present) and not any(any(ch.isspace() for ch in c) for c in present)


#: Narrowest a folded (non-identifier) column gets when identifiers need the room.
_FOLD_MIN = 6


def _min_width(view: Any, whole: list[bool]) -> int:
    """Width a table needs with identifier columns whole and the rest folded to _FOLD_MIN."""
    widths = []
    for column, keep in zip(view.columns, whole, strict=True):
        longest = max([len(str(column.header))] + [len(str(c)) for c in column.cells])
        widths.append(longest if keep else min(longest, _FOLD_MIN))
    return sum(widths) + 3 * len(widths) + 1


def _table_width(view: Any) -> int:
    widths = [len(str(c.header)) for c in view.columns]
    for i, column in enumerate(view.columns):
        for cell in column.cells:
            widths[i] = max(widths[i], len(str(cell)))
    return sum(widths) + 3 * len(widths) + 1


def _cell(value: object) -> str:
    if isinstance(value, list | dict):  # nested BigQuery values: show as JSON
        return dumps(value)
    if isinstance(value, Decimal):  # NUMERIC as GoogleSQL prints it: 1.5, not 1.500000000
        return decimal_text(value)
    if isinstance(value, bytes):
        return value.hex()
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def emit(result: QueryResult, *, out: str | None, fmt: str | None) -> None:
    """Write ``--out FILE``, else print rows to stdout as ``fmt`` (default by terminal).

    ``--out -`` prints to stdout too (as ``fmt``, else CSV).
    """
    if out == "-":
        out, fmt = None, fmt or "csv"
    if out:
        path = write_result(result, out)
        print(f"wrote {result.table.num_rows} row(s) to {path}", file=sys.stderr)
        return
    from idcbq.cli.common import require_stdout

    require_stdout()
    fmt = fmt or default_format()
    if fmt == "table":
        print_table(result)
    else:
        print_rows(result, fmt)
