"""Run folders, the job lock and the ``latest`` pointer.

Layout under a job's destination::

    runs/20261124T193000.123456Z-1a2b3c/   one folder per run: results, manifests, run.json
    latest.json                     {"run": "runs/<id>"}: replaced only after a run fully succeeded
    .lock                           held while a run is in progress

``latest.json`` is written to a temporary file and renamed over the old one, so a reader
sees either the previous good run or the new one, never a half-written pointer, and a
failed run never moves it.

A run records the process that ran it (pid, host name, process start time). A run whose
``run.json`` still says ``"running"`` while that process is gone was killed: it is marked
``"abandoned"`` (by the next run of the job, or by ``job diff``) and is never a diff base.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from idcbq.errors import JobLockedError

LATEST = "latest.json"
RUNS = "runs"
RUN_RECORD = "run.json"


@dataclass(frozen=True)
class RunDir:
    """One run's folder."""

    root: Path
    run_id: str

    @property
    def path(self) -> Path:
        return self.root / RUNS / self.run_id

    @property
    def record_path(self) -> Path:
        return self.path / RUN_RECORD


def new_run(root: Path, now: datetime | None = None) -> RunDir:
    """Create a fresh, uniquely named run folder (UTC timestamp + random suffix).

    The stamp has microseconds so that run ids sort in the order the runs started, even
    for runs started within the same second (the random suffix only breaks exact ties).
    """
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S.%fZ")
    run = RunDir(root, f"{stamp}-{secrets.token_hex(3)}")
    run.path.mkdir(parents=True, exist_ok=False)
    return run


def process_identity(pid: int | None = None) -> dict[str, Any]:
    """``{"pid", "hostname", "process_start"}`` of a process (default: this one).

    ``process_start`` is the kernel's start time of the process (clock ticks since boot,
    from ``/proc``; None elsewhere), so a reused pid is not mistaken for the run's process.
    """
    pid = os.getpid() if pid is None else pid
    return {"pid": pid, "hostname": socket.gethostname(), "process_start": _start_ticks(pid)}


def _proc_stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may hold spaces: split after it.
    return text[text.rindex(")") + 2 :].split()


def _start_ticks(pid: int) -> int | None:
    fields = _proc_stat(pid)
    return int(fields[19]) if fields and len(fields) > 19 else None


def process_alive(identity: dict[str, Any]) -> bool | None:
    """Whether the process a run recorded is still running; None if it cannot be told.

    It cannot be told for a run started on another host, or recorded without a pid.
    """
    pid = identity.get("pid")
    if not isinstance(pid, int) or identity.get("hostname") != socket.gethostname():
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by someone else
    fields = _proc_stat(pid)
    if fields is None:
        return Path("/proc").is_dir() is False  # no /proc: trust kill(0)
    if fields[0] in ("Z", "X"):  # zombie or dead: killed, not yet reaped
        return False
    recorded = identity.get("process_start")
    return recorded is None or _start_ticks(pid) == recorded


def read_record(run: RunDir) -> dict[str, Any] | None:
    """A run's ``run.json`` (None if missing or unreadable)."""
    try:
        record = json.loads(run.record_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def mark_abandoned(root: Path) -> list[str]:
    """Mark every run still "running" whose process is gone as "abandoned"; return their ids."""
    runs_dir = root / RUNS
    marked: list[str] = []
    if not runs_dir.is_dir():
        return marked
    for path in sorted(runs_dir.iterdir()):
        run = RunDir(root, path.name)
        record = read_record(run)
        if not record or record.get("status") != "running":
            continue
        if process_alive(record.get("process") or {}) is False:
            record["status"] = "abandoned"
            record["abandoned_detected"] = datetime.now(UTC).isoformat()
            record.setdefault(
                "error",
                {"type": "Abandoned", "message": "the process running this job is gone "
                 "(killed or crashed); its outputs are incomplete", "exit_code": None},
            )  # fmt: skip
            write_json_atomic(run.record_path, record)
            marked.append(run.run_id)
    return marked


def write_json_atomic(path: Path, payload: dict[str, Any]) -> None:
    """Write JSON to ``path`` via a temp file + fsync + rename (all or nothing)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(payload, handle, indent=2, sort_keys=True, default=str)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
    from idcbq.io.localfs import publish

    publish(tmp, path)


def latest_run(root: Path) -> RunDir | None:
    """The last fully successful run, or None."""
    pointer = root / LATEST
    if not pointer.exists():
        return None
    data = json.loads(pointer.read_text(encoding="utf-8"))
    run = RunDir(root, Path(data["run"]).name)
    return run if run.record_path.exists() else None


def mark_latest(run: RunDir) -> None:
    """Point ``latest.json`` at ``run``; call only after the run fully succeeded."""
    write_json_atomic(
        run.root / LATEST, {"run": f"{RUNS}/{run.run_id}", "updated": datetime.now(UTC).isoformat()}
    )


@contextlib.contextmanager
def job_lock(root: Path, job_name: str) -> Iterator[None]:
    """Hold an exclusive, non-blocking lock for the job; raise JobLockedError if taken.

    ``flock`` is released by the kernel when the process dies, so a killed run never
    leaves a stale lock behind.
    """
    root.mkdir(parents=True, exist_ok=True)
    path = root / ".lock"
    handle = open(path, "a+")  # noqa: SIM115 - closed in finally
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise JobLockedError(
                f"job {job_name!r} is already running (lock {path} is held)",
                hint="wait for the other run to finish; the lock frees itself if that process dies",
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({"pid": os.getpid(), "since": datetime.now(UTC).isoformat()}))
        handle.flush()
        yield
    finally:
        handle.close()
