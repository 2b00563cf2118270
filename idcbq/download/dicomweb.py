"""DICOMweb as a download path: instances retrieved by WADO-RS with ``dicomweb-client``.

``idcbq download MANIFEST --transport dicomweb [--dicomweb-url URL]`` fetches every
instance of a manifest from a DICOMweb server (IDC's public proxy by default, Google
Healthcare's IDC store, or any server such as Orthanc) with the guarantees of the
bucket path:

- **verified**: each instance is requested as stored (``transfer-syntax=*``). When the
  manifest states the stored instance's size and MD5 (``instance_size`` /
  ``instance_hash`` from ``dicom_all``), the bytes must match both. DICOMweb servers
  state no digest of their own, so where the manifest has none (idc-index series rows,
  expanded here by a QIDO-RS search) the file is parsed and its Study/Series/SOP
  Instance UIDs must be the requested ones. The report counts each kind plainly.
- **atomic**: written to a dot-named temp file in the final folder, fsynced, renamed.
- **resumable**: the same resume state as bucket downloads (``.idcbq-download.sqlite``);
  verified files are skipped on the next run, stale temp files removed.
- **parallel**: a pool of worker threads sharing one HTTP connection pool.

Only the fetch differs from the bucket path: planning reads the same manifests and
layouts, and the resume state and report are shared.

Example:
    >>> report = download_dicomweb("ct.parquet", "data/", dicomweb_url=url)  # doctest: +SKIP
    >>> report.verified_md5, report.verified_uid  # doctest: +SKIP
    (120, 0)
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import os
import secrets
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from idcbq.download.layout import (
    DEFAULT_TEMPLATE,
    DirTemplate,
    contained,
    make_dirs_within,
    sanitize_component,
)
from idcbq.download.report import DownloadReport, Progress
from idcbq.download.transfer import TEMP_SUFFIX, SizedItems
from idcbq.errors import AuthError, DownloadError, ManifestError
from idcbq.manifest.dicomweb_urls import default_dicomweb_url, healthcare_gap, is_healthcare

log = logging.getLogger("idcbq.download")

#: Ask for the instance as stored: no transcoding, so its bytes can match IDC's MD5.
ACCEPT_AS_STORED = 'multipart/related; type="application/dicom"; transfer-syntax=*'


@dataclass(slots=True)
class WadoItem:
    """One instance to retrieve: its UIDs, where it goes, what to check it against."""

    base: str
    study: str
    series: str
    sop: str
    rel: str
    size: int | None = None
    md5: str | None = None

    @property
    def url(self) -> str:
        return f"{self.base}/studies/{self.study}/series/{self.series}/instances/{self.sop}"


@dataclass
class DicomwebPlan(SizedItems):
    """Instances to retrieve, with final paths; problems and notes found while planning."""

    items: list[WadoItem]
    base: str
    template: str
    provider: str = "dicomweb"
    sample_rows: list[dict[str, Any]] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class DicomwebReport(DownloadReport):
    """A download report plus how each file was verified and what the plan noted."""

    verified_md5: int = 0
    verified_uid: int = 0
    notes: list[str] = field(default_factory=list)

    def summary(self, max_failures: int = 20) -> str:
        lines = [super().summary(max_failures)]
        lines.append(
            f"verification (DICOMweb): {self.verified_md5} by size+MD5 of the stored instance, "
            f"{self.verified_uid} by parse + UID check (no size/MD5 known for them)"
        )
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        out = super().as_dict()
        out.update(transport="dicomweb", verified_md5=self.verified_md5,
                   verified_uid=self.verified_uid, notes=self.notes)  # fmt: skip
        return out


# -- client -------------------------------------------------------------------------


def check_base(url: str) -> str:
    """``url`` if it is an ``http(s)://host[:port]/path`` DICOMweb base, else a UsageError."""
    from urllib.parse import urlsplit

    from idcbq.errors import UsageError

    try:
        parts = urlsplit(url)
        ok = parts.scheme in ("http", "https") and bool(parts.hostname) and parts.port != 0
    except ValueError:
        ok = False
    if not ok or "?" in url or "#" in url:
        raise UsageError(
            f"--dicomweb-url {url!r} is not an http(s) DICOMweb base URL",
            hint="e.g. https://proxy.imaging.datacommons.cancer.gov/current/.../dicomWeb "
            "or http://127.0.0.1:8042/dicom-web",
        )
    return url


