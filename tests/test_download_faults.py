"""Faults between the downloader and a real fake-gcs-server, injected by idcbq.testing.faults.

Whatever happens, no final path ever holds a partial or wrong file.
"""

from __future__ import annotations

import errno
import hashlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from idcbq.download import download
from idcbq.errors import ExitCode
from idcbq.manifest import write_manifest
from idcbq.testing.faults import Fault
from tests import child

pytestmark = pytest.mark.gcs


def assert_nothing_corrupt(dest: Path, seeded) -> int:
    """Every final .dcm holds exactly the object's bytes; no temp file is left. Returns the count."""
    md5 = {r["crdc_instance_uuid"]: r["instance_hash"] for r in seeded.rows}
    files = list(dest.rglob("*.dcm"))
    for path in files:
        assert hashlib.md5(path.read_bytes()).hexdigest() == md5[path.stem], path
    assert not [p for p in dest.rglob("*") if p.name.endswith(".idcbq-part")]
    return len(files)


def run(seeded, dest, proxy, **kw):
    kw.setdefault("backoff", 0.01)
    return download(seeded.table(), dest, endpoint=proxy.url, quiet=True, workers=8, **kw)


@pytest.mark.parametrize(
    "fault",
    [
        Fault("status", status=503, times=2),
        Fault("status", status=429, times=1),
        Fault("status", status=500, times=1),
        Fault("reset", times=1),
        Fault("truncate", times=1),
        Fault("truncate", times=1, strip_hash=True),
        Fault("corrupt", times=1),
        Fault("corrupt", times=2, strip_hash=True),
    ],
    ids=lambda f: (
        f"{f.kind}-{f.status if f.kind == 'status' else ''}-x{f.times}{'-nohash' if f.strip_hash else ''}"
    ),
)
def test_transient_faults_are_retried_to_success(seeded_gcs, fault_proxy, tmp_path, fault):
    fault_proxy.set_faults([fault])
    report = run(seeded_gcs, tmp_path, fault_proxy)
    assert report.ok, report.summary()
    n = len(seeded_gcs.rows)
    assert fault_proxy.injected[fault.kind] == n * fault.times
    assert report.retries == n * fault.times
    assert assert_nothing_corrupt(tmp_path, seeded_gcs) == n


def test_slow_responses_still_complete(seeded_gcs, fault_proxy, tmp_path):
    fault_proxy.set_faults([Fault("slow", delay=0.2, times=1)])
    report = run(seeded_gcs, tmp_path, fault_proxy)
    assert report.ok and report.retries == 0
    assert assert_nothing_corrupt(tmp_path, seeded_gcs) == len(seeded_gcs.rows)


def test_slow_response_beyond_timeout_is_retried(seeded_gcs, fault_proxy, tmp_path):
    victim = seeded_gcs.rows[0]["crdc_instance_uuid"]
    fault_proxy.set_faults([Fault("slow", match=victim, delay=3.0, times=1)])
    report = run(seeded_gcs, tmp_path, fault_proxy, timeout=0.5)
    assert report.ok, report.summary()
    assert report.retries >= 1  # the victim once; a loaded machine may push another past 0.5 s


@pytest.mark.parametrize("kind", ["corrupt", "truncate", "reset", "status"])
def test_permanent_fault_fails_that_file_only(seeded_gcs, fault_proxy, tmp_path, kind):
    victim = seeded_gcs.rows[5]["crdc_instance_uuid"]
    fault_proxy.set_faults([Fault(kind, match=victim, times=None, strip_hash=True)])
    report = run(seeded_gcs, tmp_path, fault_proxy, attempts=3)
    assert not report.ok
    assert [f[0].rsplit("/", 1)[-1] for f in report.failed] == [f"{victim}.dcm"]
    assert "after 3 attempts" in report.failed[0][2]
    assert not list(tmp_path.rglob(f"{victim}.dcm"))
    assert assert_nothing_corrupt(tmp_path, seeded_gcs) == len(seeded_gcs.rows) - 1
    # fixed server, same command: only the missing file is fetched
    fault_proxy.set_faults([])
    again = run(seeded_gcs, tmp_path, fault_proxy)
    assert again.ok and (again.downloaded, again.skipped) == (1, len(seeded_gcs.rows) - 1)


