"""Transports: how one object is fetched over HTTP. The only part that differs per service.

Planning, the resume state, verification, atomic stores, retries, deadlines and the
report are shared (:mod:`idcbq.download.transfer`); a transport only says which GET to
send for an :class:`~idcbq.download.item.Item` and which digests the server states
about the object in its response headers. GCS (JSON API media download) and S3
(path-style GET) live here; another service (e.g. DICOMweb) registers its own class in
:data:`TRANSPORTS`.

Example:
    >>> t = make_transport("gcs", "http://127.0.0.1:4443")
    >>> t.name, t.endpoint
    ('gcs', 'http://127.0.0.1:4443')
    >>> check_endpoint("ftp://example.org")
    Traceback (most recent call last):
    ...
    idcbq.errors.UsageError: --endpoint 'ftp://example.org' is not an http(s) URL
      hint: give the server's base URL, e.g. https://storage.googleapis.com or http://127.0.0.1:4443
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote, urlsplit

from idcbq.download.verify import gcs_digests, s3_digests
from idcbq.errors import UsageError

if TYPE_CHECKING:
    from idcbq.download.item import Item

AuthHeaders = Callable[[], dict[str, str]]


class Transport(Protocol):
    """What the shared transfer engine needs from a storage service."""

    name: str
    endpoint: str

    def request(self, item: Item) -> tuple[str, dict[str, str] | None]:
        """The already percent-encoded URL and the headers of the GET for ``item``."""
        ...

    def digests(self, headers: Any) -> dict[str, str]:
        """Digests the response headers state for the object: ``md5`` (hex), ``crc32c`` (b64)."""
        ...


def check_endpoint(endpoint: str) -> str:
    """``endpoint`` if it is an ``http(s)://host[:port][/path]`` URL, else a UsageError."""
    try:
        parts = urlsplit(endpoint)
        port_ok = parts.port is None or 0 < parts.port < 65536
    except ValueError:
        parts, port_ok = None, False
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or not port_ok:
        raise UsageError(
            f"--endpoint {endpoint!r} is not an http(s) URL",
            hint="give the server's base URL, e.g. https://storage.googleapis.com or http://127.0.0.1:4443",
        )
    if parts.query or parts.fragment:
        raise UsageError(f"--endpoint {endpoint!r} must not have a query or fragment")
    return endpoint


class GcsTransport:
    """GCS JSON API media downloads; digests from ``x-goog-hash`` (md5 and crc32c)."""

    name = "gcs"

    def __init__(self, endpoint: str, auth: AuthHeaders | None = None):
        self.endpoint = endpoint.rstrip("/")
        self.auth = auth

    def request(self, item: Item) -> tuple[str, dict[str, str] | None]:
        bucket, key = quote(item.bucket, safe=""), quote(item.key, safe="")
        url = f"{self.endpoint}/storage/v1/b/{bucket}/o/{key}?alt=media"
        return url, (self.auth() if self.auth else None)

    def digests(self, headers: Any) -> dict[str, str]:
        return gcs_digests(headers)


class S3Transport:
    """S3 path-style anonymous GETs; digests from a single-part ETag and ``x-amz-checksum-*``."""

    name = "aws"

    def __init__(self, endpoint: str, auth: AuthHeaders | None = None):
        self.endpoint = endpoint.rstrip("/")
        self.auth = auth

    def request(self, item: Item) -> tuple[str, dict[str, str] | None]:
        url = f"{self.endpoint}/{quote(item.bucket, safe='')}/{quote(item.key, safe='/')}"
        # Ask for the object's stored checksums (x-amz-checksum-*) where it has them.
        return url, {**(self.auth() if self.auth else {}), "x-amz-checksum-mode": "ENABLED"}

    def digests(self, headers: Any) -> dict[str, str]:
        return s3_digests(headers)


#: provider name -> transport class (constructor: ``(endpoint, auth=None)``).
TRANSPORTS: dict[str, Any] = {"gcs": GcsTransport, "aws": S3Transport}


def make_transport(provider: str, endpoint: str, auth: AuthHeaders | None = None) -> Transport:
    """The transport for ``provider`` at ``endpoint`` (checked to be an http(s) URL)."""
    cls = TRANSPORTS.get(provider)
    if cls is None:
        raise UsageError(
            f"no transport for provider {provider!r}", hint=f"use one of {', '.join(TRANSPORTS)}"
        )
    return cls(check_endpoint(endpoint), auth)