def make_client(base: str, *, workers: int = 8, timeout: float = 120.0) -> Any:
    """A ``dicomweb_client.DICOMwebClient`` for ``base`` with a pool of ``workers`` connections.

    Google Healthcare stores need Google credentials (application-default); other
    servers (IDC's proxy, Orthanc) are used anonymously.
    """
    import requests
    from dicomweb_client import DICOMwebClient

    if is_healthcare(base):
        try:
            from dicomweb_client.session_utils import create_session_from_gcp_credentials

            session = create_session_from_gcp_credentials()
        except Exception as exc:
            raise AuthError(
                f"no Google credentials for the Healthcare DICOMweb store: {exc}",
                hint="run `gcloud auth application-default login`, or use IDC's public proxy",
            ) from exc
    else:
        session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=max(4, workers))
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    client = DICOMwebClient(base, session=session, timeout=timeout)
    # Retries (5xx, 429, resets, bad bodies) are counted and backed off by the caller.
    client.set_http_retry_params(retry=False)
    return client


def retrieve_stored(client: Any, item: WadoItem) -> bytes:
    """The bytes of one instance as the server stores it (WADO-RS, one multipart part)."""
    # dicomweb-client's public retrieve_instance() returns a parsed pydicom Dataset;
    # verifying the stored bytes needs the raw part, so this uses its GET (retries,
    # session, auth) and multipart decoder directly.
    # identity: gzip of DICOM costs the server more than it saves on the wire (Orthanc:
    # 53 ms vs 2 ms per 0.5 MB CT instance on loopback).
    headers = {"Accept": ACCEPT_AS_STORED, "Accept-Encoding": "identity"}
    response = client._http_get(item.url, headers=headers)
    if response.headers.get("Content-Type", "").lower().startswith("application/dicom"):
        return response.content  # a server that sends the part unwrapped
    parts = list(client._decode_multipart_message(response, stream=False))
    if len(parts) != 1:
        raise ValueError(f"expected one DICOM part, got {len(parts)}")
    return bytes(parts[0])


def series_instances(client: Any, study: str, series: str, attempts: int = 3) -> list[str]:
    """SOPInstanceUIDs of one series (QIDO-RS search), sorted."""
    for attempt in range(1, attempts + 1):
        try:
            found = client.search_for_instances(
                study_instance_uid=study, series_instance_uid=series, fields=["SOPInstanceUID"],
                get_remaining=True,
            )  # fmt: skip
            break
        except Exception as exc:
            status = getattr(getattr(exc, "response", None), "status_code", None)
            if attempt == attempts or (status is not None and status < 500 and status != 429):
                raise
            time.sleep(min(2.0, 0.1 * 2**attempt))
    uids = []
    for obj in found:
        value = (obj.get("00080018") or {}).get("Value") or []
        if value:
            uids.append(str(value[0]))
    return sorted(set(uids))


# -- planning -----------------------------------------------------------------------


def plan_dicomweb(source: Any, dest: Path, *, base: str, template: str | None = None,
                  engine: Any = None, client: Any = None) -> DicomwebPlan:  # fmt: skip
    """Manifest rows -> instances to retrieve (series rows expanded by QIDO-RS) -> paths."""
    from idcbq.download.plan import open_source

    meta, schema, batches, _ = open_source(source, "gcs", engine)
    if meta.get("format") in ("s5cmd", "urls"):
        raise ManifestError(
            f"{meta.get('path')}: a {meta['format']} list has no DICOM UIDs to retrieve by DICOMweb",
            hint="use a Parquet/JSON Lines/CSV manifest or a query results file",
        )
    need = {"StudyInstanceUID", "SeriesInstanceUID"}
    if not need <= set(schema.names):
        raise ManifestError(
            "DICOMweb needs StudyInstanceUID and SeriesInstanceUID in the manifest",
            hint="select them in the query (or write the manifest with idcbq manifest)",
        )
    text = template or DEFAULT_TEMPLATE
    tmpl = DirTemplate.parse(text, [n for n in schema.names if n != "url"])
    plan = DicomwebPlan([], base, text)
    seen: set[str] = set()
    buckets: list[str | None] = []
    for batch in batches:
        for row in batch.to_pylist():
            buckets.append(row.get("gcs_bucket"))
            for inst in _instances(row, client, plan):
                name = sanitize_component(
                    f"{inst['crdc_instance_uuid']}.dcm"
                    if inst.get("crdc_instance_uuid")
                    else f"{inst['SOPInstanceUID']}.dcm"
                )
                rel_dir = tmpl.render(inst)
                rel = f"{rel_dir}/{name}" if rel_dir else name
                contained(dest, rel)
                if rel in seen:
                    continue
                seen.add(rel)
                md5 = inst.get("md5")
                item = WadoItem(base, inst["StudyInstanceUID"], inst["SeriesInstanceUID"],
                                inst["SOPInstanceUID"], rel, inst.get("size"),
                                md5.lower() if md5 else None)  # fmt: skip
                plan.items.append(item)
                if len(plan.sample_rows) < 5:
                    plan.sample_rows.append({"url": item.url, "path": rel})
    gap = healthcare_gap(base, buckets)
    if gap:
        plan.notes.append(gap)
        log.warning("%s", gap)
    return plan


