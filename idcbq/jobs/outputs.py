"""Where a run's files go beyond its folder: downloads and ``gs://`` destinations.

A ``gs://bucket/prefix`` destination mirrors the local layout::

    gs://bucket/prefix/runs/<run id>/...   uploaded file by file
    gs://bucket/prefix/latest.json         written last, only after every file is up
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from idcbq.errors import DownloadError, IdcbqError
from idcbq.io.localfs import publish
from idcbq.jobs.runs import LATEST, RUN_RECORD, RunDir, write_json_atomic

if TYPE_CHECKING:
    import pyarrow as pa

    from idcbq.jobs.spec import JobSpec

#: Files of a previous run that a new run needs locally (to diff against it).
_DIFF_INPUTS = (RUN_RECORD, "series.parquet")


class UploadError(IdcbqError):
    """Uploading a run's outputs to GCS (or reading its previous run there) failed."""

    exit_code = 1


def split_gs_url(url: str) -> tuple[str, str]:
    """``gs://bucket/some/prefix`` -> ``("bucket", "some/prefix")``.

    Example:
        >>> split_gs_url("gs://my-bucket/jobs/nlst/")
        ('my-bucket', 'jobs/nlst')
    """
    rest = url.removeprefix("gs://")
    bucket, _, prefix = rest.partition("/")
    if not bucket:
        raise UploadError(f"{url!r} names no bucket")
    return bucket, prefix.strip("/")


def storage_client(endpoint: str | None = None, project: str | None = None) -> Any:
    """A google-cloud-storage client; anonymous against a local endpoint (tests, sandboxes)."""
    from google.cloud import storage

    endpoint = endpoint or os.environ.get("STORAGE_EMULATOR_HOST")
    if endpoint:
        from google.auth.credentials import AnonymousCredentials

        return storage.Client(
            project=project or "idcbq-local",
            credentials=AnonymousCredentials(),
            client_options={"api_endpoint": endpoint},
        )
    return storage.Client(project=project)


def upload_run(run: RunDir, destination: str, *, endpoint: str | None = None) -> list[str]:
    """Upload a run folder to ``gs://bucket/prefix/runs/<id>/``, then ``latest.json`` last."""
    from google.api_core import exceptions as gexc

    bucket_name, prefix = split_gs_url(destination)
    bucket = storage_client(endpoint).bucket(bucket_name)
    base = f"{prefix}/" if prefix else ""
    uploaded = []
    try:
        for path in sorted(p for p in run.path.rglob("*") if p.is_file()):
            name = f"{base}runs/{run.run_id}/{path.relative_to(run.path).as_posix()}"
            bucket.blob(name).upload_from_filename(str(path))
            uploaded.append(f"gs://{bucket_name}/{name}")
        # The pointer goes last: a reader never sees it name a half-uploaded run.
        bucket.blob(f"{base}{LATEST}").upload_from_string(
            json.dumps({"run": f"runs/{run.run_id}"}) + "\n", content_type="application/json"
        )
    except (gexc.GoogleAPIError, OSError) as exc:
        raise UploadError(f"uploading run {run.run_id} to {destination} failed: {exc}") from exc
    return uploaded


def fetch_latest(root: Path, destination: str, *, endpoint: str | None = None) -> RunDir | None:
    """Mirror the remote last good run's record and series list into ``root``.

    A scheduled job often runs on a fresh machine: the diff needs the previous run,
    which then exists only in the bucket.
    """
    from google.api_core import exceptions as gexc

    bucket_name, prefix = split_gs_url(destination)
    bucket = storage_client(endpoint).bucket(bucket_name)
    base = f"{prefix}/" if prefix else ""
    try:
        pointer = bucket.blob(f"{base}{LATEST}")
        if not pointer.exists():
            return None
        run_id = Path(json.loads(pointer.download_as_bytes())["run"]).name
        run = RunDir(root, run_id)
        run.path.mkdir(parents=True, exist_ok=True)
        for name in _DIFF_INPUTS:
            local = run.path / name
            if not local.exists():
                blob = bucket.blob(f"{base}runs/{run_id}/{name}")
                tmp = local.with_name(f".{name}.tmp")
                blob.download_to_filename(str(tmp))
                publish(tmp, local)
    except (gexc.GoogleAPIError, OSError, ValueError, KeyError) as exc:
        raise UploadError(f"reading the last run from {destination} failed: {exc}") from exc
    write_json_atomic(root / LATEST, {"run": f"runs/{run_id}", "mirrored_from": destination})
    return run


def download_rows(spec: JobSpec, run: RunDir, rows: pa.Table) -> dict[str, Any]:
    """Download the files of these manifest rows into the spec's ``dest``; raise on any failure."""
    from idcbq.download import download
    from idcbq.manifest import write_manifest

    # The exact list fed to the downloader stays with the run, for audits and re-runs.
    write_manifest(
        rows, run.path / "download.jsonl", format="jsonl", provider=spec.outputs.provider
    )
    if spec.download.transport == "dicomweb":
        from idcbq.download.dicomweb import download_dicomweb

        report = download_dicomweb(
            rows,
            Path(spec.resolve(spec.download.dest or "")),
            dicomweb_url=spec.download.dicomweb_url,
            workers=spec.download.workers,
            template=spec.download.dir_template,
            quiet=True,
            timeout=spec.download.timeout,
        )
    else:
        from idcbq.download.shard import resolve_shard

        shard = resolve_shard(spec.download.shard, count=spec.download.shard_count)
        state_dir = spec.download.state_dir
        report = download(
            rows,
            Path(spec.resolve(spec.download.dest or "")),
            shard=shard,
            state_dir=spec.resolve(state_dir) if state_dir else None,
            workers=spec.download.workers,
            template=spec.download.dir_template,
            provider=spec.outputs.provider,
            endpoint=spec.download.endpoint,
            anonymous=spec.download.anonymous,
            project=spec.download.project,
            quiet=True,
            timeout=spec.download.timeout,
        )
    summary = report.as_dict()
    if not report.ok:
        aborted = getattr(report, "aborted", None)
        if aborted:  # e.g. the endpoint is unreachable: stopped early, not file by file
            message = f"download stopped: {aborted}"
        else:
            message = (
                f"download incomplete: {len(report.failed)} of {report.planned} file(s) failed"
            )
        raise DownloadError(message, hint=report.summary(max_failures=5))
    return summary
