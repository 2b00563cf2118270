"""Streaming manifest writers, one per format. Output appears atomically or not at all.

Each writer takes record batches in the manifest schema; a file is written under a
temporary name in the target directory and renamed into place only after the last
batch, so a failure never leaves a half-written manifest at ``path``.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from idcbq.errors import ManifestError
from idcbq.manifest.model import AWS_ENDPOINT, FORMATS, GCS_ENDPOINT, LEVELS
from idcbq.manifest.provenance import SIDECAR_SUFFIX, ManifestStats

if TYPE_CHECKING:
    import pyarrow as pa

PROVENANCE_KEY = b"idcbq.provenance"


class _AtomicFile:
    """A temp file next to ``path``; ``commit`` renames it into place, ``abort`` removes it."""

    def __init__(self, path: Path, mode: str = "w"):
        from idcbq.io.localfs import check_output_file, fs_error, make_dir

        self.path = check_output_file(path)
        make_dir(path.parent)
        try:
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        except OSError as exc:
            raise fs_error(exc, path) from exc
        self.tmp = Path(tmp)
        self.fh: IO[Any] = os.fdopen(
            fd, mode, **({} if "b" in mode else {"encoding": "utf-8", "newline": "\n"})
        )

    def commit(self) -> None:
        self.fh.flush()
        os.fsync(self.fh.fileno())
        self.fh.close()
        from idcbq.io.localfs import publish

        publish(self.tmp, self.path)  # mkstemp's 0600 becomes the umask's mode

    def abort(self) -> None:
        with contextlib.suppress(OSError):  # a full disk can fail the final flush too
            self.fh.close()
        with contextlib.suppress(OSError):
            self.tmp.unlink(missing_ok=True)


def _s5cmd_lines(
    batch: pa.RecordBatch, level: str, provider: str, dest: str, seen: set[str]
) -> list[str]:
    import pyarrow.compute as pc

    bucket = batch.column("gcs_bucket" if provider == "gcs" else "aws_bucket")
    if level == "instance":
        # s5cmd always speaks S3; against GCS it uses GCS bucket names at the GCS endpoint.
        src = pc.binary_join_element_wise(
            "s3://",
            bucket,
            "/",
            batch.column("crdc_series_uuid"),
            "/",
            batch.column("crdc_instance_uuid"),
            ".dcm",
            "",
        )
        instance = batch.column("crdc_instance_uuid")
        if instance.null_count:  # series-level rows (idc-index results): the prefix
            whole = pc.binary_join_element_wise(
                "s3://", bucket, "/", batch.column("crdc_series_uuid"), "/*", ""
            )
            src = pc.if_else(pc.is_null(instance), whole, src)
        return [f"cp {s} {dest}" for s in src.to_pylist()]
    prefixes = pc.binary_join_element_wise(
        "s3://", bucket, "/", batch.column("crdc_series_uuid"), "/*", ""
    )
    out = []
    for p in prefixes.to_pylist():
        if p not in seen:
            seen.add(p)
            out.append(f"cp {p} {dest}")
    return out


def _url_lines(batch: pa.RecordBatch, level: str, seen: set[str]) -> list[str]:
    import pyarrow.compute as pc

    urls = batch.column("url")
    if level == "instance":
        return urls.to_pylist()
    prefixes = pc.replace_substring_regex(urls, r"/[^/]+$", "/*")
    out = []
    for p in prefixes.to_pylist():
        if p not in seen:
            seen.add(p)
            out.append(p)
    return out


def write_batches(
    batches: Iterable[pa.RecordBatch],
    schema: pa.Schema,
    path: str | os.PathLike[str],
    *,
    format: str,
    level: str = "instance",
    provider: str = "gcs",
    provenance: dict[str, Any] | None = None,
    s5cmd_dest: str = ".",
) -> dict[str, Any]:
    """Write manifest batches to ``path`` in ``format``; return the final provenance."""
    if format not in FORMATS:
        raise ManifestError(
            f"unknown manifest format {format!r}", hint=f"use one of {', '.join(FORMATS)}"
        )
    if level not in LEVELS:
        raise ManifestError(f"unknown level {level!r}", hint="use series or instance")
    if level == "series" and format not in ("s5cmd", "urls"):
        raise ManifestError(f"--level series is for s5cmd and urls manifests, not {format}")
    path = Path(path)
    stats = ManifestStats()
    prov = dict(provenance or {})
    prov.update({"format": format, "level": level, "provider": provider})

    def finish() -> dict[str, Any]:
        prov.update(stats.as_dict())
        return prov

    def counted() -> Iterable[pa.RecordBatch]:
        for batch in batches:
            stats.add(batch)
            yield batch

    if format == "parquet":
        import pyarrow.parquet as pq

        out = _AtomicFile(path, "wb")
        writer = None
        try:
            writer = pq.ParquetWriter(out.fh, schema, compression="zstd")
            for batch in counted():
                writer.write_batch(batch)
            meta = json.dumps(finish(), default=str).encode()
            writer.add_key_value_metadata({PROVENANCE_KEY: meta})
            writer.close()
            out.commit()
        except BaseException as exc:
            if writer is not None:
                with contextlib.suppress(Exception):
                    writer.close()
            out.abort()
            _raise_local(exc, path)
            raise
        return prov

    body = _AtomicFile(path, "w")
    sidecar = path.with_name(path.name + SIDECAR_SUFFIX)
    try:
        seen: set[str] = set()
        if format == "csv":
            _write_csv(counted(), schema, body)
        elif format == "jsonl":
            _write_jsonl(counted(), body)
        else:
            for batch in counted():
                if format == "s5cmd":
                    lines = _s5cmd_lines(batch, level, provider, s5cmd_dest, seen)
                else:
                    lines = _url_lines(batch, level, seen)
                if lines:
                    body.fh.write("\n".join(lines) + "\n")
        finish()
        if format == "s5cmd":
            _prepend_header(body, _s5cmd_header(prov, provider, path.name))
        body.commit()
    except BaseException as exc:
        body.abort()
        _raise_local(exc, path)
        raise
    if format != "s5cmd":
        # urls lists feed `gsutil -I` / `gcloud storage cp -I`, which take no comments:
        # their provenance (and that of jsonl/csv) lives in a sidecar file.
        side = _AtomicFile(sidecar, "w")
        try:
            json.dump(prov, side.fh, indent=2, default=str)
            side.commit()
        except BaseException as exc:
            side.abort()
            path.unlink(missing_ok=True)  # no manifest without its provenance
            _raise_local(exc, sidecar)
            raise
    if format in ("csv", "jsonl"):  # types for a one-pass read back (idcbq.io.schemafile)
        from idcbq.io.schemafile import record

        record(path, format, schema)
    return prov


def _raise_local(exc: BaseException, path: Path) -> None:
    """An OS error while writing ``path`` becomes a LocalFileError (exit 8) naming it."""
    from idcbq.io.localfs import fs_error

    if isinstance(exc, OSError):
        raise fs_error(exc, path) from exc


def _write_jsonl(batches: Iterable[pa.RecordBatch], out: _AtomicFile) -> None:
    """Encode batch n+1 while batch n is written (both release the GIL; JSON is ~6x Parquet)."""
    from concurrent.futures import Future, ThreadPoolExecutor

    from idcbq.manifest.jsonlines import encode_batch

    out.fh.flush()
    with ThreadPoolExecutor(1, thread_name_prefix="idcbq-jsonl") as writer:
        pending: Future[int] | None = None
        for batch in batches:
            data = encode_batch(batch)
            if pending is not None:
                pending.result()
            pending = writer.submit(out.fh.buffer.write, data)
        if pending is not None:
            pending.result()


def _write_csv(batches: Iterable[pa.RecordBatch], schema: pa.Schema, out: _AtomicFile) -> None:
    import pyarrow.csv as pacsv

    out.fh.close()
    with open(out.tmp, "wb") as fh, pacsv.CSVWriter(fh, schema) as writer:
        for batch in batches:
            writer.write_batch(batch)
    out.fh = open(out.tmp, "a", encoding="utf-8")  # noqa: SIM115 - closed by commit


def _s5cmd_header(prov: dict[str, Any], provider: str, name: str) -> str:
    endpoint = GCS_ENDPOINT if provider == "gcs" else AWS_ENDPOINT
    lines = [
        f"# idcbq manifest: {prov['instances']} instances in {prov['series']} series, "
        f"{prov['total_bytes']} bytes; licenses {json.dumps(prov['license_groups'])}",
        "# idcbq-provenance: " + json.dumps(prov, default=str, separators=(",", ":")),
        f"# s5cmd --no-sign-request --endpoint-url {endpoint} run {name}",
    ]
    return "\n".join(lines) + "\n"


def _prepend_header(body: _AtomicFile, header: str) -> None:
    """Rewrite the temp file as header + body (streamed copy; totals are known only now)."""
    import shutil

    body.fh.close()
    fd, tmp = tempfile.mkstemp(prefix=f".{body.path.name}.", suffix=".tmp", dir=body.path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out, open(body.tmp, encoding="utf-8") as src:
            out.write(header)
            shutil.copyfileobj(src, out, 1 << 20)
        os.replace(tmp, body.tmp)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    body.fh = open(body.tmp, "a", encoding="utf-8")  # noqa: SIM115 - closed by commit
