"""Two ``idcbq download`` processes into one ``--dest``: the second stops, the first is unharmed.

Real processes against the real fake-gcs-server behind the fault proxy (slowed down so
the first run is still busy when the second starts).
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from idcbq.download import LOCK_NAME
from idcbq.errors import ExitCode
from idcbq.manifest import write_manifest
from idcbq.testing.faults import Fault
from tests import child
from tests.test_download_faults import assert_nothing_corrupt

pytestmark = pytest.mark.gcs


def test_second_download_into_the_same_dest_is_refused(seeded_gcs, fault_proxy, tmp_path):
    manifest = tmp_path / "m.parquet"
    write_manifest(seeded_gcs.table(), manifest, format="parquet")
    dest = tmp_path / "dest"
    cmd = [sys.executable, "-m", "idcbq", "download", str(manifest), "--dest", str(dest),
           "--endpoint", fault_proxy.url, "--workers", "2", "--quiet"]  # fmt: skip
    fault_proxy.set_faults([Fault("slow", delay=0.4, times=None)])
    with child.Child(cmd, logdir=tmp_path / "logs") as first:
        got_going = first.wait_until(lambda: bool(list(dest.rglob("*.dcm"))), timeout=60)
        assert got_going, "the first run never got going"
        second = child.run(cmd, timeout=120)
        assert second.returncode == ExitCode.LOCKED, second.stderr
        assert f"another download is using {dest}" in second.stderr
        assert "Traceback" not in second.stderr
        code, err = first.wait(timeout=180), first.stderr()
    assert code == ExitCode.OK, err  # its temp files were left alone
    assert assert_nothing_corrupt(dest, seeded_gcs) == len(seeded_gcs.rows)
    # the lock dies with its process: a later run is not blocked, and has nothing to do
    fault_proxy.set_faults([])
    third = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert third.returncode == ExitCode.OK, third.stderr
    assert f"0 downloaded, {len(seeded_gcs.rows)} already present" in third.stdout
    assert (dest / LOCK_NAME).exists()


def test_lock_of_a_killed_run_does_not_block(seeded_gcs, gcs_server, tmp_path):
    """A run killed with SIGKILL leaves its lock file; the kernel dropped the lock itself."""
    import os
    import signal

    manifest = tmp_path / "m.parquet"
    write_manifest(seeded_gcs.table(), manifest, format="parquet")
    dest = tmp_path / "dest"
    dest.mkdir()
    holder = child.Child(
        [sys.executable, "-c", "import sys, time; from pathlib import Path; "
         "from idcbq.download.lock import DestLock; DestLock(Path(sys.argv[1])).acquire(); "
         "print('locked', flush=True); time.sleep(600)", str(dest)],
        logdir=tmp_path / "logs",
    )  # fmt: skip
    assert holder.wait_for("locked", stream="stdout"), holder.stderr()
    cmd = [sys.executable, "-m", "idcbq", "download", str(manifest), "--dest", str(dest),
           "--endpoint", gcs_server.url, "--quiet"]  # fmt: skip
    blocked = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert blocked.returncode == ExitCode.LOCKED, blocked.stderr
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode == ExitCode.OK, done.stderr
    assert assert_nothing_corrupt(dest, seeded_gcs) == len(seeded_gcs.rows)
