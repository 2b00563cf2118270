"""Local file system failures, for real: a full disk, a read-only mount, paths that cannot be files.

Each must end in one error line naming the path, exit code 8, no traceback, and no temp
or partial file. The disk is a small tmpfs the test mounts (root only: skipped with a
reason otherwise); read-only is that tmpfs remounted ``ro`` (root ignores chmod, a
read-only mount it cannot ignore); EACCES is a chmod'ed folder written by an
unprivileged user (``setpriv`` to ``nobody``). All runs are real ``idcbq`` processes.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from idcbq.errors import ExitCode
from idcbq.manifest import write_manifest
from tests.test_download_faults import assert_nothing_corrupt

ROOT = os.geteuid() == 0
needs_root = pytest.mark.skipif(not ROOT, reason="mounting a tmpfs needs root")
SQL = "SELECT * FROM dicom_all ORDER BY crdc_instance_uuid LIMIT 300"


def idcbq(
    *args: str, env: dict[str, str] | None = None, user: str | None = None
) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "idcbq", *args]
    if user:
        cmd = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", *cmd]
    return subprocess.run(
        cmd, capture_output=True, text=True, timeout=300, env={**os.environ, **(env or {})}
    )


def assert_one_line_error(done: subprocess.CompletedProcess, code: int, *needles: str) -> None:
    assert done.returncode == code, (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, done.stderr
    for needle in needles:
        assert needle in errors[0], errors[0]


def leftovers(folder: Path, allowed: set[str]) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.name not in allowed)


@pytest.fixture
def tmpfs(tmp_path):
    """``tmpfs(size)`` mounts a fresh tmpfs of ``size`` (e.g. ``"256k"``) and returns its path."""
    if not ROOT:
        pytest.skip("mounting a tmpfs needs root")
    mounted: list[Path] = []

    def mount(size: str) -> Path:
        path = tmp_path / f"fs{len(mounted)}"
        path.mkdir()
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(path)],
                              capture_output=True, text=True)  # fmt: skip
        if done.returncode:
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
        mounted.append(path)
        return path

    yield mount
    for path in reversed(mounted):
        subprocess.run(["umount", "-l", str(path)], check=False)


def fill(fs: Path, leave: int) -> Path:
    """Fill ``fs`` up to ``leave`` free bytes with one file; return it."""
    st = os.statvfs(fs)
    filler = fs / "filler"
    with open(filler, "wb") as fh:
        try:
            fh.write(b"\0" * max(0, st.f_bavail * st.f_frsize - leave))
            fh.flush()
        except OSError:
            pass
    return filler


def remount(fs: Path, mode: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{mode}", str(fs)], check=True)


@pytest.fixture
def sql_env(sample_root):
    return {"IDCBQ_SOURCE": str(sample_root)}


# -- disk full ---------------------------------------------------------------------------


@needs_root
@pytest.mark.parametrize("suffix", [".parquet", ".csv", ".jsonl", ".json"])
def test_sql_out_on_a_full_disk(tmpfs, sql_env, suffix):
    fs = tmpfs("512k")
    fill(fs, 16 << 10)
    out = fs / f"r{suffix}"
    done = idcbq("sql", SQL, "--out", str(out), env=sql_env)
    assert_one_line_error(done, ExitCode.LOCAL_FS, f"cannot write {out}", "no space left on device")
    assert leftovers(fs, {"filler"}) == []


@needs_root
@pytest.mark.parametrize("fmt", ["s5cmd", "urls", "jsonl", "csv", "parquet"])
def test_manifest_on_a_full_disk(tmpfs, seeded_gcs, tmp_path, fmt):
    results = tmp_path / "r.parquet"
    import pyarrow.parquet as pq

    pq.write_table(seeded_gcs.table(), results)
    fs = tmpfs("256k")
    fill(fs, 0)
    out = fs / f"m.{fmt}"
    done = idcbq("manifest", str(results), "--out", str(out), "--format", fmt)
    assert_one_line_error(done, ExitCode.LOCAL_FS, "no space left on device", str(fs))
    assert leftovers(fs, {"filler"}) == []


@needs_root
@pytest.mark.parametrize("leave_kb", [0, 12, 48])
def test_download_on_a_full_disk_then_resume(tmpfs, seeded_gcs, gcs_server, tmp_path, leave_kb):
    """The resume database or a file meets ENOSPC: exit 8 naming the folder; nothing wrong left.

    With 0 KB free the resume database cannot be created; with a little room some files
    land first and the database or the next file runs out. After freeing space the same
    command completes.
    """
    manifest = tmp_path / "m.parquet"
    write_manifest(seeded_gcs.table(), manifest, format="parquet")
    fs = tmpfs("512k")
    filler = fill(fs, leave_kb << 10)
    dest = fs / "dest"
    cmd = ["download", str(manifest), "--dest", str(dest), "--endpoint", gcs_server.url, "--quiet"]
    done = idcbq(*cmd)
    assert_one_line_error(done, ExitCode.LOCAL_FS, str(dest))
    assert any(
        s in done.stderr for s in ("no space left", "disk full", "database or disk is full")
    ), done.stderr
    if dest.exists():
        assert not [
            p for p in dest.rglob("*") if p.name.endswith((".idcbq-part", ".tmp", ".partial"))
        ]
        assert_nothing_corrupt(dest, seeded_gcs)
        assert all(any(p.iterdir()) for p in dest.rglob("*") if p.is_dir())  # no empty folders
    filler.unlink()
    again = idcbq(*cmd)
    assert again.returncode == ExitCode.OK, again.stderr
    assert assert_nothing_corrupt(dest, seeded_gcs) == len(seeded_gcs.rows)


# -- read-only and permission denied -----------------------------------------------------


@needs_root
def test_read_only_complete_tree_reruns_with_nothing_to_do(tmpfs, seeded_gcs, gcs_server, tmp_path):
    manifest = tmp_path / "m.jsonl"
    write_manifest(seeded_gcs.table(), manifest, format="jsonl")
    fs = tmpfs("2m")
    dest = fs / "dest"
    cmd = ["download", str(manifest), "--dest", str(dest), "--endpoint", gcs_server.url, "--quiet"]
    assert idcbq(*cmd).returncode == ExitCode.OK
    n = len(seeded_gcs.rows)
    remount(fs, "ro")
    done = idcbq(*cmd)
    assert done.returncode == ExitCode.OK, done.stderr
    assert f"0 downloaded, {n} already present" in done.stdout
    # one file missing: the tree needs a write it cannot get -> exit 8 naming dest
    remount(fs, "rw")
    next(dest.rglob("*.dcm")).unlink()
    remount(fs, "ro")
    done = idcbq(*cmd)
    assert_one_line_error(
        done, ExitCode.LOCAL_FS, f"cannot write into {dest}", "1 of 24 files still to fetch"
    )
    remount(fs, "rw")
    assert assert_nothing_corrupt(dest, seeded_gcs) == n - 1


@needs_root
def test_read_only_outputs(tmpfs, sql_env, seeded_gcs, tmp_path):
    results = tmp_path / "r.parquet"
    import pyarrow.parquet as pq

    pq.write_table(seeded_gcs.table(), results)
    fs = tmpfs("1m")
    remount(fs, "ro")
    done = idcbq("sql", SQL, "--out", str(fs / "r.parquet"), env=sql_env)
    assert_one_line_error(
        done, ExitCode.LOCAL_FS, f"cannot write {fs / 'r.parquet'}", "read-only file system"
    )
    done = idcbq("manifest", str(results), "--out", str(fs / "m.s5cmd"))
    assert_one_line_error(done, ExitCode.LOCAL_FS, "read-only file system", str(fs))
    done = idcbq(
        "download", str(results), "--dest", str(fs / "new"), "--endpoint", "http://127.0.0.1:9"
    )
    assert_one_line_error(
        done, ExitCode.LOCAL_FS, f"cannot create {fs / 'new'}", "read-only file system"
    )
    assert os.listdir(fs) == []


@needs_root
def test_permission_denied_for_an_unprivileged_user(seeded_gcs, gcs_server, sql_env):
    """EACCES needs a user chmod binds: run as ``nobody`` against a root-owned 0555 folder."""
    if shutil.which("setpriv") is None:
        pytest.skip("setpriv (util-linux) is not installed")
    base = Path(f"/tmp/idcbq-eacces-{os.getpid()}")
    base.mkdir(mode=0o755)
    try:
        results = base / "r.parquet"
        import pyarrow.parquet as pq

        pq.write_table(seeded_gcs.table(), results)
        os.chmod(results, 0o644)
        locked = base / "locked"
        locked.mkdir(mode=0o555)
        env = {**sql_env, "HOME": str(base), "XDG_CACHE_HOME": str(base / "cache")}
        probe = idcbq("--version", user="65534", env=env)
        if probe.returncode != 0:
            pytest.skip(f"the venv is not usable by nobody: {probe.stderr.strip()[:200]}")
        done = idcbq(
            "manifest", str(results), "--out", str(locked / "m.jsonl"), user="65534", env=env
        )
        assert_one_line_error(done, ExitCode.LOCAL_FS, "permission denied", str(locked))
        done = idcbq("download", str(results), "--dest", str(locked / "d"), "--endpoint", gcs_server.url,
                     user="65534", env=env)  # fmt: skip
        assert_one_line_error(
            done, ExitCode.LOCAL_FS, f"cannot create {locked / 'd'}", "permission denied"
        )
        assert os.listdir(locked) == []
    finally:
        shutil.rmtree(base, ignore_errors=True)


# -- paths that cannot be files or folders (no root needed) -------------------------------


def _not_a_place(tmp_path: Path, kind: str, name: str) -> Path:
    if kind == "under-a-file":
        (tmp_path / "plain.txt").write_text("x")
        return tmp_path / "plain.txt" / name
    if kind == "dev-null":
        return Path("/dev/null")
    return Path("/proc") / name


@pytest.mark.parametrize("kind", ["under-a-file", "dev-null", "proc"])
def test_dest_that_cannot_be_a_folder(tmp_path, seeded_gcs, gcs_server, kind):
    manifest = tmp_path / "m.parquet"
    write_manifest(seeded_gcs.table(), manifest, format="parquet")
    dest = _not_a_place(tmp_path, kind, "idcbq-dest")
    done = idcbq("download", str(manifest), "--dest", str(dest), "--endpoint", gcs_server.url)
    assert_one_line_error(done, ExitCode.LOCAL_FS, str(dest))
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


@pytest.mark.parametrize("kind", ["under-a-file", "dev-null", "proc"])
def test_out_that_cannot_be_a_file(tmp_path, seeded_gcs, sql_env, kind):
    results = tmp_path / "r.parquet"
    import pyarrow.parquet as pq

    pq.write_table(seeded_gcs.table(), results)
    out = _not_a_place(tmp_path, kind, "idcbq-out.parquet")
    done = idcbq("sql", "SELECT 1 AS x", "--out", str(out), env=sql_env)
    assert_one_line_error(done, ExitCode.LOCAL_FS, f"cannot write {out}")
    manifest_out = out if kind == "dev-null" else out.with_name("m.s5cmd")
    done = idcbq("manifest", str(results), "--out", str(manifest_out), "--format", "s5cmd")
    assert_one_line_error(done, ExitCode.LOCAL_FS, f"cannot write {manifest_out}")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)  # never replaced by a regular file
    assert not list(Path("/dev").glob(".null.*"))
