"""Plan a download: manifest rows -> objects (listing series prefixes) -> final paths.

Series-level lines (``.../<crdc_series_uuid>/*``) are expanded by listing the bucket
prefix; the listing's object metadata supplies size and MD5 to verify against.
"""

from __future__ import annotations

import base64
import os
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from idcbq.download.item import Item
from idcbq.download.layout import (
    DEFAULT_TEMPLATE,
    FLAT_TEMPLATE,
    DirTemplate,
    contained,
    sanitize_component,
)
from idcbq.download.transfer import SizedItems
from idcbq.errors import DownloadError, ManifestError
from idcbq.manifest.model import IDC_BUCKETS, bucket_for

if TYPE_CHECKING:
    import pyarrow as pa

    from idcbq.download.shard import Shard


@dataclass
class Plan(SizedItems):
    """Everything to fetch, with final relative paths; problems found while planning."""

    items: list[Item]
    provider: str
    template: str
    sample_rows: list[dict[str, Any]] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)  # (url, reason)
    source: dict[str, Any] = field(default_factory=dict)
    #: series not listed (dry run): (prefix url, files, bytes) from the source's own sizes
    estimated: list[tuple[str, int, int]] = field(default_factory=list)

    @property
    def total_bytes(self) -> int:
        return super().total_bytes + sum(e[2] for e in self.estimated)

    @property
    def file_count(self) -> int:
        """Files to fetch: the listed ones plus those the source counts for unlisted series."""
        return len(self.items) + sum(e[1] for e in self.estimated)


def open_source(
    source: Any, provider: str | None, engine: Any = None
) -> tuple[dict[str, Any], pa.Schema, Iterator[pa.RecordBatch], str]:
    """(info, schema, batches, provider) for a manifest path or an in-memory result."""
    from idcbq.manifest.expand import manifest_batches

    if isinstance(source, str | os.PathLike):
        from idcbq.manifest.readers import read_manifest

        info, schema, batches = read_manifest(source)
        meta = {
            "path": info.path,
            "format": info.format,
            "provenance": info.provenance,
            "endpoint": info.endpoint,
        }
        chosen = provider or info.provider or "gcs"
        if info.is_result:
            # A plain query result (no url column): expand it to instances first. Manifests
            # for the other provider need nothing: rows carry both GCS and AWS bucket names.
            from_index = info.provenance.get("source") == "idc-index"  # series-level rows
            schema, batches = manifest_batches(
                _reader(schema, batches),
                provider=chosen,
                engine=engine,
                series_level=True if from_index else None,
                origin=info.provenance,  # expand against the source the rows came from
            )
        return meta, schema, batches, chosen
    chosen = provider or "gcs"
    schema, batches = manifest_batches(source, provider=chosen, engine=engine)
    return {"format": "table"}, schema, batches, chosen


def _reader(schema: pa.Schema, batches: Iterable[pa.RecordBatch]) -> pa.RecordBatchReader:
    import pyarrow as pa

    return pa.RecordBatchReader.from_batches(schema, batches)


