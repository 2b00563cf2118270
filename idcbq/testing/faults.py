"""A small fault-injecting HTTP proxy to put in front of fake-gcs-server or moto.

Real bytes come from the real server; the proxy breaks some responses on purpose:
HTTP errors (5xx/429), connection resets mid-body, truncated bodies (with a
consistent but short Content-Length), corrupted bodies (same length, flipped bytes),
slow responses, and trickling ones (``rate`` bytes per second, e.g. 1 byte/s). A
corrupted body can come with forged object metadata (``forge_crc32c``: the CRC32C
header recomputed over the wrong bytes while the MD5 header still states the real
object's), as a rewriting proxy could send; any rule can also set or remove response headers
(``headers``). Each rule applies to the first ``times`` requests of every
matching path (``None``: always), so a retrying client can recover when it should.

Example:
    >>> with FaultProxy(gcs.url, [Fault("status", status=503, times=2)]) as proxy:  # doctest: +SKIP
    ...     download(manifest, dest, endpoint=proxy.url)
"""

from __future__ import annotations

import http.client
import socket
import struct
import threading
import time
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from idcbq.testing.servers import free_port

KINDS = ("status", "reset", "truncate", "corrupt", "slow", "trickle")
_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "server", "date"}


@dataclass
class Fault:
    """One rule: ``kind`` for requests whose path contains ``match``, ``times`` per path."""

    kind: str
    match: str = ""
    times: int | None = 1
    status: int = 503
    delay: float = 0.5
    strip_hash: bool = False  # drop x-goog-hash/ETag so only the manifest can catch corruption
    forge_crc32c: bool = False  # corrupt: restate x-goog-hash crc32c for the corrupted bytes
    rate: float = 1.0  # trickle: bytes per second
    #: response headers to set (replacing any of the same name) or, with None, to remove;
    #: any kind (e.g. ``Fault("slow", delay=0, headers={...})`` changes only the headers).
    headers: dict[str, str | None] | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; use one of {KINDS}")


class FaultProxy:
    """A threaded HTTP proxy on loopback that forwards to ``upstream`` and injects faults."""

    def __init__(self, upstream: str, faults: list[Fault] | None = None, port: int | None = None):
        self.upstream = urlsplit(upstream)
        self.faults = list(faults or [])
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.injected: Counter[str] = Counter()
        self.requests = 0
        self._used: Counter[tuple[int, str]] = Counter()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    def set_faults(self, faults: list[Fault]) -> None:
        with self._lock:
            self.faults = list(faults)
            self._used.clear()

    def pick(self, path: str) -> Fault | None:
        with self._lock:
            self.requests += 1
            for index, fault in enumerate(self.faults):
                if fault.match in path and (
                    fault.times is None or self._used[(index, path)] < fault.times
                ):
                    self._used[(index, path)] += 1
                    self.injected[fault.kind] += 1
                    return fault
        return None

    def start(self) -> FaultProxy:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                proxy._handle(self)

            do_HEAD = do_GET
            do_POST = do_GET
            do_PUT = do_GET

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _forward(self, h: BaseHTTPRequestHandler) -> tuple[int, list[tuple[str, str]], bytes]:
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else None
        conn = http.client.HTTPConnection(self.upstream.hostname, self.upstream.port, timeout=60)
        headers = {k: v for k, v in h.headers.items() if k.lower() not in ("host", "connection")}
        conn.request(h.command, h.path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        return resp.status, [(k, v) for k, v in resp.getheaders() if k.lower() not in _HOP], data

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        fault = self.pick(h.path) if h.command == "GET" else None
        if fault and fault.kind == "status":
            payload = f"injected HTTP {fault.status}".encode()
            h.send_response(fault.status)
            h.send_header("Content-Length", str(len(payload)))
            h.send_header("Retry-After", "0")
            h.send_header("Connection", "close")
            h.end_headers()
            h.wfile.write(payload)
            h.close_connection = True
            return
        status, headers, data = self._forward(h)
        if fault and fault.kind == "slow":
            time.sleep(fault.delay)
        if fault and fault.strip_hash:
            headers = [(k, v) for k, v in headers if k.lower() not in ("x-goog-hash", "etag")]
        body = data
        if fault and fault.kind == "truncate":
            body = data[: len(data) // 2]
        elif fault and fault.kind == "corrupt" and data:
            body = corrupt_bytes(data)
            if fault.forge_crc32c:
                headers = [_forge(k, v, body) for k, v in headers]
        if fault and fault.headers:
            names = {k.lower() for k in fault.headers}
            headers = [(k, v) for k, v in headers if k.lower() not in names]
            headers += [(k, v) for k, v in fault.headers.items() if v is not None]
        h.send_response(status)
        for k, v in headers:
            h.send_header(k, v)
        h.send_header(
            "Content-Length", str(len(data) if fault and fault.kind == "reset" else len(body))
        )
        h.send_header("Connection", "close")
        h.end_headers()
        if h.command == "HEAD":
            return
        if fault and fault.kind == "reset":
            h.wfile.write(body[: len(body) // 2])
            h.wfile.flush()
            # SO_LINGER 0: close() sends a TCP RST instead of a clean FIN.
            h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            h.connection.close()
            h.close_connection = True
            return
        if fault and fault.kind == "trickle":
            try:
                for i in range(len(body)):
                    h.wfile.write(body[i : i + 1])
                    h.wfile.flush()
                    time.sleep(1.0 / fault.rate)
            except OSError:
                pass  # the client gave up: what a stalled transfer should make it do
        elif fault and fault.kind == "slow":
            step = max(1, len(body) // 4)
            for i in range(0, len(body), step):
                h.wfile.write(body[i : i + step])
                h.wfile.flush()
                time.sleep(fault.delay / 4)
        else:
            h.wfile.write(body)
        h.close_connection = True


def corrupt_bytes(data: bytes) -> bytes:
    """What a ``corrupt`` fault sends for ``data``: same length, the middle byte flipped."""
    if not data:
        return data
    mid = len(data) // 2
    return data[:mid] + bytes([data[mid] ^ 0xFF]) + data[mid + 1 :]


def _forge(name: str, value: str, body: bytes) -> tuple[str, str]:
    """``x-goog-hash`` with its crc32c recomputed over ``body`` and its md5 left as it was."""
    if name.lower() != "x-goog-hash":
        return name, value
    import base64

    import google_crc32c

    crc = base64.b64encode(google_crc32c.Checksum(body).digest()).decode()
    parts = [p.strip() for p in value.split(",")]
    parts = [f"crc32c={crc}" if p.startswith("crc32c=") else p for p in parts]
    return name, ",".join(parts)
