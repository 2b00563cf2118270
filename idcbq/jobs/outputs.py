"""Where a run's files go beyond its folder: downloads and ``gs://`` destinations."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from idcbq.errors import IdcbqError

if TYPE_CHECKING:
    from idcbq.jobs.diff import CohortDiff
    from idcbq.jobs.runs import RunDir
    from idcbq.jobs.spec import JobSpec
    from idcbq.result import QueryResult


class UploadError(IdcbqError):
    """Uploading a run's outputs to GCS failed."""


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
    """Upload a run folder to ``gs://bucket/prefix/runs/<id>/`` then write ``latest.json`` last."""
    from google.api_core import exceptions as gexc

    bucket_name, prefix = split_gs_url(destination)
    client = storage_client(endpoint)
    bucket = client.bucket(bucket_name)
    uploaded = []
    base = f"{prefix}/" if prefix else ""
    try:
        for path in sorted(p for p in run.path.rglob("*") if p.is_file()):
            name = f"{base}runs/{run.run_id}/{path.relative_to(run.path).as_posix()}"
            bucket.blob(name).upload_from_filename(str(path))
            uploaded.append(f"gs://{bucket_name}/{name}")
        pointer = bucket.blob(f"{base}latest.json")
        pointer.upload_from_string(
            f'{{"run": "runs/{run.run_id}"}}\n', content_type="application/json"
        )
    except (gexc.GoogleAPIError, OSError) as exc:
        raise UploadError(f"uploading run {run.run_id} to {destination} failed: {exc}") from exc
    return uploaded


def download_result(
    spec: JobSpec, run: RunDir, result: QueryResult, changes: CohortDiff | None
) -> dict[str, Any]:
    """Download the run's files (or only added/revised series) into the spec's ``dest``."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from idcbq.download import download_manifest
    from idcbq.manifest import write_manifest

    selected = result
    if spec.download.only_changes and changes is not None:
        keep = pc.is_in(
            result.table.column("SeriesInstanceUID"),
            value_set=pa.array(changes.changed, pa.string()),
        )
        selected = _with_table(result, result.table.filter(keep))
    manifest_path = run.path / "download-manifest.jsonl"
    write_manifest(selected, manifest_path, format="jsonl", level="instance", provider="gcs")
    report = download_manifest(
        manifest_path,
        dest=Path(spec.resolve(spec.download.dest or "")),
        workers=spec.download.workers,
        dir_template=spec.download.dir_template,
        endpoint=spec.download.endpoint,
        anonymous=spec.download.anonymous,
        project=spec.download.project,
        quiet=True,
    )
    summary = report.summary() if hasattr(report, "summary") else dict(report)
    if summary.get("failed"):
        from idcbq.errors import DownloadError

        raise DownloadError(
            f"{summary['failed']} file(s) failed to download or verify; see run.json"
        )
    return summary


def _with_table(result: QueryResult, table: Any) -> QueryResult:
    from dataclasses import replace

    return replace(result, table=table)