def _instances(row: dict[str, Any], client: Any, plan: DicomwebPlan) -> Iterator[dict[str, Any]]:
    study, series = row.get("StudyInstanceUID"), row.get("SeriesInstanceUID")
    if not study or not series:
        plan.problems.append((str(row.get("url")), "no StudyInstanceUID/SeriesInstanceUID"))
        return
    if row.get("SOPInstanceUID"):
        yield row
        return
    if client is None:
        raise DownloadError("series-level manifest rows need a DICOMweb search, but no client")
    try:
        sops = series_instances(client, study, series)
    except Exception as exc:  # HTTP or connection error from the search
        plan.problems.append(
            (f"{plan.base}/studies/{study}/series/{series}", f"search failed: {exc}")
        )
        return
    if not sops:
        plan.problems.append(
            (f"{plan.base}/studies/{study}/series/{series}", "no instances on the server")
        )
    for sop in sops:
        yield {**row, "SOPInstanceUID": sop, "crdc_instance_uuid": None, "size": None, "md5": None}


# -- fetching -----------------------------------------------------------------------


@dataclass(slots=True)
class _Done:
    item: WadoItem
    ok: bool
    nbytes: int = 0
    md5: str | None = None
    mtime_ns: int = 0
    how: str = ""
    error: str | None = None
    attempts: int = 1


def _check(item: WadoItem, data: bytes) -> tuple[str | None, str]:
    """(problem or None, how verified) for the retrieved bytes of one instance."""
    md5 = hashlib.md5(data, usedforsecurity=False).hexdigest()
    if item.size is not None and len(data) != item.size:
        return f"size {len(data)} != expected {item.size}", ""
    if item.md5:
        if md5 != item.md5:
            return f"MD5 {md5} != expected {item.md5} (not the stored instance)", ""
        return None, "md5"
    import pydicom

    try:
        ds = pydicom.dcmread(io.BytesIO(data), stop_before_pixels=True)
    except Exception as exc:
        return f"not a readable DICOM file: {exc}", ""
    got = (str(ds.get("StudyInstanceUID", "")), str(ds.get("SeriesInstanceUID", "")),
           str(ds.get("SOPInstanceUID", "")))  # fmt: skip
    want = (item.study, item.series, item.sop)
    if got != want:
        return f"UIDs in the file {got} are not the requested {want}", ""
    return None, "uid"


def _fetch(client: Any, dest: Path, item: WadoItem, attempts: int, fsync: bool,
           inflight: set[str], lock: threading.Lock) -> _Done:  # fmt: skip
    last = "failed"
    for attempt in range(1, attempts + 1):
        try:
            data = retrieve_stored(client, item)
        except Exception as exc:  # HTTP status (after the client's retries), connection, parse
            status = getattr(getattr(exc, "response", None), "status_code", None)
            last = f"HTTP {status}" if status else f"{type(exc).__name__}: {exc}"
            if status is not None and status < 500 and status != 429:
                return _Done(item, False, error=last, attempts=attempt)
            time.sleep(min(2.0, 0.1 * 2**attempt))
            continue
        problem, how = _check(item, data)
        if problem:  # a truncated or wrong body: try again, then give up
            last = problem
            continue
        final = dest / item.rel
        rel_dir = os.path.dirname(item.rel)
        if rel_dir and not final.parent.is_dir():  # made on first use, inside dest only
            make_dirs_within(os.path.realpath(dest), dest, rel_dir)
        tmp = final.parent / f".{final.name}.{secrets.token_hex(4)}{TEMP_SUFFIX}"
        with lock:
            inflight.add(str(tmp))
        try:
            with open(tmp, "xb") as fh:
                fh.write(data)
                fh.flush()
                if fsync:
                    os.fsync(fh.fileno())
            os.replace(tmp, final)  # the final name only ever holds verified bytes
        except OSError as exc:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            return _Done(item, False, error=f"write failed: {exc.strerror}", attempts=attempt)
        finally:
            with lock:
                inflight.discard(str(tmp))
        md5 = hashlib.md5(data, usedforsecurity=False).hexdigest()
        return _Done(item, True, len(data), md5, os.stat(final).st_mtime_ns, how, None, attempt)
    return _Done(item, False, error=last, attempts=attempts)


