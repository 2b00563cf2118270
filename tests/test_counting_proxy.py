"""CountingProxy counts the response bytes a client really receives (real loopback HTTP)."""

from __future__ import annotations

import functools
import threading
import urllib.request
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from idcbq.testing.counting_proxy import CountingProxy


@pytest.fixture
def file_server(tmp_path: Path) -> Iterator[str]:
    (tmp_path / "blob.bin").write_bytes(bytes(range(256)) * 40)  # 10,240 bytes
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_counts_whole_and_head_requests(file_server: str) -> None:
    with CountingProxy(file_server) as proxy:
        with urllib.request.urlopen(f"{proxy.url}/blob.bin") as resp:
            body = resp.read()
        head = urllib.request.Request(f"{proxy.url}/blob.bin", method="HEAD")
        with urllib.request.urlopen(head) as resp:
            assert resp.headers["Content-Length"] == str(len(body))
        assert body == bytes(range(256)) * 40
        assert proxy.bytes_in == len(body)  # HEAD adds no body bytes
        assert [r.method for r in proxy.requests] == ["GET", "HEAD"]
        proxy.reset()
        assert proxy.bytes_in == 0 and proxy.requests == []


def test_missing_object_status_is_forwarded(file_server: str) -> None:
    with CountingProxy(file_server) as proxy:
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(f"{proxy.url}/nope.bin")
        assert info.value.code == 404
        assert proxy.requests[0].status == 404


def test_rejects_non_http_upstream() -> None:
    with pytest.raises(ValueError, match="upstream must be http"):
        CountingProxy("https://example.invalid")
