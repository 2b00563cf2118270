"""Read manifests: idcbq's own, IDC portal / idc-index s5cmd files, and URL lists.

Everything comes back as manifest-schema record batches plus a ``ManifestInfo``.
Series-level lines (``cp s3://bucket/<crdc_series_uuid>/* .``, ``gs://bucket/uuid/*``)
become rows with ``crdc_instance_uuid`` null and a ``/*`` URL: the downloader lists the
bucket prefix for those (object metadata gives size and MD5).
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from idcbq.errors import Location, ManifestError
from idcbq.manifest.model import (
    AWS_TO_GCS,
    GCS_TO_AWS,
    MANIFEST_COLUMNS,
    manifest_schema,
    parse_url,
)

if TYPE_CHECKING:
    import pyarrow as pa

_ENDPOINT_RE = re.compile(r"--endpoint-url[ =](\S+)")
_UUID_KEY = re.compile(r"^(?P<series>[^/]+)/(?:(?P<instance>[^/]+)\.dcm|\*)$")
_BATCH = 65_536
_STRING_COLUMNS = (
    *(c for c in MANIFEST_COLUMNS if c != "size"),
    "gcs_url", "aws_url", "instance_hash", "license_short_name", "series_aws_url", "series_gcs_url",
)  # fmt: skip


@dataclass
class ManifestInfo:
    """What a manifest file is: its format, provider, endpoint and provenance if any."""

    path: str
    format: str
    provider: str | None = None
    endpoint: str | None = None
    provenance: dict[str, Any] = field(default_factory=dict)
    is_result: bool = False


def sniff_format(path: Path) -> str:
    """Guess a file's format from its name, then its first bytes."""
    suffix = path.suffix.lower()
    by_suffix = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".jsonl": "jsonl",
                 ".ndjson": "jsonl", ".json": "json", ".s5cmd": "s5cmd", ".txt": "urls", ".urls": "urls"}  # fmt: skip
    if suffix in by_suffix:
        return by_suffix[suffix]
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError as exc:
        from idcbq.io.localfs import fs_error

        raise fs_error(exc, path, "read") from exc
    if head.startswith(b"PAR1"):
        return "parquet"
    for raw in head.decode("utf-8", "replace").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("cp "):
            return "s5cmd"
        if line.startswith(("gs://", "s3://")):
            return "urls"
        if line.startswith("{"):
            return "jsonl"
        if line.startswith("["):
            return "json"
        return "csv"
    return "urls"


def read_table(path: str | Path) -> tuple[pa.Schema, Iterator[pa.RecordBatch], str]:
    """A results or manifest file in a tabular format, as streamed record batches.

    Column types come from the whole file (see :mod:`idcbq.io.readback`); identifiers stay
    strings and sizes integers. An empty file is a table with no columns and no rows.
    """
    from idcbq.io.readback import TableReadError, open_table

    path = Path(path)
    if not path.is_file():
        raise ManifestError(f"no such file: {path}")
    fmt = sniff_format(path)
    if fmt in ("s5cmd", "urls"):
        raise ManifestError(f"{path} is a {fmt} manifest, not a results table")
    try:
        schema, batches = open_table(
            path, fmt, strings=_STRING_COLUMNS, ints=("size", "instance_size")
        )
    except TableReadError as exc:
        raise ManifestError(str(exc)) from exc
    except OSError as exc:
        from idcbq.io.localfs import fs_error

        raise fs_error(exc, path, "read") from exc
    return schema, _wrapped(batches), fmt


