"""The AWS path against a real moto S3 server: idcbq download and s5cmd on idcbq manifests."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from idcbq.download import download
from idcbq.manifest import write_manifest

pytestmark = pytest.mark.s3


def _md5s(dest: Path) -> dict[str, str]:
    return {p.stem: hashlib.md5(p.read_bytes()).hexdigest() for p in dest.rglob("*.dcm")}


def test_download_from_s3_with_a_gcs_manifest(seeded_s3, s3_server, tmp_path):
    manifest = tmp_path / "m.parquet"
    write_manifest(seeded_s3.table(), manifest, format="parquet", provider="gcs")
    report = download(manifest, tmp_path / "d", provider="aws", endpoint=s3_server.url, quiet=True)
    assert report.ok, report.summary()
    assert _md5s(tmp_path / "d") == {
        r["crdc_instance_uuid"]: r["instance_hash"] for r in seeded_s3.rows
    }


def test_series_level_portal_manifest_is_listed_on_s3(seeded_s3, s3_server, tmp_path):
    manifest = tmp_path / "portal.s5cmd"
    write_manifest(seeded_s3.table(), manifest, format="s5cmd", level="series", provider="aws")
    report = download(manifest, tmp_path / "d", endpoint=s3_server.url, quiet=True)
    assert report.ok, report.summary()
    got = {p.relative_to(tmp_path / "d").as_posix() for p in (tmp_path / "d").rglob("*.dcm")}
    assert got == {f"{r['crdc_series_uuid']}/{r['crdc_instance_uuid']}.dcm" for r in seeded_s3.rows}


def s5cmd_binary() -> str:
    exe = shutil.which("s5cmd", path=str(Path(sys.executable).parent)) or shutil.which("s5cmd")
    assert exe, "the s5cmd package (dev dependency) ships the binary"
    return exe


@pytest.mark.parametrize("level", ["series", "instance"])
def test_s5cmd_runs_idcbq_manifests(seeded_s3, s3_server, tmp_path, level):
    manifest = tmp_path / "m.s5cmd"
    write_manifest(
        seeded_s3.table(), manifest, format="s5cmd", level=level, provider="aws", s5cmd_dest="out/"
    )
    header = manifest.read_text().splitlines()[2]
    assert header.startswith(
        "# s5cmd --no-sign-request --endpoint-url https://s3.amazonaws.com run"
    )
    # run it exactly as the header says, with only the endpoint pointed at the local server
    cmd = [
        s5cmd_binary(),
        "--no-sign-request",
        "--endpoint-url",
        s3_server.url,
        "run",
        str(manifest),
    ]
    done = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert _md5s(tmp_path / "out") == {
        r["crdc_instance_uuid"]: r["instance_hash"] for r in seeded_s3.rows
    }