def make_plan(
    source: Any,
    dest: Path,
    *,
    provider: str | None = None,
    template: str | None = None,
    engine: Any = None,
    lister: Any = None,
    allow_buckets: Iterable[str] = (),
    estimate_series: bool = False,
    shard: Shard | None = None,
) -> Plan:
    """Read the manifest, list series prefixes, render and check every final path.

    With ``estimate_series`` (a dry run), a series row that carries idc-index's own
    ``instanceCount`` and ``series_size_MB`` is counted from them instead of listing its
    bucket prefix, so the plan needs no network. With ``shard``, only the rows of the
    series that fall to that shard are planned (nothing else is listed).
    """
    meta, schema, batches, provider = open_source(source, provider, engine)
    foreign = meta.get("format") in ("s5cmd", "urls")
    text = template or (FLAT_TEMPLATE if foreign else DEFAULT_TEMPLATE)
    columns = [n for n in schema.names if n != "url"]
    tmpl = DirTemplate.parse(text, columns)
    plan = Plan([], provider, text, source=meta)
    seen: dict[str, str] = {}  # rel -> url
    allowed = IDC_BUCKETS | set(allow_buckets)
    for batch in batches:
        for row in batch.to_pylist():
            if shard is not None and not shard.holds(
                row.get("crdc_series_uuid"),
                f"manifest row {row.get('url') or row.get('crdc_instance_uuid') or '(no url)'}",
            ):
                continue
            if estimate_series and _estimate(row, provider, tmpl, plan, allowed):
                continue
            for item_row in _objects(row, provider, lister, plan):
                bucket = bucket_for(
                    provider, item_row.get("gcs_bucket"), item_row.get("aws_bucket")
                )
                if not bucket:
                    plan.problems.append((str(row.get("url")), "no bucket for this provider"))
                    continue
                if bucket not in allowed:
                    # A manifest is input from elsewhere: never fetch from arbitrary buckets.
                    raise ManifestError(
                        f"manifest names bucket {bucket!r}, which is not an IDC bucket "
                        f"({row.get('url') or bucket})",
                        hint=f"IDC buckets: {', '.join(sorted(IDC_BUCKETS))}; "
                        f"to fetch from {bucket} anyway pass --allow-bucket {bucket}",
                    )
                key = item_row["_key"]
                name = sanitize_component(
                    (item_row.get("crdc_instance_uuid") and f"{item_row['crdc_instance_uuid']}.dcm")
                    or key.rsplit("/", 1)[-1]
                )
                rel_dir = tmpl.render(item_row)
                rel = f"{rel_dir}/{name}" if rel_dir else name
                contained(dest, rel)  # raises on anything that escapes dest
                url = f"{bucket}/{key}"
                if rel in seen:
                    if seen[rel] != url:
                        plan.problems.append((url, f"same destination as {seen[rel]}: {rel}"))
                    continue  # duplicate row of the same object (e.g. two license rows)
                seen[rel] = url
                md5 = item_row.get("md5")
                plan.items.append(
                    Item(
                        provider,
                        bucket,
                        key,
                        rel,
                        item_row.get("size"),
                        md5.lower() if md5 else None,
                    )
                )
                if len(plan.sample_rows) < 5:
                    plan.sample_rows.append({"url": plan.items[-1].url, "path": rel})
    return plan


def _estimate(row: dict[str, Any], provider: str, tmpl: DirTemplate, plan: Plan,
              allowed: set[str]) -> bool:  # fmt: skip
    """Count a series row from its own sizes (no listing); False if it has none to count."""
    series = row.get("crdc_series_uuid")
    files, mb = row.get("instanceCount"), row.get("series_size_MB")
    if row.get("crdc_instance_uuid") or not series or files is None or mb is None:
        return False
    bucket = bucket_for(provider, row.get("gcs_bucket"), row.get("aws_bucket"))
    if not bucket or bucket not in allowed:
        return False  # the listing path reports it
    url = f"{'gs' if provider == 'gcs' else 's3'}://{bucket}/{series}/*"
    if url in {e[0] for e in plan.estimated}:
        return True  # the same series twice (e.g. two license rows)
    plan.estimated.append((url, int(files), round(float(mb) * 1_000_000)))  # idc-index: MB = 10^6 B
    if len(plan.sample_rows) < 5:
        rel_dir = tmpl.render(row)
        plan.sample_rows.append({"url": url, "path": f"{rel_dir}/" if rel_dir else "./"})
    return True


def _objects(
    row: dict[str, Any], provider: str, lister: Any, plan: Plan
) -> Iterator[dict[str, Any]]:
    """The object rows for one manifest row: itself, or the listing of a series prefix."""
    series, instance = row.get("crdc_series_uuid"), row.get("crdc_instance_uuid")
    if instance:
        row["_key"] = f"{series}/{instance}.dcm"
        yield row
        return
    if not series:
        raise ManifestError(
            f"manifest row has neither crdc_instance_uuid nor crdc_series_uuid: {row.get('url')}"
        )
    if lister is None:
        raise DownloadError("series-level manifest lines need bucket listing, but no lister is set")
    bucket = bucket_for(provider, row.get("gcs_bucket"), row.get("aws_bucket"))
    found = 0
    for key, size, md5 in lister(provider, bucket, f"{series}/"):
        found += 1
        out = dict(row)
        name = key.rsplit("/", 1)[-1]
        out.update(
            _key=key,
            size=size,
            md5=md5,
            crdc_instance_uuid=name[:-4] if name.endswith(".dcm") else None,
        )
        yield out
    if not found:
        plan.problems.append((f"{bucket}/{series}/*", "no objects under this series prefix"))


