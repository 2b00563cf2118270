"""Run folders, the job lock and the ``latest`` pointer.

Layout under a job's destination::

    runs/20261124T193000.123456Z-1a2b3c/   one folder per run: results, manifests, run.json
    latest.json                     {"run": "runs/<id>"}: replaced only after a run fully succeeded
    .lock                           held while a run is in progress

``latest.json`` is written to a temporary file and renamed over the old one, so a reader
sees either the previous good run or the new one, never a half-written pointer, and a
failed run never moves it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
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


def write_json_atomic(path: Path, payload: dict[str, Any]) -> None:
    """Write JSON to ``path`` via a temp file + fsync + rename (all or nothing)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(payload, handle, indent=2, sort_keys=True, default=str)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


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
