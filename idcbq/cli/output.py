"""Writing query results from the CLI: files (atomic), JSON on stdout, or a readable table."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from idcbq.errors import UsageError

if TYPE_CHECKING:
    import pyarrow as pa

    from idcbq.result import QueryResult

FORMATS = ("parquet", "csv", "json", "jsonl")


def _format_of(path: Path) -> str:
    suffix = path.suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise UsageError(
            f"--out {str(path)!r}: unknown format {suffix!r}",
            hint=f"use one of .{', .'.join(FORMATS)}",
        )
    return suffix


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.hex()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if hasattr(value, "__float__") and not isinstance(value, int | float | bool):
        return float(value)  # Decimal
    return value


def rows(table: pa.Table) -> list[dict[str, Any]]:
    return [_jsonable(r) for r in table.to_pylist()]


def write_result(result: QueryResult, out: str | os.PathLike[str]) -> Path:
    """Write to ``out`` by its suffix; a temp file is renamed in place, so no half files."""
    path = Path(out)
    fmt = _format_of(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        _write(result.to_arrow(), tmp, fmt, result)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _write(table: pa.Table, tmp: Path, fmt: str, result: QueryResult) -> None:
    if fmt == "parquet":
        import pyarrow.parquet as pq

        meta = {b"idcbq.provenance": json.dumps(result.provenance(), default=str).encode()}
        schema_meta = dict(table.schema.metadata or {}) | meta
        pq.write_table(table.replace_schema_metadata(schema_meta), tmp)
    elif fmt == "csv":
        import pyarrow.csv as pcsv

        pcsv.write_csv(_flatten_nested(table), tmp)
    elif fmt == "json":
        tmp.write_text(json.dumps(rows(table), indent=1) + "\n", encoding="utf-8")
    else:
        with tmp.open("w", encoding="utf-8") as fh:
            for row in rows(table):
                fh.write(json.dumps(row) + "\n")


def _flatten_nested(table: pa.Table) -> pa.Table:
    """CSV cannot hold lists/structs: such columns become JSON text."""
    import pyarrow as pa
    import pyarrow.types as pt

    cols = []
    for col in table.columns:
        if pt.is_nested(col.type):
            cols.append(
                pa.array(
                    [None if v is None else json.dumps(_jsonable(v)) for v in col.to_pylist()],
                    pa.string(),
                )
            )
        else:
            cols.append(col)
    return pa.table(cols, names=table.column_names)


def print_json(result: QueryResult) -> None:
    sys.stdout.write(json.dumps(rows(result.to_arrow())) + "\n")


def print_table(result: QueryResult, *, max_rows: int = 50) -> None:
    """A rich table on stdout (first ``max_rows`` rows) plus a one-line summary on stderr."""
    from rich.console import Console
    from rich.table import Table

    table = result.to_arrow()
    view = Table(show_header=True, header_style="bold")
    for name in table.column_names:
        view.add_column(name, overflow="fold")
    for row in table.slice(0, max_rows).to_pylist():
        view.add_row(*("" if v is None else str(_jsonable(v)) for v in row.values()))
    Console(soft_wrap=False).print(view)
    more = f" (showing {max_rows})" if table.num_rows > max_rows else ""
    Console(stderr=True).print(
        f"{table.num_rows} row(s){more} in {result.elapsed_s:.2f}s "
        f"[{result.engine}, IDC {result.idc_version}]",
        style="dim",
        markup=False,
    )


def emit(result: QueryResult, *, out: str | None, as_json: bool) -> None:
    if out:
        path = write_result(result, out)
        print(f"wrote {result.table.num_rows} row(s) to {path}", file=sys.stderr)
    elif as_json:
        print_json(result)
    else:
        print_table(result)
