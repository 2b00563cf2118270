"""A loopback HTTP proxy that counts the bytes a client really pulls from a server.

Put it between a client (DuckDB's httpfs, a downloader) and a local storage server
(moto, fake-gcs-server): point the client's endpoint at ``proxy.url``. Every request
is forwarded as-is; response bodies are counted, so projection and row-group pruning
show up as the bytes actually transferred, not as a guess from Parquet metadata.

Example::

    with MotoS3Server() as s3, CountingProxy(s3.url) as proxy:
        engine = DuckDBEngine.from_options(source="s3://b/root", s3_endpoint=proxy.url)
        ...
        print(proxy.bytes_in, len(proxy.requests))
"""

from __future__ import annotations

import http.client
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

# Hop-by-hop or recomputed headers: never copied from the upstream response.
_DROP = frozenset(
    {"transfer-encoding", "connection", "content-length", "keep-alive", "server", "date"}
)


@dataclass(frozen=True)
class Request:
    """One forwarded request: method, path, Range header, response status and body bytes."""

    method: str
    path: str
    range: str | None
    status: int
    body_bytes: int


class CountingProxy:
    """Forward HTTP/1.1 to ``upstream`` (``http://host:port``) and count response bodies."""

    def __init__(self, upstream: str, timeout: float = 60.0):
        parts = urlsplit(upstream)
        if parts.scheme != "http" or not parts.hostname or not parts.port:
            raise ValueError(f"upstream must be http://host:port, got {upstream!r}")
        self.upstream = (parts.hostname, parts.port)
        self.timeout = timeout
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def bytes_in(self) -> int:
        """Response body bytes received from upstream so far."""
        with self._lock:
            return sum(r.body_bytes for r in self.requests)

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()

    def _record(self, request: Request) -> None:
        with self._lock:
            self.requests.append(request)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes: with Nagle on, keep-alive clients
            # wait ~40 ms (delayed ACK) per request.
            disable_nagle_algorithm = True

            def forward(self) -> None:
                size = int(self.headers.get("Content-Length") or 0)
                payload = self.rfile.read(size) if size else None
                headers = {k: v for k, v in self.headers.items() if k.lower() != "connection"}
                conn = http.client.HTTPConnection(*proxy.upstream, timeout=proxy.timeout)
                try:
                    conn.request(self.command, self.path, body=payload, headers=headers)
                    resp = conn.getresponse()
                    data = resp.read()
                finally:
                    conn.close()
                proxy._record(
                    Request(
                        self.command, self.path, self.headers.get("Range"), resp.status, len(data)
                    )
                )
                self.send_response(resp.status)
                for key, value in resp.getheaders():
                    if key.lower() not in _DROP:
                        self.send_header(key, value)
                # HEAD answers carry the object's length, not a body's.
                length = resp.getheader("Content-Length") if self.command == "HEAD" else None
                self.send_header("Content-Length", length or str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = forward

            def log_message(self, *args: object) -> None:  # quiet
                pass

        return Handler

    def __enter__(self) -> CountingProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