class GcsLister:
    """Lists a GCS prefix with google-cloud-storage (anonymous or with credentials).

    Any listing failure (missing bucket, refused connection, retries running out after
    ``deadline`` seconds) is one DownloadError naming the prefix.
    """

    def __init__(self, endpoint: str, credentials: Any = None, project: str | None = None,
                 deadline: float = 60.0):  # fmt: skip
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import storage

        self.endpoint = endpoint
        self.deadline = deadline
        self.client = storage.Client(
            project=project or "idcbq-anonymous",
            credentials=credentials or AnonymousCredentials(),
            client_options={"api_endpoint": endpoint},
        )

    def __call__(self, bucket: str, prefix: str) -> Iterator[tuple[str, int, str | None]]:
        from google.api_core import exceptions as gexc
        from google.cloud.storage.retry import DEFAULT_RETRY

        try:
            blobs = self.client.list_blobs(
                bucket,
                prefix=prefix,
                timeout=min(self.deadline, 60.0),
                retry=DEFAULT_RETRY.with_timeout(self.deadline),
            )
            for blob in blobs:
                md5 = base64.b64decode(blob.md5_hash).hex() if blob.md5_hash else None
                yield blob.name, int(blob.size), md5
        except gexc.NotFound as exc:
            raise DownloadError(
                f"cannot list gs://{bucket}/{prefix}: bucket not found at {self.endpoint}",
                hint="check the manifest's bucket names and --endpoint / --provider",
            ) from exc
        except gexc.RetryError as exc:
            cause = exc.cause or exc
            raise DownloadError(
                f"cannot list gs://{bucket}/{prefix}: gave up after {self.deadline:.0f}s: "
                f"{_one_line(cause)}",
                hint=f"is {self.endpoint} reachable?",
            ) from exc
        except (gexc.GoogleAPIError, OSError, ValueError) as exc:
            raise DownloadError(
                f"cannot list gs://{bucket}/{prefix}: {_one_line(exc)}",
                hint=f"is {self.endpoint} reachable, and the bucket public?",
            ) from exc
        except Exception as exc:  # requests/urllib3 errors that api_core does not wrap
            if type(exc).__module__.split(".")[0] not in ("requests", "urllib3", "google"):
                raise
            raise DownloadError(
                f"cannot list gs://{bucket}/{prefix}: {_one_line(exc)}",
                hint=f"is {self.endpoint} reachable?",
            ) from exc


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:300]


class S3Lister:
    """Lists an S3 prefix anonymously with ListObjectsV2 (path-style, no SDK needed)."""

    NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"

    def __init__(self, endpoint: str, deadline: float = 60.0):
        self.endpoint = endpoint.rstrip("/")
        self.deadline = deadline

    def __call__(self, bucket: str, prefix: str) -> Iterator[tuple[str, int, str | None]]:
        token = None
        while True:
            query = {"list-type": "2", "prefix": prefix}
            if token:
                query["continuation-token"] = token
            url = f"{self.endpoint}/{urllib.parse.quote(bucket)}?{urllib.parse.urlencode(query)}"
            try:
                with urllib.request.urlopen(url, timeout=self.deadline) as resp:
                    root = ET.fromstring(resp.read())
            except (OSError, ET.ParseError) as exc:
                raise DownloadError(
                    f"cannot list s3://{bucket}/{prefix}: {_one_line(exc)}"
                ) from exc
            for node in root.iter(f"{self.NS}Contents"):
                etag = (node.findtext(f"{self.NS}ETag") or "").strip('"')
                yield (
                    node.findtext(f"{self.NS}Key") or "",
                    int(node.findtext(f"{self.NS}Size") or 0),
                    etag.lower() if len(etag) == 32 else None,
                )
            if (root.findtext(f"{self.NS}IsTruncated") or "false") != "true":
                return
            token = root.findtext(f"{self.NS}NextContinuationToken")
