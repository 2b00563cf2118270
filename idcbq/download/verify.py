"""Check a body against every content hash the server and the manifest state for it.

A server states digests of the stored object in its response headers; any of them
that disagrees with the bytes received means the bytes are not the object (a corrupting
or rewriting hop, a cut body), so every one is checked, not just the cheapest:

- GCS ``x-goog-hash``: ``md5=<b64>`` and ``crc32c=<b64>``;
- S3 ``ETag``: the object's MD5 only for a single-part upload that is not encrypted with
  KMS or a customer key (a multipart ETag has a ``-N`` suffix; an SSE-KMS/SSE-C ETag is
  not a digest of the bytes);
- S3 ``x-amz-checksum-{crc32,crc32c,sha1,sha256}`` (full-object values only: a
  composite checksum of a multipart upload has a ``-N`` suffix and is skipped).

The manifest's MD5, when there is one, is checked too (it is the trust anchor: headers
can be rewritten by anything in the path).

Example:
    >>> import base64, hashlib
    >>> body = b"hello"
    >>> stated = {"md5": hashlib.md5(body).hexdigest(), "crc32c": "mnG7TA=="}
    >>> d = BodyDigests(stated)
    >>> d.update(body)
    >>> d.mismatches(stated, None), d.md5_hex() == stated["md5"]
    ([], True)
    >>> d.mismatches({**stated, "crc32c": "AAAAAA=="}, None)
    ['CRC32C mnG7TA== does not match object metadata AAAAAA==']
"""

from __future__ import annotations

import base64
import hashlib
import zlib
from collections.abc import Mapping
from typing import Any

#: Digests the checker knows, as a transport names them in ``stated`` (md5 is hex, the
#: others base64 of the big-endian digest, as servers send them).
KNOWN = ("md5", "crc32c", "crc32", "sha1", "sha256")
_LABEL = {"md5": "MD5", "crc32c": "CRC32C", "crc32": "CRC32", "sha1": "SHA-1", "sha256": "SHA-256"}


class _Crc32:
    def __init__(self) -> None:
        self.value = 0

    def update(self, data: bytes) -> None:
        self.value = zlib.crc32(data, self.value)

    def digest(self) -> bytes:
        return self.value.to_bytes(4, "big")


def _hasher(name: str) -> Any:
    if name == "md5":
        return hashlib.md5(usedforsecurity=False)
    if name == "crc32c":
        import google_crc32c

        return google_crc32c.Checksum()
    if name == "crc32":
        return _Crc32()
    return hashlib.new(name)


class BodyDigests:
    """Running digests of a body: MD5 always, plus every other digest ``stated`` names."""

    def __init__(self, stated: Mapping[str, str]):
        names = ["md5", *(n for n in KNOWN if n != "md5" and n in stated)]
        self._hashers = {name: _hasher(name) for name in names}

    def update(self, chunk: bytes) -> None:
        for hasher in self._hashers.values():
            hasher.update(chunk)

    def md5_hex(self) -> str:
        return self._hashers["md5"].hexdigest()

    def value(self, name: str) -> str:
        """The digest in the form the server states it (hex for md5, else base64)."""
        if name == "md5":
            return self.md5_hex()
        return base64.b64encode(self._hashers[name].digest()).decode()

    def mismatches(self, stated: Mapping[str, str], manifest_md5: str | None) -> list[str]:
        """One sentence per digest that disagrees with the body (empty: all agree)."""
        out = []
        md5 = self.md5_hex()
        if manifest_md5 and md5 != manifest_md5.lower():
            out.append(f"MD5 {md5} does not match manifest {manifest_md5}")
        for name in self._hashers:
            if name in stated:
                got = self.value(name)
                want = stated[name]
                if (got.lower() if name == "md5" else got) != (
                    want.lower() if name == "md5" else want
                ):
                    out.append(f"{_LABEL[name]} {got} does not match object metadata {want}")
        return out


def digests_of(chunks: list[bytes], stated: Mapping[str, str]) -> BodyDigests:
    """The digests of an in-memory body."""
    digests = BodyDigests(stated)
    for chunk in chunks:
        digests.update(chunk)
    return digests


def gcs_digests(headers: Any) -> dict[str, str]:
    """``md5`` (hex) and ``crc32c`` (b64) from GCS ``x-goog-hash`` headers; garbled parts ignored."""
    out: dict[str, str] = {}
    for value in headers.getall("x-goog-hash", []):
        for part in value.split(","):
            kind, _, digest = part.strip().partition("=")
            try:
                raw = base64.b64decode(digest, validate=True)
            except ValueError:
                continue  # a garbled header states nothing
            if kind == "md5" and len(raw) == 16:
                out["md5"] = raw.hex()
            elif kind == "crc32c" and len(raw) == 4:
                out["crc32c"] = digest
    return out


#: Server-side encryption under which an S3 ETag is not the MD5 of the bytes.
_OPAQUE_SSE = ("aws:kms", "aws:kms:dsse")
_S3_CHECKSUM_LEN = {"crc32": 4, "crc32c": 4, "sha1": 20, "sha256": 32}


def s3_digests(headers: Any) -> dict[str, str]:
    """Digests an S3 response states: ETag as MD5 where it is one, and x-amz-checksum-*."""
    out: dict[str, str] = {}
    etag = (headers.get("ETag") or "").strip().removeprefix("W/").strip('"').lower()
    sse = (headers.get("x-amz-server-side-encryption") or "").strip().lower()
    customer_key = headers.get("x-amz-server-side-encryption-customer-algorithm")
    if (
        len(etag) == 32
        and all(c in "0123456789abcdef" for c in etag)
        and sse not in _OPAQUE_SSE
        and not customer_key
    ):
        out["md5"] = etag
    for name, size in _S3_CHECKSUM_LEN.items():
        value = (headers.get(f"x-amz-checksum-{name}") or "").strip()
        if not value or "-" in value:  # absent, or a composite (per-part) checksum
            continue
        try:
            raw = base64.b64decode(value, validate=True)
        except ValueError:
            continue
        if len(raw) == size:
            out[name] = value
    return out
