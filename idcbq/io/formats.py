"""Read and write result tables as Parquet, CSV, JSON Lines or JSON, by file suffix.

Writes go to a temporary sibling and are renamed into place, so a failed write never
leaves a half-written file at the final path. Parquet keeps the query's provenance in its
metadata; a text result (CSV, JSON Lines, JSON) keeps it in ``<file>.provenance.json``.

Example:
    >>> format_for("cohort.parquet"), format_for("x.jsonl"), format_for("x.csv")
    ('parquet', 'jsonl', 'csv')
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from idcbq.errors import UsageError

if TYPE_CHECKING:
    import pyarrow as pa

FORMATS = ("parquet", "csv", "jsonl", "json")
#: Parquet schema-metadata key (and text results' sidecar content): the query's provenance.
PROVENANCE_KEY = "idcbq.provenance"
#: Suffix of the sidecar holding a text result's provenance.
PROVENANCE_SUFFIX = ".provenance.json"
_SUFFIXES = {
    ".parquet": "parquet",
    ".pq": "parquet",
    ".csv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
}


def format_for(path: str | os.PathLike[str], fmt: str | None = None) -> str:
    """The table format for ``path``: explicit ``fmt``, else from the suffix."""
    if fmt:
        if fmt not in FORMATS:
            raise UsageError(
                f"unknown results format {fmt!r}", hint=f"use one of {', '.join(FORMATS)}"
            )
        return fmt
    suffix = Path(path).suffix.lower()
    if suffix not in _SUFFIXES:
        raise UsageError(
            f"cannot tell the format of {str(path)!r} from its suffix",
            hint="use .parquet, .csv, .jsonl or .json",
        )
    return _SUFFIXES[suffix]


def write_table(
    table: pa.Table,
    path: str | os.PathLike[str],
    fmt: str | None = None,
    *,
    metadata: dict[str, str] | None = None,
) -> Path:
    """Write ``table`` atomically; nested columns are kept in Parquet/JSON, JSON-encoded in CSV.

    A local problem (no space, read-only, not a directory, a device as ``path``) raises
    :class:`~idcbq.errors.LocalFileError` naming ``path``; no temp file is left.
    """
    from idcbq.io.localfs import check_output_file, fs_error, make_dir, publish

    path = check_output_file(path)  # a device or /proc path is refused before anything else
    fmt = format_for(path, fmt)
    make_dir(path.parent)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            if metadata:
                merged = {
                    **(table.schema.metadata or {}),
                    **{k.encode(): v.encode() for k, v in metadata.items()},
                }
                table = table.replace_schema_metadata(merged)
            pq.write_table(table, tmp)
        elif fmt == "csv":
            import pyarrow.csv as pacsv

            table = _flatten_nested(table)  # the schema recorded is that of the file
            pacsv.write_csv(table, tmp)
        else:
            with open(tmp, "w", encoding="utf-8") as handle:
                rows = table.to_pylist()
                if fmt == "jsonl":
                    for row in rows:
                        handle.write(dumps(row))
                        handle.write("\n")
                else:
                    handle.write(dumps(rows, indent=1))
                    handle.write("\n")
        publish(tmp, path)
    except OSError as exc:
        raise fs_error(exc, path) from exc
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
    if fmt in ("csv", "jsonl"):  # types for a one-pass read back (idcbq.io.schemafile)
        from idcbq.io.schemafile import record

        record(path, fmt, table.schema)
    if fmt != "parquet":
        _write_sidecar(path, (metadata or {}).get(PROVENANCE_KEY))
    return path


def provenance_sidecar(path: str | os.PathLike[str]) -> Path:
    """``<file>.provenance.json``: where a text result keeps what Parquet keeps in its metadata."""
    path = Path(path)
    return path.with_name(path.name + PROVENANCE_SUFFIX)


def _write_sidecar(path: Path, provenance: str | None) -> None:
    """Write (or, with no provenance, remove a stale) ``<file>.provenance.json`` next to ``path``.

    Text formats have no metadata: without the sidecar a CSV/JSON result forgets which
    source its rows came from, and expanding it to files would ask the wrong one.
    """
    from idcbq.io.localfs import fs_error

    side = provenance_sidecar(path)
    if provenance is None:
        with contextlib.suppress(OSError):
            side.unlink()
        return
    tmp = side.with_name(f".{side.name}.{os.getpid()}.partial")
    try:
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(json.loads(provenance), handle, indent=2, default=str)
            handle.write("\n")
        os.replace(tmp, side)
    except OSError as exc:
        with contextlib.suppress(OSError):
            path.unlink()  # no text result without its provenance
        raise fs_error(exc, side) from exc
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


def read_table(path: str | os.PathLike[str], fmt: str | None = None) -> pa.Table:
    """Read a table written by :func:`write_table` (or any file of those formats)."""
    import pyarrow as pa

    from idcbq.io.readback import open_table

    path = Path(path)
    fmt = format_for(path, fmt)
    if not path.exists():
        raise UsageError(f"no such file: {path}")
    try:
        schema, batches = open_table(path, fmt)
        return pa.Table.from_batches(list(batches), schema=schema)
    except (pa.ArrowInvalid, json.JSONDecodeError, UnicodeDecodeError, OSError) as exc:
        raise UsageError(f"cannot read {path} as {fmt}: {exc}") from exc


def _flatten_nested(table: pa.Table) -> pa.Table:
    import pyarrow as pa
    import pyarrow.types as pt

    columns = []
    for column in table.columns:
        if pt.is_nested(column.type):
            values = [None if v is None else dumps(v) for v in column.to_pylist()]
            columns.append(pa.array(values, pa.string()))
        else:
            columns.append(column)
    return pa.table(columns, names=table.column_names)


def json_default(value: Any) -> Any:
    """JSON for values :mod:`json` can't encode: ISO dates/times, hex bytes, decimals as floats.

    :func:`dumps` writes decimals with all their digits instead; this is the fallback for
    callers of :func:`json.dumps` that only need a readable value.
    """
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    if hasattr(value, "__float__"):
        return float(value)
    return str(value)


def decimal_text(value: Decimal) -> str:
    """A NUMERIC as GoogleSQL prints it: every digit, no exponent, no trailing zeros.

    Example:
        >>> from decimal import Decimal
        >>> decimal_text(Decimal("1.500000000")), decimal_text(Decimal("-1E+2"))
        ('1.5', '-100')
    """
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def dumps(value: Any, *, indent: int | None = None) -> str:
    """``value`` as JSON, with decimals (NUMERIC) as numbers that keep every digit.

    A float would round ``12345678901234567890.123456789`` to 17 digits; the number is
    written as its exact text instead (a reader that parses decimals gets it back).

    Example:
        >>> from decimal import Decimal
        >>> dumps({"n": Decimal("12345678901234567890.123456789"), "d": Decimal("1.50")})
        '{"n": 12345678901234567890.123456789, "d": 1.5}'
    """
    # json cannot emit raw number text: mark each decimal with a token no value holds
    # (fresh for each call), then unquote the marked strings.
    token = secrets.token_hex(8)

    def encode(item: Any) -> Any:
        if isinstance(item, Decimal) and item.is_finite():
            return f"{token}{decimal_text(item)}{token}"
        return json_default(item)

    text = json.dumps(value, default=encode, ensure_ascii=False, indent=indent)
    if token not in text:
        return text
    return re.sub(f'"{token}(-?[0-9.]+){token}"', r"\1", text)


def json_text(table: pa.Table, *, indent: int | None = None) -> str:
    """``table`` as a JSON array of row objects, encoded as :func:`write_table` writes ``.json``.

    Example:
        >>> import pyarrow as pa
        >>> json_text(pa.table({"n": [1, 2]}))
        '[{"n": 1}, {"n": 2}]'
    """
    return dumps(table.to_pylist(), indent=indent)