def test_disk_full_simulated_with_mock_write(seeded_gcs, gcs_server, tmp_path, monkeypatch):
    """MOCK: os.write raising ENOSPC stands in for a full disk (no local server can fill one)."""
    import idcbq.download.transfer as transfer

    calls = {"n": 0}
    real_write, real_writev = os.write, os.writev

    def full_after_5(real):
        def write(fd, data):
            calls["n"] += 1
            if calls["n"] > 5:
                raise OSError(errno.ENOSPC, "No space left on device")
            return real(fd, data)

        return write

    monkeypatch.setattr(transfer.os, "write", full_after_5(real_write))
    monkeypatch.setattr(transfer.os, "writev", full_after_5(real_writev))
    report = download(seeded_gcs.table(), tmp_path, endpoint=gcs_server.url, quiet=True, workers=2)
    assert not report.ok and report.aborted and "disk full" in report.aborted
    written = assert_nothing_corrupt(tmp_path, seeded_gcs)
    assert written <= 5
    assert len(report.failed) == len(seeded_gcs.rows) - written
    monkeypatch.setattr(transfer.os, "write", real_write)
    monkeypatch.setattr(transfer.os, "writev", real_writev)
    again = download(seeded_gcs.table(), tmp_path, endpoint=gcs_server.url, quiet=True)
    assert again.ok and again.skipped == written


@pytest.mark.slow
def test_killed_run_resumes_with_nothing_corrupt(seeded_gcs, fault_proxy, tmp_path):
    manifest = tmp_path / "m.parquet"
    write_manifest(seeded_gcs.table(), manifest, format="parquet")
    dest = tmp_path / "dest"
    fault_proxy.set_faults([Fault("slow", delay=0.4, times=None)])
    cmd = [sys.executable, "-m", "idcbq", "download", str(manifest), "--dest", str(dest),
           "--endpoint", fault_proxy.url, "--workers", "4", "--quiet"]  # fmt: skip
    with child.Child(cmd, logdir=tmp_path / "logs") as proc:
        assert proc.wait_until(lambda: len(list(dest.rglob("*.dcm"))) >= 4), proc.stderr()
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    partial = assert_nothing_corrupt_or_temp(dest, seeded_gcs)
    assert 0 < partial < len(seeded_gcs.rows)
    fault_proxy.set_faults([])
    done = child.run(cmd, timeout=120)
    assert done.returncode == ExitCode.OK, done.stderr
    assert assert_nothing_corrupt(dest, seeded_gcs) == len(seeded_gcs.rows)


def assert_nothing_corrupt_or_temp(dest: Path, seeded) -> int:
    """After SIGKILL temp files may remain (the next run removes them); final files must be whole."""
    md5 = {r["crdc_instance_uuid"]: r["instance_hash"] for r in seeded.rows}
    files = list(dest.rglob("*.dcm"))
    for path in files:
        assert hashlib.md5(path.read_bytes()).hexdigest() == md5[path.stem], path
    return len(files)


@pytest.mark.parametrize(
    "fault",
    [
        Fault("corrupt", times=1, strip_hash=True),
        Fault("reset", times=1),
        Fault("truncate", times=1),
    ],
)
def test_streaming_path_for_large_objects_verifies_too(
    seeded_gcs, fault_proxy, tmp_path, monkeypatch, fault
):
    """Objects above transfer.SMALL stream chunk by chunk; lower the threshold to exercise that path."""
    import idcbq.download.transfer as transfer

    monkeypatch.setattr(transfer, "SMALL", 0)
    monkeypatch.setattr(transfer, "CHUNK", 256)
    fault_proxy.set_faults([fault])
    report = run(seeded_gcs, tmp_path, fault_proxy)
    assert report.ok, report.summary()
    assert report.retries == len(seeded_gcs.rows)
    assert assert_nothing_corrupt(tmp_path, seeded_gcs) == len(seeded_gcs.rows)


