"""The Arrow schema of a CSV / JSON Lines file idcbq wrote, kept in a ``<file>.schema.json``.

Text formats lose types (a column null for a megabyte, a date written as text), so the
reader of an arbitrary file types every column from the whole file first (see
:mod:`idcbq.io.readback`). For a file idcbq wrote itself, the writer records the schema
next to it; the reader then streams in one pass with that schema, provided the sidecar
still describes the file: same size, same first and last 64 KiB (hashes) and the same
column names. A file edited by hand, replaced, or written by another tool fails one of
those checks and is read the slow, safe way.

Example:
    >>> import pathlib, tempfile
    >>> import pyarrow as pa
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "t.jsonl").write_text('{"a": "2020-01-02"}\\n')
    >>> record(d / "t.jsonl", "jsonl", pa.schema([("a", pa.date32())]))
    >>> str(load(d / "t.jsonl", "jsonl").schema.field("a").type)
    'date32[day]'
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pyarrow as pa

SCHEMA_SUFFIX = ".schema.json"
_EDGE = 64 << 10
_VERSION = 1


@dataclass
class KnownSchema:
    """A sidecar that matches its file: the schema and the file's shape."""

    schema: pa.Schema
    longest_line: int
    newlines_in_values: bool


def sidecar_path(path: str | os.PathLike[str]) -> Path:
    """``<file>.schema.json`` next to ``path``."""
    path = Path(path)
    return path.with_name(path.name + SCHEMA_SUFFIX)


def _fingerprint(path: Path) -> dict[str, object]:
    size = path.stat().st_size
    with open(path, "rb") as fh:
        head = fh.read(_EDGE)
        fh.seek(max(0, size - _EDGE))
        tail = fh.read(_EDGE)
    return {
        "size": size,
        "head": hashlib.blake2b(head, digest_size=16).hexdigest(),
        "tail": hashlib.blake2b(tail, digest_size=16).hexdigest(),
    }


def _shape(path: Path, fmt: str) -> tuple[int, bool]:
    """(longest row in bytes, a newline sits inside a quoted CSV value)."""
    from idcbq.io.scan import csv_shape, longest_line

    if fmt == "csv":
        inside, longest = csv_shape(path)
        return longest, inside
    return longest_line(path), False


def record(path: str | os.PathLike[str], fmt: str, schema: pa.Schema) -> None:
    """Write the sidecar for ``path`` (just written as ``fmt`` with ``schema``).

    The sidecar only speeds reading up: if it cannot be written, no sidecar (and no stale
    one) is left and the file is read the slow way.
    """
    path = Path(path)
    side = sidecar_path(path)
    tmp = side.with_name(f".{side.name}.{os.getpid()}.partial")
    try:
        longest, inside = _shape(path, fmt)
        doc = {
            "idcbq_schema": _VERSION,
            "format": fmt,
            **_fingerprint(path),
            "longest_line": longest,
            "newlines_in_values": inside,
            "columns": schema.names,
            "arrow_schema": base64.b64encode(schema.serialize().to_pybytes()).decode(),
            "types": {f.name: str(f.type) for f in schema},  # for people; not read back
        }
        tmp.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
        from idcbq.io.localfs import publish

        publish(tmp, side)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            side.unlink(missing_ok=True)


def load(path: str | os.PathLike[str], fmt: str) -> KnownSchema | None:
    """The recorded schema of ``path`` if its sidecar is present and still matches the file."""
    import pyarrow as pa

    path = Path(path)
    side = sidecar_path(path)
    try:
        doc = json.loads(side.read_text(encoding="utf-8"))
        if not isinstance(doc, dict) or doc.get("idcbq_schema") != _VERSION:
            return None
        if doc.get("format") != fmt:
            return None
        finger = _fingerprint(path)
        if any(doc.get(k) != v for k, v in finger.items()):
            return None
        schema = pa.ipc.read_schema(pa.py_buffer(base64.b64decode(doc["arrow_schema"])))
        if schema.names != doc.get("columns") or schema.names != _names_in_file(path, fmt):
            return None
        return KnownSchema(schema, int(doc["longest_line"]), bool(doc["newlines_in_values"]))
    except (OSError, ValueError, KeyError, TypeError, pa.ArrowException):
        return None


def _names_in_file(path: Path, fmt: str) -> list[str] | None:
    """The header of a CSV file, the keys of a JSON Lines file's first row."""
    if fmt == "csv":
        from idcbq.io.scan import csv_names

        return csv_names(path)
    with open(path, "rb") as fh:
        for raw in fh:
            if raw.strip():
                row = json.loads(raw)
                return list(row) if isinstance(row, dict) else None
    return None
