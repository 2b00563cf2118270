"""How the CLI shows query results: a file (via :mod:`idcbq.io`), JSON on stdout, or a table.

Writing files is :func:`idcbq.io.write_table`'s job (atomic, one encoding for every
caller); this module only adds the CLI's printing and the provenance it stores.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import os

    from idcbq.result import QueryResult

#: Parquet schema-metadata key holding the query's provenance (engine, SQL, parameters...).
PROVENANCE_KEY = "idcbq.provenance"


def write_result(result: QueryResult, out: str | os.PathLike[str]) -> Path:
    """Write ``result`` to ``out`` by its suffix, atomically; Parquet keeps the provenance."""
    from idcbq.io import write_table

    provenance = json.dumps(result.provenance(), default=str)
    return write_table(result.to_arrow(), out, metadata={PROVENANCE_KEY: provenance})


def print_json(result: QueryResult) -> None:
    """A JSON array of row objects on stdout."""
    from idcbq.io import json_text

    sys.stdout.write(json_text(result.to_arrow()) + "\n")


def print_table(result: QueryResult, *, max_rows: int = 50) -> None:
    """A rich table on stdout (first ``max_rows`` rows) plus a one-line summary on stderr."""
    from rich.console import Console
    from rich.table import Table

    table = result.to_arrow()
    view = Table(show_header=True, header_style="bold")
    for name in table.column_names:
        view.add_column(name, overflow="fold")
    for row in table.slice(0, max_rows).to_pylist():
        view.add_row(*("" if v is None else _cell(v) for v in row.values()))
    Console(soft_wrap=False).print(view)
    more = f" (showing {max_rows})" if table.num_rows > max_rows else ""
    Console(stderr=True).print(
        f"{table.num_rows} row(s){more} in {result.elapsed_s:.2f}s "
        f"[{result.engine}, IDC {result.idc_version}]",
        style="dim",
        markup=False,
    )


def _cell(value: object) -> str:
    if isinstance(value, list | dict):  # nested BigQuery values: show as JSON
        return json.dumps(value, default=str, ensure_ascii=False)
    if isinstance(value, bytes):
        return value.hex()
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def emit(result: QueryResult, *, out: str | None, as_json: bool) -> None:
    """Write ``--out FILE``, else print JSON (``--json``), else a readable table."""
    if out:
        path = write_result(result, out)
        print(f"wrote {result.table.num_rows} row(s) to {path}", file=sys.stderr)
    elif as_json:
        print_json(result)
    else:
        print_table(result)