def test_url_list_without_manifest_md5_is_verified_by_object_metadata(
    seeded_gcs, fault_proxy, tmp_path
):
    """A plain gs:// list has no sizes or MD5: the server's x-goog-hash catches corruption."""
    listing = tmp_path / "list.txt"
    listing.write_text("".join(
        f"gs://{r['gcs_bucket']}/{r['crdc_series_uuid']}/{r['crdc_instance_uuid']}.dcm\n" for r in seeded_gcs.rows
    ))  # fmt: skip
    fault_proxy.set_faults([Fault("corrupt", times=1)])
    report = download(listing, tmp_path / "d", endpoint=fault_proxy.url, quiet=True, backoff=0.01)
    assert report.ok and report.retries == len(seeded_gcs.rows)
    assert assert_nothing_corrupt(tmp_path / "d", seeded_gcs) == len(seeded_gcs.rows)
    # with no digest anywhere, nothing is accepted unverified
    fault_proxy.set_faults([Fault("slow", delay=0, times=None, strip_hash=True)])
    blind = download(listing, tmp_path / "e", endpoint=fault_proxy.url, quiet=True, backoff=0.01)
    assert not blind.ok and all("no MD5 or CRC32C" in f[2] for f in blind.failed)
    assert not list((tmp_path / "e").rglob("*.dcm"))


@pytest.mark.parametrize("times", [1, None], ids=["once", "always"])
def test_forged_object_metadata_cannot_get_wrong_bytes_accepted(
    seeded_gcs, fault_proxy, tmp_path, times
):
    """A proxy corrupts the body and restates CRC32C for the wrong bytes (MD5 header untouched).

    The manifest's MD5 is checked over the body itself, so the forgery is caught: retried
    to success when it happens once, reported failed (nothing at the final path) always.
    """
    victim = seeded_gcs.rows[3]["crdc_instance_uuid"]
    fault_proxy.set_faults([Fault("corrupt", match=victim, times=times, forge_crc32c=True)])
    report = run(seeded_gcs, tmp_path, fault_proxy, attempts=3)
    assert fault_proxy.injected["corrupt"] >= 1
    n = len(seeded_gcs.rows)
    if times == 1:
        assert report.ok and report.retries == 1, report.summary()
        assert assert_nothing_corrupt(tmp_path, seeded_gcs) == n
    else:
        assert not report.ok
        assert [f[0].rsplit("/", 1)[-1] for f in report.failed] == [f"{victim}.dcm"]
        assert "does not match manifest" in report.failed[0][2]
        assert assert_nothing_corrupt(tmp_path, seeded_gcs) == n - 1
        # a later run does not skip the missing file on size and mtime: it fetches it
        fault_proxy.set_faults([])
        again = run(seeded_gcs, tmp_path, fault_proxy)
        assert again.ok and again.downloaded == 1


def test_trickling_server_is_retried_then_reported_in_bounded_time(
    seeded_gcs, fault_proxy, tmp_path
):
    """1 byte/s on one file: each attempt ends at its deadline, the run ends, the rest is done."""
    victim = seeded_gcs.rows[7]["crdc_instance_uuid"]
    fault_proxy.set_faults([Fault("trickle", match=victim, times=None, rate=1.0)])
    # The run ending at all is the claim (each attempt has a deadline); how soon is bench's.
    report = run(seeded_gcs, tmp_path, fault_proxy, attempts=2, timeout=1.0)
    assert not report.ok and report.retries >= 1
    assert [f[0].rsplit("/", 1)[-1] for f in report.failed] == [f"{victim}.dcm"]
    reason = report.failed[0][2]
    assert ("stalled" in reason or "Timeout on reading" in reason) and "after 2 attempts" in reason
    assert fault_proxy.injected["trickle"] >= 1  # the proxy shares this process's GIL: under load
    # an attempt can run out of time before the proxy even reads the request
    assert assert_nothing_corrupt(tmp_path, seeded_gcs) == len(seeded_gcs.rows) - 1


