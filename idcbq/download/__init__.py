"""Download the files of a manifest: parallel, verified, atomic, resumable.

Example:
    >>> from idcbq.download import download  # doctest: +SKIP
    >>> report = download("cohort.parquet", "data/", workers=32)  # doctest: +SKIP
    >>> report.ok, report.downloaded, report.skipped  # doctest: +SKIP
    (True, 1280, 0)
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import shutil
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from idcbq.core.aio import run_sync
from idcbq.download.item import Item
from idcbq.download.layout import DEFAULT_TEMPLATE
from idcbq.download.lock import LOCK_NAME, DestLock
from idcbq.download.plan import GcsLister, Plan, S3Lister, make_plan
from idcbq.download.remote_manifest import local_manifest
from idcbq.download.report import DownloadReport, DryRun, Progress
from idcbq.download.shard import Shard
from idcbq.download.state import STATE_NAME, DownloadState, state_name
from idcbq.download.statedir import check_state_place, state_folder
from idcbq.download.transfer import (
    DEFAULT_MIN_RATE,
    DEFAULT_TIMEOUT,
    TEMP_SUFFIX,
    Dirs,
    HostUnreachableError,
    LocalWriteError,
    Outcome,
    Transfer,
    file_md5,
)
from idcbq.download.transport import check_endpoint, make_transport
from idcbq.errors import AuthError, DownloadError, LocalFileError
from idcbq.io.localfs import check_dest_dir, make_dir, remove_empty_dirs
from idcbq.manifest.model import AWS_ENDPOINT, GCS_ENDPOINT, check_provider

__all__ = [
    "DEFAULT_TEMPLATE",
    "LOCK_NAME",
    "STATE_NAME",
    "DownloadReport",
    "DryRun",
    "download",
    "plan_download",
]
log = logging.getLogger("idcbq.download")
#: aiohttp read buffer: larger means fewer callbacks per ~0.5 MB DICOM file.
READ_BUFSIZE = 1 << 20


def default_endpoint(provider: str) -> str:
    return GCS_ENDPOINT if provider == "gcs" else AWS_ENDPOINT


def free_bytes(path: Path) -> int:
    probe = path
    while not probe.exists():
        probe = probe.parent
    return shutil.disk_usage(probe).free


def _auth(
    project: str | None, anonymous: bool, provider: str
) -> tuple[Callable[[], dict[str, str]] | None, Any]:
    """Anonymous by default; with a project, Google application-default credentials."""
    if anonymous or project is None or provider != "gcs":
        return None, None
    try:
        import google.auth
        import google.auth.transport.requests

        creds, _ = google.auth.default(
            scopes=["https://www.googleapis.com/auth/devstorage.read_only"],
            quota_project_id=project,
        )
    except Exception as exc:
        raise AuthError(f"no Google credentials for project {project}: {exc}",
                        hint="run `gcloud auth application-default login`, or drop --project for anonymous access") from exc  # fmt: skip

    def headers() -> dict[str, str]:
        if not creds.valid:
            creds.refresh(google.auth.transport.requests.Request())
        return {"Authorization": f"Bearer {creds.token}", "x-goog-user-project": project}

    return headers, creds


def plan_download(source: Any, dest: str | os.PathLike[str], *, provider: str | None = None,
                  endpoint: str | None = None, template: str | None = None, engine: Any = None,
                  project: str | None = None, anonymous: bool = True,
                  allow_buckets: Iterable[str] = (), list_timeout: float = 60.0,
                  estimate_series: bool = False, shard: Shard | None = None) -> Plan:  # fmt: skip
    """Plan only (also what ``--dry-run`` shows); listing a series prefix gives up after ``list_timeout`` s.

    With ``estimate_series``, series rows that carry their own sizes (idc-index's
    ``instanceCount``, ``series_size_MB``) are counted from them, not listed (offline).
    With ``shard``, only that shard's series are planned. ``source`` may be a
    ``gs://`` or ``s3://`` URL (see :mod:`idcbq.download.remote_manifest`).
    """
    if provider:
        check_provider(provider)
    if endpoint is not None:
        check_endpoint(endpoint)
    dest = Path(dest)
    listers: dict[str, Any] = {}

    def lister(kind: str, bucket: str, prefix: str) -> Any:
        # Made on first use: only series-level lines need listing.
        if kind not in listers:
            ep = endpoint or default_endpoint(kind)
            if kind == "gcs":
                _, creds = _auth(project, anonymous, kind)
                listers[kind] = GcsLister(ep, creds, project, deadline=list_timeout)
            else:
                listers[kind] = S3Lister(ep, deadline=list_timeout)
        return listers[kind](bucket, prefix)

    with local_manifest(source) as local:
        plan = make_plan(local, dest, provider=provider, template=template, engine=engine,
                         lister=lister, allow_buckets=allow_buckets,
                         estimate_series=estimate_series, shard=shard)  # fmt: skip
    if local is not source:
        plan.source["path"] = source
    return plan


def download(
    source: Any,
    dest: str | os.PathLike[str],
    *,
    workers: int = 64,
    template: str | None = None,
    provider: str | None = None,
    endpoint: str | None = None,
    anonymous: bool = True,
    project: str | None = None,
    quiet: bool = False,
    dry_run: bool = False,
    engine: Any = None,
    attempts: int = 5,
    backoff: float = 0.2,
    timeout: float = DEFAULT_TIMEOUT,
    min_rate: float = DEFAULT_MIN_RATE,
    fsync: bool = True,
    io_threads: int | None = None,
    allow_buckets: Iterable[str] = (),
    shard: Shard | None = None,
    state_dir: str | os.PathLike[str] | None = None,
) -> DownloadReport | DryRun:
    """Fetch every file of a manifest (path, QueryResult or Arrow table) into ``dest``.

    Each attempt at a file may take ``timeout + size / min_rate`` seconds at most, and
    ``timeout`` seconds without a byte end it early; a file that stalls every attempt
    is reported failed. A manifest that lists no files is a successful no-op that
    writes nothing. Raises :class:`~idcbq.errors.LocalFileError` (exit 8) when ``dest``
    cannot be used and :class:`~idcbq.errors.DestinationLockedError` (exit 7) when
    another download is using it; a run that stops part-way (disk full, endpoint
    unreachable) says why in ``report.aborted``.

    With ``shard``, only the series of that shard are fetched; shards of one split may
    share ``dest`` (each has its own lock and resume state). ``state_dir`` keeps the lock
    and resume state on a local disk when ``dest`` is a network or FUSE mount (see
    :mod:`idcbq.download.statedir`).
    """
    dest = Path(dest).expanduser()
    if endpoint is not None:
        check_endpoint(endpoint)
    check_dest_dir(dest)
    holder = Path(state_dir).expanduser() if state_dir is not None else None
    check_state_place(dest, holder)
    plan = plan_download(source, dest, provider=provider, endpoint=endpoint, template=template,
                         engine=engine, project=project, anonymous=anonymous,
                         allow_buckets=allow_buckets, list_timeout=max(timeout, 10.0),
                         estimate_series=dry_run, shard=shard)  # fmt: skip
    shard_info = shard.as_dict() if shard else None
    if dry_run:
        return DryRun(plan, str(dest), free_bytes(dest), shard=shard_info)
    endpoint = endpoint or default_endpoint(plan.provider)
    auth, _ = _auth(project, anonymous, plan.provider)
    transport = make_transport(plan.provider, endpoint, auth)
    report = DownloadReport(str(dest), planned=len(plan.items) + len(plan.problems),
                            bytes_planned=plan.total_bytes, shard=shard_info)  # fmt: skip
    report.failed += [(url, "", why) for url, why in plan.problems]
    if not plan.items:
        empty = (
            "no series of the manifest falls to this shard"
            if shard
            else "the manifest lists no files"
        )
        report.note = empty if not plan.problems else None
        return report  # nothing to fetch: nothing is created
    started = time.monotonic()
    created = make_dir(dest)  # LocalFileError (exit 8) if it cannot exist
    folder = state_folder(dest, holder)
    try:
        if holder is not None:
            make_dir(folder)
        lock = DestLock(dest, shard, lock_dir=folder).acquire()
    except BaseException:
        if shard is None:
            remove_empty_dirs(created)
        raise
    # A shard never removes folders: another shard may be about to write into them.
    shared = shard is not None
    writable = os.access(dest, os.W_OK)
    db_name = state_name(shard.file_tag if shard else None)
    dirs = Dirs(dest)
    todo: list[Item] = []
    state: DownloadState | None = None
    executor: ThreadPoolExecutor | None = None
    try:
        state = DownloadState(folder, writable=writable or holder is not None, name=db_name)
        # Hashing, writes and fsync run here; fsync blocks a thread, so keep plenty.
        executor = ThreadPoolExecutor(
            max_workers=io_threads or max(8, min(64, workers)), thread_name_prefix="idcbq-io"
        )
        todo = prepare_items(plan.items, dest, state, executor, report, own_temps_only=shared)
        if todo and not writable:
            raise LocalFileError(
                f"cannot write into {dest}: read-only or permission denied "
                f"({len(todo)} of {len(plan.items)} files still to fetch)",
                hint="make it writable or choose another --dest",
            )
        if todo and not quiet and report.skipped:
            log.info(
                "%d files already present and verified; %d to download", report.skipped, len(todo)
            )
        transfer = Transfer(dest, transport=transport, attempts=attempts, backoff=backoff,
                            timeout=timeout, min_rate=min_rate, fsync=fsync, executor=executor,
                            dirs=dirs)  # fmt: skip
        progress = Progress(len(todo), sum(i.size or 0 for i in todo), quiet)
        try:
            run_sync(_run(todo, transfer, workers, state, report, progress, timeout))
        finally:
            progress.close()
            for tmp in list(transfer.inflight):  # interrupted mid-file: no temp left behind
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
    finally:
        if executor is not None:
            executor.shutdown(wait=True)  # a store already in a thread finishes (verified) first
        if state is not None:
            try:
                state.close()
            except LocalWriteError as exc:
                # Every file that landed is verified; the lost records only cost a rehash.
                report.note = f"warning: resume database not updated ({exc.strerror}); the next run re-hashes these files"
        if not shared:
            dirs.remove_empty()
        if report.downloaded == 0 and report.skipped == 0 and created:
            # Nothing landed in a destination this run made: leave no trace of it.
            for name in (db_name, f"{db_name}-wal", f"{db_name}-shm"):
                with contextlib.suppress(OSError):
                    os.unlink(folder / name)
            lock.release(remove=True)
            if not shared:
                remove_empty_dirs(created)
        else:
            lock.release()
        report.elapsed_s = time.monotonic() - started
    if report.aborted:
        done = {f[1] for f in report.failed}
        for item in todo:
            if item.rel not in done and not (dest / item.rel).exists():
                report.failed.append((item.url, item.rel, f"not downloaded: {report.aborted}"))
    return report


def prepare_items(items: list[Item], dest: Path, state: DownloadState, executor: ThreadPoolExecutor,
             report: DownloadReport, *, own_temps_only: bool = False) -> list[Item]:  # fmt: skip
    """Drop stale temp files, refuse links out of ``dest``, and skip files already verified.

    Folders are not made here: a file's folder is made when the file lands. With
    ``own_temps_only`` (a shard sharing ``dest``), only temp files of these items are
    dropped: another shard may be writing the others right now.
    """
    dest_real = os.path.realpath(dest)
    mine = (
        {(os.path.dirname(i.rel), os.path.basename(i.rel)) for i in items}
        if own_temps_only
        else None
    )
    existing: set[str] = set()  # folders that exist: files in them may be there already
    for rel_dir in sorted({os.path.dirname(i.rel) for i in items}):
        directory = dest / rel_dir if rel_dir else dest
        try:
            entries = list(os.scandir(directory))
        except (FileNotFoundError, NotADirectoryError):
            continue
        real = os.path.realpath(directory)
        if os.path.commonpath([dest_real, real]) != dest_real:
            raise DownloadError(
                f"refusing to write through a link outside the destination: {directory}"
            )
        existing.add(rel_dir)
        for entry in entries:
            if entry.name.startswith(".") and entry.name.endswith(TEMP_SUFFIX):
                # Left by a killed run (the destination lock says no run is active).
                target = entry.name[1 : -len(TEMP_SUFFIX)].rsplit(".", 1)[0]  # .NAME.RANDOM.part
                if mine is not None and (rel_dir, target) not in mine:
                    continue
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)
    known = state.lookup_many([i.rel for i in items])
    todo: list[Item] = []
    to_hash: list[tuple[Item, os.stat_result]] = []
    for item in items:
        if os.path.dirname(item.rel) not in existing:
            todo.append(item)
            continue
        try:
            st = os.stat(dest / item.rel)
        except FileNotFoundError:
            todo.append(item)
            continue
        if item.size is not None and st.st_size != item.size:
            todo.append(item)
            continue
        rec = known.get(item.rel)
        if (
            rec
            and rec[0] == st.st_size
            and rec[2] == st.st_mtime_ns
            and rec[1]
            and (not item.md5 or rec[1] == item.md5)
        ):
            report.skipped += 1
        elif item.md5:
            to_hash.append((item, st))
        else:
            todo.append(item)  # nothing to check the file against: fetch it again
    if to_hash:
        digests = executor.map(lambda pair: file_md5(dest / pair[0].rel), to_hash)
        for (item, st), md5 in zip(to_hash, digests, strict=True):
            if md5 == item.md5:
                state.record(item.rel, item.url, st.st_size, md5, st.st_mtime_ns)
                report.skipped += 1
            else:
                todo.append(item)
    state.commit()
    return todo


async def _run(items: list[Item], transfer: Transfer, workers: int, state: DownloadState,
               report: DownloadReport, progress: Progress, timeout: float) -> None:  # fmt: skip
    import aiohttp

    queue = iter(items)
    connector = aiohttp.TCPConnector(limit=workers, limit_per_host=workers, ttl_dns_cache=300)
    # Per read and per connect: no byte for `timeout` seconds ends the attempt (the per-attempt
    # deadline in Transfer bounds the whole body).
    client_timeout = aiohttp.ClientTimeout(total=None, sock_connect=timeout, sock_read=timeout)

    def done(outcome: Outcome) -> None:
        item = outcome.item
        report.retries += max(0, outcome.attempts - 1)
        if outcome.ok:
            state.record(item.rel, item.url, outcome.nbytes, outcome.md5, outcome.mtime_ns)
            report.downloaded += 1
            report.bytes_downloaded += outcome.nbytes
            progress.update(outcome.nbytes)
        else:
            report.failed.append((item.url, item.rel, outcome.error or "failed"))
            progress.update(0)

    async def worker(session: aiohttp.ClientSession) -> None:
        for item in queue:
            done(await transfer.fetch(session, item))

    async with aiohttp.ClientSession(
        connector=connector,
        timeout=client_timeout,
        auto_decompress=False,
        read_bufsize=READ_BUFSIZE,
    ) as session:
        tasks = [asyncio.create_task(worker(session)) for _ in range(max(1, workers))]
        try:
            await asyncio.gather(*tasks)
        except (LocalWriteError, HostUnreachableError) as exc:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if isinstance(exc, LocalWriteError):
                what = "disk full" if exc.errno in (errno.ENOSPC, errno.EDQUOT) else "cannot write"
                report.aborted = f"{what}: {exc.strerror}"
                report.abort_kind = "local"
            else:
                report.aborted = str(exc)
                report.abort_kind = "unreachable"
        except BaseException:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise


def raise_for(report: DownloadReport) -> None:
    """Raise unless every file is present and verified: LocalFileError (8) or DownloadError (5)."""
    if report.ok:
        return
    if report.abort_kind == "local":
        raise LocalFileError(f"download into {report.dest} stopped: {report.aborted}",
                             hint="free some space or make the destination writable, then re-run the same command")  # fmt: skip
    raise DownloadError(report.summary())
