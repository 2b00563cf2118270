"""Slow but live transfers (issue 17 d), through ``idcbq download`` and the fault proxy.

The proxy's ``trickle`` mode sends one byte at a time in front of the real fake-gcs-server,
so a body arrives in thousands of tiny chunks (more than the OS takes in one ``writev``).
A transfer faster than ``--min-rate`` completes; a slower one ends at its deadline, is
retried, and is reported per file in words, never as an OS error text.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from idcbq.manifest import write_manifest
from idcbq.testing.faults import Fault, FaultProxy
from tests.fixtures.downloads import Seeded, objects_of, synthetic_instances

pytestmark = pytest.mark.gcs

SIZE = 3072  # > 1024 one-byte chunks per body: more buffers than one writev takes


@pytest.fixture(scope="module")
def slow_files(gcs_server) -> Seeded:
    """Two files of SIZE bytes each, uploaded to the session's fake-gcs-server."""
    from idcbq.sources.sample.seed import upload_objects

    seeded = synthetic_instances(n_series=1, per_series=2, tag="slow17")
    for i, row in enumerate(seeded.rows):
        body = bytes((i + j) % 251 for j in range(SIZE))
        seeded.data[row["crdc_instance_uuid"]] = body
        row["instance_size"] = len(body)
        row["instance_hash"] = hashlib.md5(body).hexdigest()
    upload_objects("gcs", gcs_server.url, objects_of(seeded))
    return seeded


def idcbq(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    out, err = tmp_path / "stdout", tmp_path / "stderr"
    with out.open("w") as o, err.open("w") as e:
        code = subprocess.run(
            [sys.executable, "-m", "idcbq", *args], stdout=o, stderr=e, timeout=300,
            env=os.environ.copy(),
        ).returncode  # fmt: skip
    return subprocess.CompletedProcess(args, code, out.read_text(), err.read_text())


def trickle_download(tmp_path, gcs_server, seeded, rate, *opts):
    manifest = tmp_path / "m.parquet"
    write_manifest(seeded.table(), manifest, format="parquet")
    with FaultProxy(gcs_server.url, [Fault("trickle", times=None, rate=rate)]) as proxy:
        done = idcbq(tmp_path, "download", str(manifest), "--dest", str(tmp_path / "d"),
                     "--endpoint", proxy.url, "--quiet", "--workers", "2", *opts)  # fmt: skip
        return done, proxy.injected["trickle"]


def test_min_rate_below_the_trickle_rate_completes(tmp_path, gcs_server, slow_files):
    done, trickled = trickle_download(
        tmp_path, gcs_server, slow_files, 4000, "--timeout", "5", "--min-rate", "100"
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert trickled >= 2
    got = sorted((tmp_path / "d").rglob("*.dcm"))
    assert len(got) == 2
    want = {r["crdc_instance_uuid"]: r["instance_hash"] for r in slow_files.rows}
    for path in got:
        assert hashlib.md5(path.read_bytes()).hexdigest() == want[path.stem]
    assert "Errno" not in done.stdout + done.stderr


def test_min_rate_above_the_trickle_rate_retries_and_reports_in_words(
    tmp_path, gcs_server, slow_files
):
    done, trickled = trickle_download(tmp_path, gcs_server, slow_files, 2000, "--timeout",
                                      "0.3", "--min-rate", "100K", "--retries", "2")  # fmt: skip
    assert done.returncode == 5, done.stdout + done.stderr
    assert trickled >= 2  # (an attempt may end before the proxy even reads its request)
    text = done.stdout + done.stderr
    assert "Traceback" not in text and "Errno" not in text and "OSError" not in text, text
    lines = [line for line in text.splitlines() if "too slow" in line]
    assert len(lines) == 2, text  # one per file, in words
    for row in slow_files.rows:
        assert any(row["crdc_instance_uuid"] in line for line in lines)
    assert all("after 2 attempts" in line and "--timeout" in line for line in lines), lines
    assert not list((tmp_path / "d").rglob("*.dcm"))
    assert not [p for p in (tmp_path / "d").rglob("*") if p.name.endswith(".idcbq-part")]
