"""Seed a local GCS (fake-gcs-server) or S3 (moto) server with the sample's DICOM files.

Objects land where IDC keeps them, ``<bucket>/<crdc_series_uuid>/<crdc_instance_uuid>.dcm``,
in buckets named like IDC's (``idc-open-data``, ``idc-open-idc1``, ``idc-open-cr``; on S3
``idc-open-data``, ``idc-open-data-two``, ``idc-open-data-cr``). Bytes come from
:func:`idcbq.sources.sample.dicom_files.instance_bytes`, so their size and MD5 equal the
sample's ``instance_size`` / ``instance_hash`` for the seedable series.

Example:
    >>> report = seed_gcs(sample_root, "http://127.0.0.1:4443", series=3)  # doctest: +SKIP
    >>> report.objects, report.mismatched  # doctest: +SKIP
    (42, 0)
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from idcbq.core.aio import run_sync
from idcbq.errors import SourceError
from idcbq.manifest.model import GCS_TO_AWS

SAMPLE_INFO = "idcbq_sample.json"


@dataclass
class SeedReport:
    """What was uploaded; ``mismatched`` counts objects whose bytes differ from the sample's size/MD5."""

    endpoint: str
    provider: str
    buckets: list[str] = field(default_factory=list)
    series: list[str] = field(default_factory=list)
    objects: int = 0
    bytes: int = 0
    mismatched: int = 0

    def summary(self) -> str:
        return (f"seeded {self.objects} objects ({self.bytes} bytes) of {len(self.series)} series into "
                f"{', '.join(self.buckets)} at {self.endpoint} ({self.provider}); {self.mismatched} mismatched")  # fmt: skip

    __str__ = summary  # words, never the dataclass repr


def seedable_series_uids(root: Path) -> list[str]:
    """SeriesInstanceUIDs the sample marks seedable (``ROOT/idcbq_sample.json``)."""
    path = Path(root) / SAMPLE_INFO
    if not path.is_file():
        raise SourceError(f"{path} not found: not a built sample root")
    info = json.loads(path.read_text(encoding="utf-8"))
    for key in ("seedable_series", "seedable"):
        value = info.get(key)
        if isinstance(value, dict):
            value = value.get("SeriesInstanceUID") or value.get("series")
        if isinstance(value, list):
            return [v if isinstance(v, str) else v["SeriesInstanceUID"] for v in value]
    raise SourceError(f"{path} lists no seedable series")


def seed_rows(root: Path, *, series: int | Sequence[str] | None = None,
              collections: Sequence[str] | None = None) -> list[dict[str, Any]]:  # fmt: skip
    """dicom_all rows (as dicts) of the chosen seedable series of the sample at ``root``."""
    import pyarrow.compute as pc
    import pyarrow.dataset as ds

    from idcbq.sources.sample.dicom_files import instance_bytes  # noqa: F401 - fail early if missing

    uids = seedable_series_uids(root)
    if isinstance(series, list | tuple):
        wanted = set(series)
        uids = [u for u in uids if u in wanted]
    table_dir = _dicom_all_dir(Path(root))
    dataset = ds.dataset(table_dir, format="parquet")
    cols = [c for c in dataset.schema.names if not _nested(dataset.schema.field(c).type)]
    table = dataset.to_table(columns=cols, filter=pc.field("SeriesInstanceUID").isin(uids))
    if collections:
        table = table.filter(pc.field("collection_id").isin(list(collections)))
    rows = table.to_pylist()
    if isinstance(series, int):
        keep = sorted({r["SeriesInstanceUID"] for r in rows})[:series]
        rows = [r for r in rows if r["SeriesInstanceUID"] in set(keep)]
    rows.sort(key=lambda r: (r["crdc_series_uuid"], r["crdc_instance_uuid"]))
    return rows


def _nested(t: Any) -> bool:
    import pyarrow as pa

    return pa.types.is_nested(t)


def _dicom_all_dir(root: Path) -> Path:
    base = root / "bigquery_export"
    for name in ("idc_current", "idc_v25"):
        if (base / name / "dicom_all").is_dir():
            return base / name / "dicom_all"
    found = sorted(base.glob("idc_v*/dicom_all"))
    if not found:
        raise SourceError(f"no dicom_all table under {base}")
    return found[-1]


def seed_gcs(root: Path, endpoint: str, *, series: int | Sequence[str] | None = None,
             collections: Sequence[str] | None = None, project: str = "idcbq-sample",
             workers: int = 32) -> SeedReport:  # fmt: skip
    """Upload the seedable series' DICOM files to a GCS server at ``endpoint``."""
    return _seed("gcs", root, endpoint, series, collections, project, workers)


