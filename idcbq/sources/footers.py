"""Parquet footers of a remote export: read once, kept on disk, used to prune files.

IDC's ``dicom_all`` files carry footers of a megabyte or more (thousands of leaf
columns), and a cold DuckDB query over the remote glob reads every one of them before
any data. This module keeps, per export table, an on-disk cache of

* a small *summary* per file (size, modification time, rows, schema hash and, per row
  group, the min/max of the pruning columns ``collection_id`` and ``Modality``), loaded
  in one read; and
* the raw footer bytes (zstd), for readers that need the full metadata (the mirror,
  byte estimates).

Entries are keyed by the object's size and modification time (ETag-like: a rewritten
object gets a new time), so a changed file is read again. Object listings with sizes
come from pyarrow's file systems (S3 anonymous, GCS, local).

Example:
    >>> fs, base = open_filesystem(ExportLocation.parse("/tmp/x"))       # doctest: +SKIP
    >>> cache = FooterCache.for_table("s3://b/bigquery_export/idc_v25/dicom_all")  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import weakref
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from idcbq.errors import SourceError

if TYPE_CHECKING:
    import pyarrow.fs as pafs
    import pyarrow.parquet as pq

    from idcbq.sources.location import ExportLocation

#: Columns whose row-group min/max are kept for pruning.
PRUNE_COLUMNS = ("collection_id", "Modality")
_TAIL = 1 << 16
_FORMAT = 1


@dataclass(frozen=True)
class ObjectInfo:
    """One listed object: ``url`` as the engines name it, ``path`` for the file system."""

    url: str
    path: str
    size: int
    mtime: float

    @property
    def name(self) -> str:
        return self.url.rsplit("/", 1)[-1]


def open_filesystem(
    location: ExportLocation,
    *,
    s3_endpoint: str | None = None,
    gcs_endpoint: str | None = None,
    anonymous: bool = True,
) -> tuple[pafs.FileSystem, str]:
    """A pyarrow file system for ``location`` and the path of its root in it."""
    import pyarrow.fs as pafs

    if location.scheme == "file":
        return pafs.LocalFileSystem(), location.url
    rest = location.url.split("://", 1)[1]
    if location.scheme == "s3":
        kwargs: dict[str, Any] = {"anonymous": anonymous, "region": "us-east-1"}
        if s3_endpoint:
            scheme, _, host = s3_endpoint.rpartition("://")
            kwargs.update(endpoint_override=host.rstrip("/"), scheme=scheme or "https")
        return pafs.S3FileSystem(**kwargs), rest
    from idcbq.engines.duckdb.gcs import pyarrow_gcs

    return pyarrow_gcs(gcs_endpoint, anonymous), rest


def list_parquet(fs: pafs.FileSystem, base: str, url_base: str, rel: str) -> list[ObjectInfo]:
    """Parquet objects directly under ``<base>/<rel>``, sorted, with size and time."""
    import pyarrow.fs as pafs

    try:
        infos = fs.get_file_info(pafs.FileSelector(f"{base}/{rel}", allow_not_found=True))
    except OSError as exc:
        raise SourceError(f"{url_base}/{rel}: cannot list files: {exc}") from exc
    out = []
    for info in infos:
        if info.type != pafs.FileType.File or not info.base_name.endswith(".parquet"):
            continue
        mtime = info.mtime.timestamp() if info.mtime is not None else 0.0
        url = f"{url_base}/{rel}/{info.base_name}"
        out.append(ObjectInfo(url=url, path=info.path, size=int(info.size or 0), mtime=mtime))
    return sorted(out, key=lambda o: o.url)


def fetch_footer(fs: pafs.FileSystem, obj: ObjectInfo) -> bytes:
    """The raw footer (Thrift FileMetaData) of one object: one or two ranged reads."""
    if obj.size < 12:
        raise SourceError(f"{obj.url}: not a readable Parquet file ({obj.size} bytes)")
    with fs.open_input_file(obj.path) as fh:
        tail_len = min(obj.size, _TAIL)
        tail = fh.read_at(tail_len, obj.size - tail_len)
        if tail[-4:] != b"PAR1":
            raise SourceError(
                f"{obj.url}: not a readable Parquet file (no PAR1 footer magic)",
                hint="the file is truncated or corrupt; re-export or remove it",
            )
        length = int.from_bytes(tail[-8:-4], "little")
        if length + 12 > obj.size:
            raise SourceError(f"{obj.url}: not a readable Parquet file (bad footer length)")
        if length + 8 <= tail_len:
            return bytes(tail[tail_len - 8 - length : tail_len - 8])
        head = fh.read_at(length + 8 - tail_len, obj.size - 8 - length)
        return bytes(head) + bytes(tail[:-8])


def parse_footer(raw: bytes) -> pq.FileMetaData:
    """FileMetaData from raw footer bytes."""
    import pyarrow as pa
    from pyarrow._parquet import ParquetReader  # pq.read_metadata adds a Python walk of all columns

    reader = ParquetReader()
    reader.open(pa.BufferReader(b"PAR1" + raw + len(raw).to_bytes(4, "little") + b"PAR1"))
    return reader.metadata


def summarize(meta: pq.FileMetaData, raw: bytes) -> dict[str, Any]:
    """The cached summary of one footer (see module docstring)."""
    schema_id = schema_hash(raw)
    index = _INDEXES.get(schema_id)
    if index is None:
        paths = {meta.schema.column(i).path: i for i in range(meta.num_columns)}
        index = _INDEXES[schema_id] = {c: paths.get(c) for c in PRUNE_COLUMNS}
    groups = []
    for g in range(meta.num_row_groups):
        rg = meta.row_group(g)
        stats: dict[str, list[Any]] = {}
        for col in PRUNE_COLUMNS:
            i = index.get(col)
            st = rg.column(i).statistics if i is not None else None
            if st is not None and st.has_min_max:
                stats[col] = [_plain(st.min), _plain(st.max)]
        groups.append([rg.num_rows, stats])
    return {
        "rows": meta.num_rows,
        "footer_len": len(raw),
        "footer_sha": hashlib.sha256(raw).hexdigest(),
        "schema": schema_id,
        "rg": groups,
    }


def schema_hash(raw: bytes) -> str:
    """A short hash of the footer's schema (the Thrift bytes of its schema list).

    Walking a 4,000-column schema in Python costs ~20 ms, and every file of a table has
    the same one: a footer that starts with the bytes of a footer already walked, up to
    the end of its schema list, has that same list (the encoding is self-delimiting), so
    only the first footer of each schema is walked and the rest cost one ``memcmp``.

    Example:
        >>> raw = bytes([0x15, 0x02, 0x19, 0x0C, 0x16, 0x04, 0x00])  # version, [], rows
        >>> schema_hash(raw) == schema_hash(raw + b"more")
        True
    """
    for prefix, known in _SCHEMAS:
        if raw.startswith(prefix):
            return known
    from idcbq.sources.thrift import schema_span

    start, end = schema_span(raw)
    found = hashlib.sha256(raw[start:end]).hexdigest()[:16]
    _SCHEMAS.insert(0, (bytes(raw[:end]), found))
    del _SCHEMAS[8:]  # a few schemas per process (tables); list ops hold the GIL
    return found


#: Footer prefixes (through the schema list) and their schema hashes, newest first.
_SCHEMAS: list[tuple[bytes, str]] = []

#: Leaf index of each pruning column, per schema hash (the same for every file of a table).
_INDEXES: dict[str, dict[str, int | None]] = {}


def _plain(value: Any) -> Any:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


class FooterCache:
    """On-disk footers of one table (``<cache>/footers/<hash of table url>/``); thread-safe."""

    def __init__(self, directory: str | os.PathLike[str]):
        self.dir = Path(directory)
        self._lock = threading.Lock()
        self._index: dict[str, dict[str, Any]] | None = None
        self._dirty = False

    @classmethod
    def for_table(cls, table_url: str, root: str | os.PathLike[str] | None = None) -> FooterCache:
        """The cache of one table URL (root defaults to ``$IDCBQ_FOOTER_CACHE`` or the cache dir)."""
        if root is None:
            root = os.environ.get("IDCBQ_FOOTER_CACHE")
        if root is None:
            from idcbq.sources.releases import cache_dir

            root = cache_dir() / "footers"
        key = hashlib.sha256(table_url.encode()).hexdigest()[:20]
        return cls(Path(root) / key)

    @property
    def index(self) -> dict[str, dict[str, Any]]:
        if self._index is None:
            path = self.dir / "index.json"
            try:
                data = json.loads(path.read_text())
                self._index = data["files"] if data.get("format") == _FORMAT else {}
            except (OSError, ValueError, KeyError):
                self._index = {}
        return self._index

    def summary(self, obj: ObjectInfo) -> dict[str, Any] | None:
        entry = self.index.get(obj.name)
        if entry and entry["size"] == obj.size and entry["mtime"] == obj.mtime:
            return entry
        return None

    def raw(self, obj: ObjectInfo) -> bytes | None:
        """Cached raw footer of ``obj`` if its summary is current."""
        import pyarrow as pa

        entry = self.summary(obj)
        if entry is None:
            return None
        try:
            data = (self.dir / f"{obj.name}.zst").read_bytes()
            raw = pa.decompress(data, entry["footer_len"], codec="zstd", asbytes=True)
        except (OSError, ValueError, pa.ArrowException):
            return None
        return raw if hashlib.sha256(raw).hexdigest() == entry["footer_sha"] else None

    def put(self, obj: ObjectInfo, raw: bytes, summary: dict[str, Any]) -> None:
        import pyarrow as pa

        self.dir.mkdir(parents=True, exist_ok=True)
        _atomic_write(self.dir / f"{obj.name}.zst", pa.compress(raw, codec="zstd", asbytes=True))
        with self._lock:
            self.index[obj.name] = {**summary, "size": obj.size, "mtime": obj.mtime}
            self._dirty = True

    def save(self) -> None:
        """Write the summary index (atomically) if it changed."""
        with self._lock:
            if not self._dirty:
                return
            self.dir.mkdir(parents=True, exist_ok=True)
            text = json.dumps({"format": _FORMAT, "files": self.index}, separators=(",", ":"))
            _atomic_write(self.dir / "index.json", text.encode())
            self._dirty = False


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_bytes(data)
    from idcbq.io.localfs import publish

    publish(tmp, path)


def footer(fs: pafs.FileSystem, obj: ObjectInfo, cache: FooterCache | None) -> tuple[bytes, bool]:
    """Raw footer of ``obj`` from the cache, else fetched (and cached). ``(raw, fetched)``."""
    raw = cache.raw(obj) if cache is not None else None
    if raw is not None:
        return raw, False
    if cache is None:
        return fetch_footer(fs, obj), True
    parsed = load_footer(fs, obj, cache)
    return parsed.raw, parsed.fetched


@dataclass
class ParsedFooter:
    """One file's footer: raw bytes, parsed metadata, summary, and whether it was fetched."""

    raw: bytes
    meta: pq.FileMetaData
    summary: dict[str, Any]
    fetched: bool