def test_min_rate_bounds_an_attempt_even_while_bytes_keep_coming(seeded_gcs, fault_proxy, tmp_path):
    """Bytes arrive every 0.1 s (never a 1 s gap), but far below --min-rate: still given up."""
    victim = seeded_gcs.rows[2]["crdc_instance_uuid"]
    fault_proxy.set_faults([Fault("trickle", match=victim, times=None, rate=10.0)])
    report = run(seeded_gcs, tmp_path, fault_proxy, attempts=1, timeout=1.0, min_rate=4096)
    reasons = {f[0].rsplit("/", 1)[-1]: f[2] for f in report.failed}
    assert "stalled" in reasons[f"{victim}.dcm"]  # (a loaded machine may fail others too)


def test_cli_timeout_option_ends_a_stalled_run(seeded_gcs, fault_proxy, tmp_path):
    """`idcbq download --timeout 1 --retries 2` against a trickling server: exit 5 in bounded time."""
    manifest = tmp_path / "m.parquet"
    write_manifest(seeded_gcs.table(), manifest, format="parquet")
    fault_proxy.set_faults([Fault("trickle", times=None, rate=1.0)])
    cmd = [sys.executable, "-m", "idcbq", "download", str(manifest), "--dest", str(tmp_path / "d"),
           "--endpoint", fault_proxy.url, "--timeout", "1", "--retries", "2", "--quiet"]  # fmt: skip
    done = child.run(cmd, timeout=120)  # a hang guard: the deadlines end the run
    assert done.returncode == ExitCode.DOWNLOAD_FAILED, done.stderr
    assert "stalled" in done.stderr or "Timeout on reading" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    assert not list((tmp_path / "d").rglob("*.dcm"))
    assert not (tmp_path / "d").exists()  # nothing landed: the folders made are gone again


def test_unreachable_endpoint_stops_early(seeded_gcs, tmp_path):
    """Nothing listens at the endpoint: the run stops after one file's attempts, not every file's."""
    from idcbq.testing.servers import free_port

    dead = f"http://127.0.0.1:{free_port()}"
    report = download(
        seeded_gcs.table(), tmp_path / "d", endpoint=dead, quiet=True, workers=2, backoff=0.01
    )
    assert not report.ok and report.abort_kind == "unreachable"
    assert f"cannot connect to {dead}" in report.aborted
    assert len(report.failed) == len(seeded_gcs.rows)
    assert not (tmp_path / "d").exists()
    manifest = tmp_path / "m.parquet"
    write_manifest(seeded_gcs.table(), manifest, format="parquet")
    done = subprocess.run(
        [sys.executable, "-m", "idcbq", "download", str(manifest), "--dest", str(tmp_path / "d"), "--endpoint", dead, "-q"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == ExitCode.DOWNLOAD_FAILED
    assert f"cannot connect to {dead}" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize(
    "endpoint", ["not a url", "ftp://127.0.0.1/x", "127.0.0.1:4443", "http://", "http://h:99999"]
)
def test_endpoint_that_is_not_an_http_url_is_bad_input(tmp_path, endpoint, seeded_gcs):
    manifest = tmp_path / "m.parquet"
    write_manifest(seeded_gcs.table(), manifest, format="parquet")
    done = subprocess.run(
        [sys.executable, "-m", "idcbq", "download", str(manifest), "--dest", str(tmp_path / "d"), "--endpoint", endpoint],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == ExitCode.BAD_INPUT, done.stderr
    assert "is not an http(s) URL" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "d").exists()


def test_failed_run_leaves_no_empty_folders(seeded_gcs, fault_proxy, tmp_path):
    """Every file fails (404 for all): no series folder is made, the destination is removed."""
    fault_proxy.set_faults([Fault("status", status=404, times=None)])
    report = run(seeded_gcs, tmp_path / "d", fault_proxy, attempts=1)
    assert not report.ok and len(report.failed) == len(seeded_gcs.rows)
    assert not (tmp_path / "d").exists()
    # half of them fail: only folders holding a file remain
    victims = {r["crdc_series_uuid"] for r in seeded_gcs.rows[:8]}
    fault_proxy.set_faults([Fault("status", status=404, match=v, times=None) for v in victims])
    report = run(seeded_gcs, tmp_path / "d", fault_proxy, attempts=1)
    assert report.downloaded == len(seeded_gcs.rows) - 8
    assert all(any(p.iterdir()) for p in (tmp_path / "d").rglob("*") if p.is_dir())