def seed_s3(root: Path, endpoint: str, *, series: int | Sequence[str] | None = None,
            collections: Sequence[str] | None = None, workers: int = 32) -> SeedReport:  # fmt: skip
    """Upload the same files to an S3 server (moto) under IDC's AWS bucket names, public-read."""
    return _seed("aws", root, endpoint, series, collections, "", workers)


def _seed(provider: str, root: Path, endpoint: str, series: Any, collections: Any, project: str,
          workers: int) -> SeedReport:  # fmt: skip
    from idcbq.download.transport import check_endpoint
    from idcbq.sources.sample.dicom_files import instance_bytes

    check_endpoint(endpoint)  # before any work: a typo fails at once
    rows = seed_rows(Path(root), series=series, collections=collections)
    report = SeedReport(endpoint, provider)
    objects = []
    for row in rows:
        data = instance_bytes(row)
        if len(data) != row.get("instance_size") or hashlib.md5(data).hexdigest() != row.get(
            "instance_hash"
        ):
            report.mismatched += 1
        bucket = row.get("gcs_bucket") or "idc-open-data"
        if provider == "aws":
            bucket = row.get("aws_bucket") or GCS_TO_AWS.get(bucket, bucket)
        objects.append((bucket, f"{row['crdc_series_uuid']}/{row['crdc_instance_uuid']}.dcm", data))
        report.bytes += len(data)
    report.objects = len(objects)
    report.series = sorted({r["SeriesInstanceUID"] for r in rows})
    report.buckets = sorted({b for b, _, _ in objects})
    upload_objects(provider, endpoint, objects, project=project, workers=workers)
    return report


def upload_objects(provider: str, endpoint: str, objects: Iterable[tuple[str, str, bytes]], *,
                   project: str = "idcbq-sample", workers: int = 32) -> int:  # fmt: skip
    """Create buckets and upload ``(bucket, key, data)`` objects concurrently; returns the count.

    An endpoint that is not an http(s) URL is a UsageError; one that cannot be reached
    (nothing listening, DNS failure, no answer within 30 s) is one SourceError naming it.
    """
    import aiohttp

    from idcbq.download.transport import check_endpoint

    check_endpoint(endpoint)
    try:
        return run_sync(_upload(provider, endpoint.rstrip("/"), list(objects), project, workers))
    except (aiohttp.ClientError, OSError) as exc:  # TimeoutError is an OSError
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SourceError(
            f"cannot reach the storage server at {endpoint}: {reason}",
            hint="start fake-gcs-server / moto there first, or pass the right --endpoint",
        ) from exc


async def _upload(provider: str, endpoint: str, objects: list[tuple[str, str, bytes]], project: str,
                  workers: int) -> int:  # fmt: skip
    import aiohttp

    timeout = aiohttp.ClientTimeout(total=None, sock_connect=30, sock_read=120)
    async with aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=workers), timeout=timeout
    ) as session:
        for bucket in sorted({b for b, _, _ in objects}):
            if provider == "gcs":
                resp = await session.post(
                    f"{endpoint}/storage/v1/b", params={"project": project}, json={"name": bucket}
                )
            else:
                resp = await session.put(
                    f"{endpoint}/{bucket}", headers={"x-amz-acl": "public-read"}
                )
            if resp.status not in (200, 409) and not (provider == "aws" and resp.status == 409):
                raise SourceError(
                    f"cannot create bucket {bucket} at {endpoint}: HTTP {resp.status} {await resp.text()}"
                )
            resp.release()
        queue = iter(objects)

        async def worker() -> None:
            for bucket, key, data in queue:
                for attempt in range(5):
                    if provider == "gcs":
                        url = f"{endpoint}/upload/storage/v1/b/{quote(bucket, safe='')}/o"
                        req = session.post(url, params={"uploadType": "media", "name": key}, data=data,
                                           headers={"Content-Type": "application/dicom"})  # fmt: skip
                    else:
                        req = session.put(f"{endpoint}/{bucket}/{quote(key)}", data=data,
                                          headers={"x-amz-acl": "public-read", "Content-Type": "application/dicom"})  # fmt: skip
                    async with req as resp:
                        if resp.status == 200:
                            break
                        text = await resp.text()
                    if attempt == 4:
                        raise SourceError(
                            f"upload of {bucket}/{key} failed: HTTP {resp.status} {text[:200]}"
                        )
                    await asyncio.sleep(0.2 * 2**attempt)

        await asyncio.gather(*(worker() for _ in range(workers)))
    return len(objects)