def _wrapped(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """Errors met while streaming become ManifestErrors (the message names the file)."""
    from idcbq.io.readback import TableReadError

    try:
        yield from batches
    except TableReadError as exc:
        raise ManifestError(str(exc)) from exc


def read_manifest(path: str | Path) -> tuple[ManifestInfo, pa.Schema, Iterator[pa.RecordBatch]]:
    """Open any manifest: text lists are parsed here; tables are returned as-is.

    For a tabular file without a ``url`` column ``info.is_result`` is True: it is a
    query result that needs expanding (see :func:`idcbq.manifest.expand.manifest_batches`).
    """
    path = Path(path)
    if not path.is_file():
        raise ManifestError(f"no such manifest: {path}")
    fmt = sniff_format(path)
    info = ManifestInfo(path=str(path), format=fmt)
    if fmt in ("s5cmd", "urls"):
        schema = manifest_schema()
        for _, raw in _text_lines(path):  # leading comments: endpoint and provenance, first
            if not raw.startswith("#") and raw.strip():
                break
            _read_comment(raw.strip(), info)
        return info, schema, _text_batches(path, fmt, info, schema)
    schema, batches, fmt = read_table(path)
    info.format = fmt
    info.is_result = "url" not in schema.names
    with contextlib.suppress(ValueError, OSError):  # provenance is informative, never fatal
        if fmt == "parquet" and len(schema):
            import pyarrow.parquet as pq

            meta = pq.read_metadata(path).metadata or {}
            raw = meta.get(b"idcbq.provenance")
            if raw:
                info.provenance = json.loads(raw)
        elif fmt != "parquet":
            side = path.with_name(path.name + ".provenance.json")
            if side.is_file():
                info.provenance = json.loads(side.read_text(encoding="utf-8"))
        if not isinstance(info.provenance, dict):
            info.provenance = {}
    if not info.is_result:
        first = info.provenance.get("provider")
        info.provider = first if first in ("gcs", "aws") else None
    return info, schema, batches


def _text_batches(
    path: Path, fmt: str, info: ManifestInfo, schema: pa.Schema
) -> Iterator[pa.RecordBatch]:
    import pyarrow as pa

    rows: dict[str, list[Any]] = {name: [] for name in schema.names}
    # Lines are decoded one by one: a bad byte names its line.
    for lineno, raw in _text_lines(path):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            _read_comment(line, info)
            continue
        url = _url_of(line, fmt, path, lineno)
        try:
            provider, bucket, key = parse_url(url)
        except ManifestError as exc:  # name the file and line, not only the URL
            raise ManifestError(
                exc.message, location=Location(str(path), lineno, None, line)
            ) from None
        if fmt == "s5cmd" and info.provider == "gcs":
            provider = "gcs"  # s3:// URLs at the GCS endpoint name GCS buckets
        info.provider = info.provider or provider
        match = _UUID_KEY.match(key)
        if not match:
            raise ManifestError(
                f"object {key!r} is not <crdc_series_uuid>/<crdc_instance_uuid>.dcm or <uuid>/*",
                location=Location(str(path), lineno, None, line),
            )
        gcs = bucket if provider == "gcs" else AWS_TO_GCS.get(bucket, bucket)
        aws = bucket if provider == "aws" else GCS_TO_AWS.get(bucket, bucket)
        scheme = "gs" if provider == "gcs" else "s3"
        row = dict.fromkeys(schema.names)
        row.update(url=f"{scheme}://{bucket}/{key}", gcs_bucket=gcs, aws_bucket=aws,
                   crdc_series_uuid=match["series"], crdc_instance_uuid=match["instance"])  # fmt: skip
        for name in schema.names:
            rows[name].append(row[name])
        if len(rows["url"]) >= _BATCH:
            yield pa.RecordBatch.from_pydict(rows, schema=schema)
            rows = {name: [] for name in schema.names}
    if rows["url"]:
        yield pa.RecordBatch.from_pydict(rows, schema=schema)


def _text_lines(path: Path) -> Iterator[tuple[int, str]]:
    """(line number, text) of a UTF-8 text manifest; a binary or Latin-1 file fails at its line."""
    with open(path, "rb") as fh:
        for lineno, raw in enumerate(fh, 1):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                shown = raw[:80].decode("utf-8", "replace").rstrip()
                raise ManifestError(
                    f"not UTF-8 text (byte {exc.start + 1} of the line): is this a manifest?",
                    location=Location(str(path), lineno, exc.start + 1, shown),
                    hint="s5cmd and URL manifests are UTF-8 text, one cp line or URL per line",
                ) from None
            if "\x00" in text:
                raise ManifestError(
                    "binary data (NUL byte): is this a manifest?",
                    location=Location(str(path), lineno, text.index("\x00") + 1, None),
                )
            yield lineno, text


def _read_comment(line: str, info: ManifestInfo) -> None:
    if line.startswith("# idcbq-provenance:"):
        with contextlib.suppress(json.JSONDecodeError):
            info.provenance = json.loads(line.split(":", 1)[1])
    m = _ENDPOINT_RE.search(line)
    if m:
        info.endpoint = m.group(1)
        info.provider = "gcs" if "googleapis.com" in info.endpoint else "aws"


def _url_of(line: str, fmt: str, path: Path, lineno: int) -> str:
    if fmt == "urls":
        return line.split()[0]
    parts = line.split()
    if parts[0] != "cp":
        raise ManifestError(
            f"unsupported s5cmd command {parts[0]!r} (only cp)",
            location=Location(str(path), lineno, 1, line),
        )
    srcs = [p for p in parts[1:] if p.startswith(("s3://", "gs://"))]
    if not srcs:
        raise ManifestError(
            "no s3:// source in s5cmd line", location=Location(str(path), lineno, None, line)
        )
    return srcs[0]
