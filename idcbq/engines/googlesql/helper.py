"""A warm helper process: GoogleSQL's analyzer kept started for short-lived CLI processes.

Starting the analyzer module costs seconds in every fresh process; a new query in a
fresh CLI process would pay it each time. The first CLI process that needs the
analyzer starts this helper in the background (and analyzes in-process that once);
later processes send their query to it over a Unix socket in the GoogleSQL cache folder
(mode 0600, so only this user can connect) and get the verdict back in milliseconds.
The helper exits after ``IDLE_SECONDS`` without requests.

Protocol: one JSON line each way. Request: ``{"sql", "params": [[name, type]],
"tables": {"dataset.table": [field, ...]}, "idc_version", "data_project"}``; reply: a
verdict (``{"ok": true}`` or the refusal, as :mod:`idcbq.engines.googlesql.verdicts`
stores it). ``{"shutdown": true}`` stops it.

On by default in CLI processes (the entry point sets ``IDCBQ_GOOGLESQL_HELPER=1``
unless it is set; ``0`` turns it off); the API, a long-lived process, analyzes in-process.

Example:
    python -m idcbq.validate.helper_server      # what the CLI starts in the background
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ENV = "IDCBQ_GOOGLESQL_HELPER"
IDLE_SECONDS = 900.0


def enabled() -> bool:
    """True if ``IDCBQ_GOOGLESQL_HELPER`` is on (the CLI entry point sets it unless set)."""
    return os.environ.get(ENV, "").strip().lower() in ("1", "true", "yes", "on")


def socket_path() -> Path:
    """The helper's socket, per analyzer version (a new idcbq/zetasql gets a new helper)."""
    from idcbq.engines.googlesql.verdicts import analyzer_version, cache_root

    tag = hashlib.sha256(analyzer_version().encode()).hexdigest()[:12]
    return cache_root() / f"helper-{tag}.sock"


def _field_json(f: Any) -> dict[str, Any]:
    return {
        "name": f.name,
        "type": f.type,
        "mode": f.mode,
        "fields": [_field_json(x) for x in f.fields],
    }


def ask(request: dict[str, Any], timeout: float = 60.0) -> dict[str, Any] | None:
    """Send one request to a running helper; None if there is none (or it failed)."""
    path = socket_path()
    if not path.exists():
        return None
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(str(path))
            sock.sendall(json.dumps(request).encode() + b"\n")
            data = b""
            while not data.endswith(b"\n"):
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
        reply = json.loads(data)
    except (OSError, ValueError):
        return None
    return reply if isinstance(reply, dict) and reply.get("ok") in (True, False) else None


def request_for(
    sql: str, params: Any, tables: dict[tuple[str, str], Any], idc_version: Any, data_project: str
) -> dict[str, Any]:
    return {
        "sql": sql,
        "params": [[p.name, str(p.type)] for p in params],
        "tables": {f"{k[0]}.{k[1]}": [_field_json(f) for f in v] for k, v in tables.items() if v},
        "idc_version": getattr(idc_version, "label", idc_version),
        "data_project": data_project,
    }


def start_in_background() -> None:
    """Start a helper (detached, its output discarded); never raises."""
    with contextlib.suppress(OSError):
        subprocess.Popen(
            [sys.executable, "-m", "idcbq.validate.helper_server"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            close_fds=True,
        )


def serve(
    answer: Callable[[dict[str, Any]], dict[str, Any]],
    path: Path | None = None,
    idle_seconds: float = IDLE_SECONDS,
) -> None:
    """Start the analyzer, then answer requests with ``answer`` until idle for ``idle_seconds``."""
    from idcbq.engines.googlesql.runtime import runtime

    path = path or socket_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    runtime()  # start (or compile) before listening: a connected client gets a fast answer
    tmp = path.with_name(f"{path.name}.{os.getpid()}")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o177)
    try:
        server.bind(str(tmp))
    finally:
        os.umask(old)
    server.listen(16)
    os.replace(tmp, path)  # the newest helper wins; an older one idles out
    mine = os.stat(path).st_ino
    server.settimeout(5.0)
    last = time.monotonic()
    try:
        while time.monotonic() - last < idle_seconds:
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            last = time.monotonic()
            with conn:
                if not _handle(conn, answer):
                    return
    finally:
        server.close()
        with contextlib.suppress(OSError):
            if path.stat().st_ino == mine:  # not a newer helper's socket
                path.unlink()


def _handle(conn: socket.socket, answer: Callable[[dict[str, Any]], dict[str, Any]]) -> bool:
    """Answer one request; False on a shutdown request."""
    conn.settimeout(30.0)
    data = b""
    with contextlib.suppress(OSError):
        while not data.endswith(b"\n"):
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
    try:
        request = json.loads(data)
        if request.get("shutdown"):
            conn.sendall(b'{"ok": true}\n')
            return False
        reply = answer(request)
    except Exception as exc:
        reply = {"ok": None, "error": f"{type(exc).__name__}: {exc}"}
    with contextlib.suppress(OSError):
        conn.sendall(json.dumps(reply).encode() + b"\n")
    return True