def download_dicomweb(
    source: Any,
    dest: str | os.PathLike[str],
    *,
    dicomweb_url: str | None = None,
    workers: int = 8,
    template: str | None = None,
    engine: Any = None,
    quiet: bool = False,
    dry_run: bool = False,
    attempts: int = 5,
    timeout: float = 120.0,
    fsync: bool = True,
) -> DicomwebReport | Any:
    """Retrieve every instance of a manifest by WADO-RS into ``dest`` (see module docs)."""
    from idcbq.download import DryRun, free_bytes, prepare_items
    from idcbq.download.state import DownloadState

    base = check_base((dicomweb_url or default_dicomweb_url()).rstrip("/"))
    dest = Path(dest).expanduser()
    client = make_client(base, workers=workers, timeout=timeout)
    plan = plan_dicomweb(source, dest, base=base, template=template, engine=engine, client=client)
    if dry_run:
        return DryRun(plan, str(dest), free_bytes(dest))  # type: ignore[arg-type]
    dest.mkdir(parents=True, exist_ok=True)
    from idcbq.download.lock import DestLock

    dest_lock = DestLock(dest).acquire()  # one download per destination (exit 7 otherwise)
    report = DicomwebReport(str(dest), planned=len(plan.items) + len(plan.problems),
                            bytes_planned=plan.total_bytes, notes=list(plan.notes))  # fmt: skip
    report.failed += [(url, "", why) for url, why in plan.problems]
    started = time.monotonic()
    try:
        state = DownloadState(dest)
    except BaseException:
        dest_lock.release()
        raise
    inflight: set[str] = set()
    lock = threading.Lock()
    pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="idcbq-wado")
    try:
        todo = prepare_items(plan.items, dest, state, pool, report)  # type: ignore[arg-type]
        progress = Progress(len(todo), sum(i.size or 0 for i in todo) or None, quiet)
        try:
            _run(todo, client, dest, pool, workers, attempts, fsync, inflight, lock, state,
                 report, progress)  # fmt: skip
        finally:
            progress.close()
            for tmp in list(inflight):  # interrupted mid-file: no temp left behind
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        state.close()
        dest_lock.release()
        report.elapsed_s = time.monotonic() - started
    return report


def _run(todo: list[WadoItem], client: Any, dest: Path, pool: ThreadPoolExecutor, workers: int,
         attempts: int, fsync: bool, inflight: set[str], lock: threading.Lock, state: Any,
         report: DicomwebReport, progress: Progress) -> None:  # fmt: skip
    """Keep ``workers`` fetches in flight; record each verified file in the resume state."""
    queue: Iterable[WadoItem] = iter(todo)
    running: set[Future[_Done]] = set()

    def submit() -> bool:
        item = next(queue, None)  # type: ignore[call-overload]
        if item is None:
            return False
        running.add(pool.submit(_fetch, client, dest, item, attempts, fsync, inflight, lock))
        return True

    for _ in range(max(1, workers)):
        if not submit():
            break
    while running:
        finished, _ = wait(running, return_when=FIRST_COMPLETED)
        for fut in finished:
            running.discard(fut)
            done = fut.result()
            report.retries += max(0, done.attempts - 1)
            if done.ok:
                state.record(done.item.rel, done.item.url, done.nbytes, done.md5, done.mtime_ns)
                report.downloaded += 1
                report.bytes_downloaded += done.nbytes
                if done.how == "md5":
                    report.verified_md5 += 1
                else:
                    report.verified_uid += 1
                progress.update(done.nbytes)
            else:
                report.failed.append((done.item.url, done.item.rel, done.error or "failed"))
                progress.update(0)
            submit()
