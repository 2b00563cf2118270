"""Copy the needed part of a remote IDC export to a local, query-ready mirror.

For each source file: its footer (from the footer cache when current, else one or two
ranged reads), the row groups whose ``collection_id`` statistics admit ``collections``,
and only the chosen columns' chunks of those row groups are fetched, then only the rows
of ``collections`` are kept (:mod:`idcbq.sources.mirror.rows`) (pyarrow over a
range-reading file system); the copy keeps the source's file name, so the mirror has
IDC's own layout and ``--source <dest>`` runs every template unchanged.

A file is skipped when its recorded state matches (same source footer, row groups and
columns); when only columns were added, just those columns are fetched and merged;
a file of another release with a byte-identical footer is hard-linked instead of
fetched. Every copy is verified: the rows read must equal the selected row groups'
counts in the source footer, and the written file must hold the rows kept. The newest
mirrored release is also ``idc_current`` (a link), as in IDC's own export.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from idcbq.errors import SourceError, UsageError
from idcbq.sources.mirror import copies, rows
from idcbq.sources.mirror import state as st

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.fs as pafs
    import pyarrow.parquet as pq

    from idcbq.sources.footers import ObjectInfo

#: Tables with more columns than this get the column preset; smaller ones are copied whole.
WIDE = 200


@dataclass
class MirrorReport:
    """What one run did. Byte counts come from the source footers (compressed sizes)."""

    dest: Path
    dataset: str
    files: int = 0
    fetched: int = 0
    merged: int = 0
    linked: int = 0
    unchanged: int = 0
    rows: int = 0
    chunk_bytes: int = 0
    kept_bytes: int = 0
    footer_bytes: int = 0
    disk_bytes: int = 0
    seconds: float = 0.0
    columns: dict[str, list[str]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{self.dataset}: {self.files} files ({self.fetched} fetched, {self.merged} new "
            f"columns, {self.linked} linked, {self.unchanged} unchanged), {self.rows:,} rows, "
            f"{_human(self.chunk_bytes)} column chunks + {_human(self.footer_bytes)} footers "
            f"fetched, {_human(self.disk_bytes)} on disk, {self.seconds:.1f} s"
        )


def _human(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def resolve_dataset(fs: pafs.FileSystem, base: str, version: str | None) -> str:
    """``idc_vNN`` for ``vNN``; the newest numbered dataset for ``current``/None."""
    import pyarrow.fs as pafs

    from idcbq.sources.releases import IdcVersion

    parsed = IdcVersion.parse(version)
    infos = fs.get_file_info(pafs.FileSelector(f"{base}/bigquery_export", allow_not_found=True))
    names = {i.base_name for i in infos if i.type == pafs.FileType.Directory}
    numbered = sorted(
        (n for n in names if n.startswith("idc_v") and n[5:].isdigit()), key=lambda n: int(n[5:])
    )
    if parsed.is_current:
        if not numbered:
            raise SourceError(
                f"{base}: no idc_vNN dataset in bigquery_export/",
                hint=f"datasets there: {', '.join(sorted(names)) or 'none'}",
            )
        return numbered[-1]
    if parsed.dataset not in names:
        raise SourceError(
            f"IDC version {parsed.label} ({parsed.dataset}) is not in the source",
            hint=f"versions there: {', '.join(n[4:] for n in numbered) or 'none'}",
        )
    return parsed.dataset


def mirror(
    source: str,
    dest: str | os.PathLike[str],
    *,
    idc_version: str | None = "current",
    tables: Sequence[str] = ("dicom_all",),
    columns: str | Sequence[str] | None = "templates",
    collections: Sequence[str] | None = None,
    workers: int = 8,
    s3_endpoint: str | None = None,
    gcs_endpoint: str | None = None,
    anonymous: bool = True,
    progress: bool | None = None,
    footer_cache: bool = True,
) -> MirrorReport:
    """Mirror ``tables`` of one IDC release from ``source`` into ``dest``.

    Args:
        source: export root (``s3://``, ``gs://`` or a local directory).
        dest: local directory; becomes an export root (``<dest>/bigquery_export/...``).
        idc_version: ``vNN`` or ``current`` (the newest ``idc_vNN`` in the source).
        tables: table names of the release; ``clinical.<table>`` for a table of its
            clinical dataset (``idc_vNN_clinical``).
        columns: preset (``templates``, ``idc-index``, ``all``) or column names; applies to
            wide tables (over 200 columns); narrower tables are copied whole.
        collections: keep only these collections' rows (only row groups whose
            ``collection_id`` range admits them are fetched).
        workers: files fetched in parallel.
        progress: show a progress bar (default: when stderr is a terminal).
        footer_cache: use (and fill) the on-disk footer cache.

    Raises:
        SourceError: the source or a table is missing, or files failed verification
            (all other files are still mirrored; rerun to retry).
    """
    from idcbq.sources.footers import FooterCache, list_parquet, open_filesystem
    from idcbq.sources.location import ExportLocation
    from idcbq.sources.mirror.columns import resolve_columns

    started = time.perf_counter()
    location = ExportLocation.parse(source)
    dest = Path(dest).expanduser().resolve()
    if not location.is_remote and Path(location.url) == dest:
        raise UsageError("--dest is the source directory", hint="choose another directory")
    fs, base = open_filesystem(
        location, s3_endpoint=s3_endpoint, gcs_endpoint=gcs_endpoint, anonymous=anonymous
    )
    try:
        release = resolve_dataset(fs, base, idc_version)
    except OSError as exc:
        raise SourceError(f"{location.url}: cannot list the export: {exc}") from exc
    report = MirrorReport(dest=dest, dataset=release)
    for name in tables:
        # ``clinical.<table>`` is a table of the release's clinical dataset.
        dataset, table = (
            (f"{release}_clinical", name.split(".", 1)[1])
            if name.startswith("clinical.")
            else (release, name)
        )
        objects = list_parquet(fs, base, location.url, f"bigquery_export/{dataset}/{table}")
        if not objects:
            raise SourceError(f"{location.table_url(dataset, table)}: no Parquet files")
        cache = FooterCache.for_table(location.table_url(dataset, table)) if footer_cache else None
        first = _Footer.load(fs, objects[0], cache)
        names = first.meta.schema.to_arrow_schema().names
        cols = resolve_columns(columns, names) if len(names) > WIDE else names
        # A mirror never drops columns (all its files must keep one schema).
        kept = set(cols) | set(st.mirrored_columns(dest, dataset, table) or ())
        cols = [c for c in names if c in kept]
        report.columns[name] = cols
        job = _TableJob(fs, dest, dataset, table, objects, cols, collections, cache, report)
        job.prepare(first)
        job.run(workers, progress)
        if cache is not None:
            cache.save()
        manifest = st.update_manifest(
            dest,
            location.url,
            dataset,
            table,
            {
                "columns": cols,
                "columns_spec": columns if isinstance(columns, str) else ",".join(columns or ()),
                "collections": sorted(collections) if collections else None,
                "files": len(objects),
                "rows": job.rows,
                "mirrored_at": st.now(),
                "source_schema": st.encode_schema(first.meta.schema.to_arrow_schema()),
            },
        )
        if manifest.get("latest"):
            st.link_current(dest, manifest["latest"])
    report.seconds = time.perf_counter() - started
    if report.failures:
        raise SourceError(
            f"{len(report.failures)} file(s) failed: {report.failures[0]}",
            hint="the other files are mirrored; rerun the same command to retry",
        )
    return report


@dataclass
class _Footer:
    raw: bytes
    meta: pq.FileMetaData
    fetched: bool
    summary: dict[str, Any]

    @classmethod
    def load(cls, fs: pafs.FileSystem, obj: ObjectInfo, cache: Any) -> _Footer:
        from idcbq.sources.footers import load_footer

        parsed = load_footer(fs, obj, cache)
        return cls(parsed.raw, parsed.meta, parsed.fetched, parsed.summary)

    @property
    def sha(self) -> str:
        return self.summary["footer_sha"]


class _TableJob:
    def __init__(self, fs, dest, dataset, table, objects, cols, collections, cache, report):
        self.fs, self.dest, self.dataset, self.table = fs, dest, dataset, table
        self.objects, self.cols, self.cache, self.report = objects, cols, cache, report
        self.collections = list(collections) if collections else None
        self.dir = dest / "bigquery_export" / dataset / table
        self.known = st.states_by_footer(dest, table)
        # Footer summaries of the copies, so the first query on the mirror prunes files.
        from idcbq.sources.footers import FooterCache

        self.local_cache = FooterCache.for_table(f"{dest}/bigquery_export/{dataset}/{table}")
        self.rows = 0
        self.names: list[str] = []
        self.schema_hash = ""
        self._leaves: dict[tuple[str, ...], list[int]] = {}

    def prepare(self, first: _Footer) -> None:
        """Facts shared by all files (every file must have the first file's schema)."""
        self.first = first
        self.names = first.meta.schema.to_arrow_schema().names
        self.schema_hash = first.summary["schema"]

    def leaves(self, cols: list[str]) -> list[int]:
        from idcbq.sources.mirror.ranges import leaf_indices

        key = tuple(cols)
        if key not in self._leaves:
            self._leaves[key] = leaf_indices(self.first.meta, cols)
        return self._leaves[key]

    def run(self, workers: int, progress: bool | None) -> None:
        from tqdm import tqdm

        from idcbq.sources.footers import release_memory

        self.dir.mkdir(parents=True, exist_ok=True)
        for stale in self.dir.glob(".*.tmp-*"):  # left by a killed run
            stale.unlink(missing_ok=True)
        listed = {o.name for o in self.objects}
        for old in self.dir.glob("*.parquet"):  # gone from the source
            if old.name not in listed:
                old.unlink()
                st.state_path(self.dest, self.dataset, self.table, old.name).unlink(missing_ok=True)
        show = sys.stderr.isatty() if progress is None else progress
        bar = tqdm(
            total=sum(o.size for o in self.objects),
            unit="B",
            unit_scale=True,
            desc=f"{self.dataset}.{self.table}",
            disable=not show,
            file=sys.stderr,
        )
        import pyarrow.fs as pafs

        self.local_fs = pafs.LocalFileSystem()
        with bar, ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            futures = {pool.submit(self.one, o): o for o in self.objects}
            for fut in as_completed(futures):
                obj = futures[fut]
                try:
                    kind, rows, chunk, kept, foot, disk = fut.result()
                except (SourceError, OSError) as exc:
                    self.report.failures.append(str(exc).splitlines()[0])
                    continue
                finally:
                    bar.update(obj.size)
                setattr(self.report, kind, getattr(self.report, kind) + 1)
                if self.report.files % 8 == 7:
                    release_memory()
                self.report.files += 1
                self.report.rows += rows
                self.rows += rows
                self.report.chunk_bytes += chunk
                self.report.kept_bytes += kept
                self.report.footer_bytes += foot
                self.report.disk_bytes += disk
        self.local_cache.save()

    def one(self, obj: ObjectInfo) -> tuple[str, int, int, int, int, int]:
        """Mirror one file: ``(kind, rows, fetched, kept chunk bytes, footer bytes, size)``."""
        out = self._one(obj)
        if out[0] in ("unchanged", "linked"):
            self._cache_local(self.dir / obj.name)
        return out

    def _cache_local(self, local: Path) -> int:
        """Rows of the copy ``local`` per its footer, which goes into the mirror's footer cache."""
        from idcbq.sources.footers import ObjectInfo, load_footer

        info = self.local_fs.get_file_info(str(local))
        mtime = info.mtime.timestamp() if info.mtime is not None else 0.0
        url = f"{self.dest}/bigquery_export/{self.dataset}/{self.table}/{local.name}"
        obj = ObjectInfo(url=url, path=str(local), size=int(info.size or 0), mtime=mtime)
        known = self.local_cache.summary(obj)
        if known is not None:
            return int(known["rows"])
        return int(load_footer(self.local_fs, obj, self.local_cache).summary["rows"])

    def _one(self, obj: ObjectInfo) -> tuple[str, int, int, int, int, int]:
        from idcbq.sources.footers import admits

        foot = _Footer.load(self.fs, obj, self.cache)
        foot_bytes = len(foot.raw) + 8 if foot.fetched else 0
        meta = foot.meta
        summary = foot.summary
        if summary["schema"] != self.schema_hash:
            raise SourceError(
                f"{obj.url}: columns differ from {self.objects[0].url}",
                hint="all Parquet files of one table must have the same columns and types",
            )
        if self.collections:
            groups = admits(summary, {"collection_id": self.collections})
        else:
            groups = list(range(meta.num_row_groups))
        in_groups = sum(meta.row_group(g).num_rows for g in groups)
        filtering = rows.needs_filter(self.names, self.collections)
        local = self.dir / obj.name
        spath = st.state_path(self.dest, self.dataset, self.table, obj.name)
        state = st.read_state(spath)
        want = set(self.cols)
        base = {
            "footer_sha": foot.sha,
            "row_groups": groups,
            # The rows kept of those groups (None: all of them).
            "collections": sorted(set(self.collections or ())) if filtering else None,
            "source": obj.url,
        }
        if state and _same(state, base) and _intact(local, state):
            have = set(state["columns"])
            if want <= have:
                return "unchanged", state["rows"], 0, 0, foot_bytes, local.stat().st_size
            new = [c for c in self.cols if c not in have]
            added, chunk = self._read_rows(obj, meta, groups, new, in_groups, filtering)
            kept = chunk_bytes(meta, groups, self.leaves(new))
            old = copies.read_local(local)
            if added.num_rows != old.num_rows:
                raise SourceError(
                    f"{obj.url}: {added.num_rows} rows for the new columns, the copy has "
                    f"{old.num_rows}",
                    hint="the source changed during the run; rerun the same command",
                )
            table = copies.combine(old, added, self.names)
            kind = "merged"
        else:
            twin = self.known.get(foot.sha)
            if (
                twin
                and twin[0] != local
                and twin[1].get("row_groups") == groups
                and twin[1].get("collections") == base["collections"]
                and want == set(twin[1]["columns"])
                and _intact(twin[0], twin[1])
            ):
                copies.link(twin[0], local)
                st.write_state(spath, {**twin[1], **base, "local_size": local.stat().st_size})
                return "linked", twin[1]["rows"], 0, 0, foot_bytes, local.stat().st_size
            table, chunk = self._read_rows(obj, meta, groups, self.cols, in_groups, filtering)
            kept = chunk_bytes(meta, groups, self.leaves(self.cols))
            kind = "fetched"
        expected = table.num_rows
        size = copies.write(table, local, meta, groups)
        try:
            written = self._cache_local(local)  # its footer, read back once
        except SourceError:
            written = -1
        if written != expected:
            local.unlink(missing_ok=True)
            raise SourceError(f"{local}: wrote {written} rows, expected {expected}")
        present = set(table.column_names)
        columns = [c for c in self.names if c in present]
        st.write_state(spath, {**base, "columns": columns, "rows": expected, "local_size": size})
        return kind, expected, chunk, kept, foot_bytes, size

    def _read_rows(
        self,
        obj: ObjectInfo,
        meta: Any,
        groups: list[int],
        cols: list[str],
        in_groups: int,
        filtering: bool,
    ) -> tuple[pa.Table, int]:
        """``cols`` of the rows to keep (checked against the footer), and the bytes fetched.

        Every row of the chosen row groups is read and counted against the source
        footer; with ``--collections`` only the rows of those collections are kept.
        """
        table, chunk = self._read(
            obj, meta, groups, rows.read_columns_for(cols, self.names, filtering)
        )
        if table.num_rows != in_groups:
            raise SourceError(
                f"{obj.url}: read {table.num_rows} rows, the footer says {in_groups}",
                hint="the source file is inconsistent; re-export it or retry later",
            )
        if filtering:
            table = rows.keep(table, self.collections or (), cols)
        return table, chunk

    def _read(
        self, obj: ObjectInfo, meta: Any, groups: list[int], cols: list[str]
    ) -> tuple[pa.Table, int]:
        """The chosen row groups and columns of one source file, and the bytes fetched."""
        from idcbq.sources.mirror.ranges import read_columns

        if not groups:
            return self.first.meta.schema.to_arrow_schema().empty_table().select(cols), 0
        try:
            return read_columns(self.fs, obj.path, obj.size, meta, groups, self.leaves(cols))
        except SourceError:
            raise
        except Exception as exc:  # pyarrow.ArrowException / OSError: corrupt or short file
            raise SourceError(
                f"{obj.url}: cannot read column chunks ({str(exc).splitlines()[0]})",
                hint="the source file is truncated or corrupt",
            ) from exc


def _same(state: dict[str, Any], base: dict[str, Any]) -> bool:
    return all(state.get(k) == v for k, v in base.items() if k != "source")


def _intact(local: Path, state: dict[str, Any]) -> bool:
    try:
        return local.stat().st_size == state.get("local_size")
    except OSError:
        return False


def chunk_bytes(meta: Any, groups: list[int], leaves: list[int]) -> int:
    """Compressed size of the chunks of the given leaf columns in ``groups``."""
    return sum(meta.row_group(g).column(i).total_compressed_size for g in groups for i in leaves)