def load_footer(fs: pafs.FileSystem, obj: ObjectInfo, cache: FooterCache | None) -> ParsedFooter:
    """The footer of ``obj`` parsed once (from the cache when current, else fetched and cached).

    Raises:
        SourceError: the footer is not a readable Parquet footer.
    """
    raw = cache.raw(obj) if cache is not None else None
    fetched = raw is None
    if raw is None:
        raw = fetch_footer(fs, obj)
    try:
        meta = parse_footer(raw)
    except Exception as exc:  # pyarrow.ArrowException, OSError: a corrupt footer
        raise SourceError(f"{obj.url}: not a readable Parquet file ({exc})") from exc
    summary = None if fetched or cache is None else cache.summary(obj)
    if summary is None:
        summary = summarize(meta, raw)
        if cache is not None and fetched:
            cache.put(obj, raw, summary)
    return ParsedFooter(raw, meta, summary, fetched)


def summaries(
    fs: pafs.FileSystem,
    objects: list[ObjectInfo],
    cache: FooterCache,
    *,
    workers: int = 8,
) -> dict[str, dict[str, Any]]:
    """Summary of every object (``url -> summary``): cached ones free, others fetched in parallel."""
    out: dict[str, dict[str, Any]] = {}
    missing = []
    for obj in objects:
        entry = cache.summary(obj)
        if entry is None:
            missing.append(obj)
        else:
            out[obj.url] = entry
    if missing:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            done = pool.map(lambda o: footer(fs, o, cache) and None, missing)
            for i, (obj, _) in enumerate(zip(missing, done, strict=True)):
                out[obj.url] = cache.summary(obj) or {}
                if i % 8 == 7:
                    release_memory()
        cache.save()
        release_memory()
    return out


