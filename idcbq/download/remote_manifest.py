"""Manifests at ``gs://`` and ``s3://`` URLs: copied to a local temp file, then read as usual.

Batch tasks read their manifest from a bucket (the job specs in ``docs/batch/`` do). The
manifest is fetched with pyarrow's GCS and S3 file systems: first with the machine's
own credentials (a Cloud Batch or GKE service account, ``AWS_*`` variables), then
anonymously for a public bucket. Endpoints come from the standard variables:
``STORAGE_EMULATOR_HOST`` for ``gs://``; ``AWS_ENDPOINT_URL_S3`` or ``AWS_ENDPOINT_URL``
for ``s3://``. A non-Parquet manifest's ``<name>.provenance.json`` comes along when
there is one. Errors name the URL, never the temp file.

Example:
    >>> is_remote("gs://my-bucket/cohort.jsonl"), is_remote("cohort.jsonl")
    (True, False)
    >>> split_url("s3://b/dir/m.s5cmd")
    ('s3', 'b', 'dir/m.s5cmd')
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from idcbq.errors import IdcbqError, Location, ManifestError

SCHEMES = ("gs", "s3")


def is_remote(source: Any) -> bool:
    return (
        isinstance(source, str) and source.split("://", 1)[0].lower() in SCHEMES and "://" in source
    )


def split_url(url: str) -> tuple[str, str, str]:
    """``scheme://bucket/key`` -> (scheme, bucket, key); a URL without a key is refused."""
    scheme, _, rest = url.partition("://")
    bucket, _, key = rest.partition("/")
    if not bucket or not key or key.endswith("/"):
        raise ManifestError(f"manifest URL {url!r} names no object",
                            hint="give the manifest file's URL, e.g. gs://bucket/cohort.parquet")  # fmt: skip
    return scheme.lower(), bucket, key


def _filesystem(scheme: str, anonymous: bool) -> Any:
    import pyarrow.fs as pafs

    if scheme == "gs":
        endpoint = os.environ.get("STORAGE_EMULATOR_HOST")
        kwargs: dict[str, Any] = {"anonymous": anonymous or bool(endpoint)}
        if endpoint:
            parsed = urlparse(endpoint if "://" in endpoint else f"http://{endpoint}")
            kwargs.update(endpoint_override=parsed.netloc, scheme=parsed.scheme or "http")
        import datetime as dt

        kwargs["retry_time_limit"] = dt.timedelta(seconds=15)
        return pafs.GcsFileSystem(**kwargs)
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    kwargs = {"anonymous": anonymous}
    if endpoint:
        parsed = urlparse(endpoint)
        kwargs.update(endpoint_override=parsed.netloc or endpoint, scheme=parsed.scheme or "https")
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    kwargs["region"] = region or "us-east-1"
    return pafs.S3FileSystem(**kwargs)


def _copy(scheme: str, bucket: str, key: str, target: Path, *, required: bool) -> bool:
    """Copy one object to ``target``; False when it does not exist and is not required."""
    last: Exception | None = None
    for anonymous in (False, True):
        try:
            fs = _filesystem(scheme, anonymous)
            with fs.open_input_stream(f"{bucket}/{key}") as src, open(target, "wb") as out:
                shutil.copyfileobj(src, out, 1 << 20)
            return True
        except FileNotFoundError:
            if not required:
                return False
            raise ManifestError(f"no such manifest: {scheme}://{bucket}/{key}") from None
        except (OSError, ValueError) as exc:  # pyarrow: no credentials, access denied, network
            last = exc
    if not required:
        return False
    reason = str(last).strip().splitlines()[0] if last and str(last).strip() else "unknown error"
    raise ManifestError(f"cannot read manifest {scheme}://{bucket}/{key}: {reason}",
                        hint="check the URL, the credentials of this machine, and the endpoint "
                             "variables (STORAGE_EMULATOR_HOST, AWS_ENDPOINT_URL)")  # fmt: skip


@contextlib.contextmanager
def local_manifest(source: Any) -> Iterator[Any]:
    """``source`` itself, or for a bucket URL a local copy that lives for the block."""
    if not is_remote(source):
        yield source
        return
    scheme, bucket, key = split_url(source)
    name = key.rsplit("/", 1)[-1]
    with tempfile.TemporaryDirectory(prefix="idcbq-manifest-") as tmp:
        local = Path(tmp) / name
        _copy(scheme, bucket, key, local, required=True)
        if not name.endswith((".parquet", ".pq")):
            side = f"{key}.provenance.json"
            _copy(scheme, bucket, side, local.with_name(f"{name}.provenance.json"), required=False)
        try:
            yield str(local)
        except IdcbqError as exc:
            _rename(exc, str(local), source)
            raise


def _rename(exc: IdcbqError, local: str, url: str) -> None:
    """Errors about the temp copy name the URL the user gave."""
    exc.message = exc.message.replace(local, url)
    if exc.location is not None and exc.location.path == local:
        loc = exc.location
        exc.location = Location(url, loc.line, loc.column, loc.snippet)
    exc.args = (str(exc),)