def release_memory() -> None:
    """Give freed heap back to the OS (glibc ``malloc_trim``); no-op elsewhere.

    Parsed footers of thousands of columns are ~10x their size in small allocations;
    parsed in worker threads they fragment glibc's per-thread arenas, and without a trim
    a process that reads 2,000 footers grows by gigabytes it does not use.
    """
    global _TRIM
    if _TRIM is None:
        import ctypes
        import ctypes.util

        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
            _TRIM = libc.malloc_trim
        except (OSError, AttributeError):
            _TRIM = False
    if _TRIM:
        _TRIM(0)
    import pyarrow as pa

    pa.default_memory_pool().release_unused()


_TRIM: Any = None


#: Every RemoteFooters alive (for :func:`close_all` at exit).
_OPEN: weakref.WeakSet[RemoteFooters] = weakref.WeakSet()


def close_all() -> None:
    """Close every live :class:`RemoteFooters` (the CLI calls this before exiting)."""
    for footers in list(_OPEN):
        footers.close()


def check_same_schema(objects: list[ObjectInfo], found: dict[str, dict[str, Any]]) -> None:
    """Raise SourceError when a file's schema differs from the first file's."""
    if not objects:
        return
    first = objects[0]
    ref = found[first.url].get("schema")
    for obj in objects[1:]:
        if found[obj.url].get("schema") != ref:
            raise SourceError(
                f"{obj.url}: columns differ from {first.url}",
                hint="all Parquet files of one table must have the same columns and types",
            )


def admits(summary: dict[str, Any], filters: dict[str, list[Any]]) -> list[int]:
    """Row groups of a file whose min/max admit every filter (``column -> allowed values``)."""
    keep = []
    for g, (_, stats) in enumerate(summary.get("rg", [])):
        ok = True
        for col, values in filters.items():
            mm = stats.get(col)
            if mm is None:
                continue
            lo, hi = mm
            try:
                if not any(v is not None and lo <= v <= hi for v in values):
                    ok = False
                    break
            except TypeError:  # value type unlike the statistics: cannot prune
                continue
        if ok:
            keep.append(g)
    return keep


class RemoteFooters:
    """Footer-backed file lists and byte estimates for the tables of one remote root."""

    def __init__(self, location: ExportLocation, **endpoints: Any):
        self.location = location
        self.endpoints = endpoints
        self._fs: tuple[pafs.FileSystem, str] | None = None
        self._tables: dict[tuple[str, str], tuple[list[ObjectInfo], dict[str, dict[str, Any]]]] = {}
        _OPEN.add(self)

    @property
    def fs(self) -> tuple[pafs.FileSystem, str]:
        if self._fs is None:
            self._fs = open_filesystem(self.location, **self.endpoints)
        return self._fs

    def close(self) -> None:
        """Drop the file system (pyarrow's S3/GCS client) now; it reopens if used again.

        pyarrow finalizes its S3 library in an ``atexit`` hook, and an S3 client still
        alive then aborts the process at exit ("terminate called without an active
        exception"), so owners close this before the interpreter finalizes.
        """
        self._fs = None

    def table(self, dataset: str, table: str) -> tuple[list[ObjectInfo], dict[str, dict[str, Any]]]:
        """Listed objects and their footer summaries (schema checked), once per process."""
        key = (dataset, table)
        if key not in self._tables:
            fs, base = self.fs
            rel = f"bigquery_export/{dataset}/{table}"
            objects = list_parquet(fs, base, self.location.url, rel)
            cache = FooterCache.for_table(self.location.table_url(dataset, table))
            try:
                found = summaries(fs, objects, cache)
            except OSError as exc:  # network, permission (pyarrow raises OSError subclasses)
                raise SourceError(
                    f"{self.location.table_url(dataset, table)}: cannot read footers: {exc}",
                    hint="check that the objects exist and allow anonymous reads",
                ) from exc
            check_same_schema(objects, found)
            self._tables[key] = (objects, found)
        return self._tables[key]

    def files(self, dataset: str, table: str, filters: dict[str, list[Any]] | None) -> list[str]:
        """URLs of the files that can hold rows passing ``filters`` (all files without filters)."""
        objects, found = self.table(dataset, table)
        if not filters:
            return [o.url for o in objects]
        return [o.url for o in objects if admits(found[o.url], filters)]

    def estimate(
        self,
        dataset: str,
        table: str,
        columns: set[str] | None,
        filters: dict[str, list[Any]] | None,
    ) -> int:
        """Bytes a scan would read: footers of surviving files + chunks of ``columns`` (None: all)."""
        objects, found = self.table(dataset, table)
        fs, _ = self.fs
        cache = FooterCache.for_table(self.location.table_url(dataset, table))
        total = 0
        wanted = {c.lower() for c in columns} if columns is not None else None
        for obj in objects:
            groups = admits(found[obj.url], filters or {})
            if not groups:
                continue
            raw, _ = footer(fs, obj, cache)
            meta = parse_footer(raw)
            total += len(raw) + 8
            for g in groups:
                rg = meta.row_group(g)
                for i in range(rg.num_columns):
                    col = rg.column(i)
                    if wanted is None or col.path_in_schema.split(".", 1)[0].lower() in wanted:
                        total += col.total_compressed_size
        cache.save()
        return total
