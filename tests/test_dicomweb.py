"""DICOMweb: URLs in manifests, and downloads by WADO-RS from a real Orthanc on loopback."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from idcbq.download import STATE_NAME
from idcbq.download.dicomweb import download_dicomweb
from idcbq.errors import DownloadError, ExitCode, ManifestError, UsageError
from idcbq.manifest import write_manifest
from idcbq.manifest.dicomweb_urls import (
    DICOMWEB_PUBLIC_PROXY,
    healthcare_gap,
    healthcare_store_url,
)
from idcbq.testing.faults import Fault, FaultProxy


def _cli():
    return __import__("idcbq.cli", fromlist=["cli"]).cli


def _files(dest: Path) -> list[Path]:
    return sorted(dest.rglob("*.dcm"))


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


# -- URLs in manifests ------------------------------------------------------------------


def test_instance_manifest_has_dicomweb_series_and_instance_urls(sample_root, tmp_path):
    import idcbq

    with idcbq.connect(source=sample_root, idc_version="v25") as client:
        result = client.query("cohort.series_by_modality", modalities=["SEG"], limit=2)
        write_manifest(result, tmp_path / "m.jsonl", format="jsonl", engine=client.engine)
    rows = _jsonl(tmp_path / "m.jsonl")
    assert rows
    for row in rows:
        series = (
            f"{DICOMWEB_PUBLIC_PROXY}/studies/{row['StudyInstanceUID']}"
            f"/series/{row['SeriesInstanceUID']}"
        )
        assert row["dicomweb_series_url"] == series
        assert row["dicomweb_instance_url"] == f"{series}/instances/{row['SOPInstanceUID']}"


def test_dicomweb_base_from_argument_and_environment(seeded_orthanc, tmp_path, monkeypatch):
    table = seeded_orthanc.table().slice(0, 3)
    write_manifest(table, tmp_path / "a.jsonl", format="jsonl", dicomweb_url="http://h/dw/")
    assert all(r["dicomweb_series_url"].startswith("http://h/dw/studies/") for r in _jsonl(tmp_path / "a.jsonl"))  # fmt: skip
    monkeypatch.setenv("IDCBQ_DICOMWEB_URL", "http://env/dicom-web")
    write_manifest(table, tmp_path / "b.jsonl", format="jsonl")
    got = _jsonl(tmp_path / "b.jsonl")
    assert all(r["dicomweb_instance_url"].startswith("http://env/dicom-web/studies/") for r in got)


def test_healthcare_store_warns_about_other_buckets():
    base = healthcare_store_url(25)
    assert base.endswith("/datasets/idc/dicomStores/idc-store-v25/dicomWeb")
    assert healthcare_gap(base, ["idc-open-data", "idc-open-data"]) is None
    warning = healthcare_gap(base, ["idc-open-data", "idc-open-idc1", "idc-open-cr", "idc-open-cr"])
    assert "idc-open-idc1 (1)" in warning and "idc-open-cr (2)" in warning
    assert "3 row(s)" in warning
    assert healthcare_gap(DICOMWEB_PUBLIC_PROXY, ["idc-open-idc1"]) is None


def test_plan_against_healthcare_store_notes_the_gap(tmp_path):
    rows = [
        {"StudyInstanceUID": "1.2", "SeriesInstanceUID": "1.2.3", "SOPInstanceUID": f"1.2.3.{i}",
         "crdc_series_uuid": "s", "crdc_instance_uuid": f"i{i}", "gcs_bucket": b,
         "aws_bucket": b, "instance_size": 1, "instance_hash": "0" * 32}
        for i, b in enumerate(["idc-open-data", "idc-open-idc1"])
    ]  # fmt: skip
    from idcbq.download.dicomweb import plan_dicomweb

    plan = plan_dicomweb(pa.Table.from_pylist(rows), tmp_path, base=healthcare_store_url(25))
    assert len(plan.items) == 2
    assert any("idc-open-idc1 (1)" in n for n in plan.notes)


# -- downloads from Orthanc ---------------------------------------------------------------


def test_download_by_wado_rs_verifies_md5_of_stored_instances(seeded_orthanc, tmp_path):
    manifest = tmp_path / "m.parquet"
    write_manifest(seeded_orthanc.table(), manifest, format="parquet")
    dest = tmp_path / "out"
    result = CliRunner().invoke(
        _cli(),
        ["download", str(manifest), "--dest", str(dest), "--transport", "dicomweb",
         "--dicomweb-url", seeded_orthanc.dicomweb_url, "-q", "--report", str(tmp_path / "r.json")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output + repr(result.exception)
    report = json.loads((tmp_path / "r.json").read_text())
    n = len(seeded_orthanc.rows)
    assert report["transport"] == "dicomweb"
    assert report["downloaded"] == n and report["verified_md5"] == n and report["verified_uid"] == 0
    assert "by size+MD5 of the stored instance" in result.output
    files = _files(dest)
    assert len(files) == n
    by_name = {f"{r['crdc_instance_uuid']}.dcm": r for r in seeded_orthanc.rows}
    for path in files:
        row = by_name[path.name]
        assert path.read_bytes() == seeded_orthanc.data[row["SOPInstanceUID"]]
        assert hashlib.md5(path.read_bytes()).hexdigest() == row["instance_hash"]
        assert path.parent.name == f"{row['Modality']}_{row['SeriesInstanceUID']}"
    assert not list(dest.rglob("*.idcbq-part"))


def test_rerun_skips_verified_files(seeded_orthanc, tmp_path):
    table = seeded_orthanc.table()
    first = download_dicomweb(table, tmp_path, dicomweb_url=seeded_orthanc.dicomweb_url, quiet=True)
    assert first.ok and first.downloaded == table.num_rows
    victim = _files(tmp_path)[0]
    victim.write_bytes(b"damaged")
    again = download_dicomweb(table, tmp_path, dicomweb_url=seeded_orthanc.dicomweb_url, quiet=True)
    assert again.ok
    assert (again.downloaded, again.skipped) == (1, table.num_rows - 1)
    assert hashlib.md5(victim.read_bytes()).hexdigest() in {r["instance_hash"] for r in seeded_orthanc.rows}  # fmt: skip


def test_wrong_md5_in_manifest_fails_and_leaves_no_file(seeded_orthanc, tmp_path):
    rows = [{k: r.get(k) for k in seeded_orthanc.table().schema.names} for r in seeded_orthanc.rows[:3]]  # fmt: skip
    rows[1]["instance_hash"] = "0" * 32
    report = download_dicomweb(
        pa.Table.from_pylist(rows), tmp_path, dicomweb_url=seeded_orthanc.dicomweb_url,
        quiet=True, attempts=2,
    )  # fmt: skip
    assert not report.ok
    assert report.downloaded == 2 and len(report.failed) == 1
    assert "MD5" in report.failed[0][2] and "not the stored instance" in report.failed[0][2]
    assert len(_files(tmp_path)) == 2
    assert not list(tmp_path.rglob("*.idcbq-part"))


def test_unknown_instance_is_a_failure_with_exit_code(seeded_orthanc, tmp_path):
    rows = [{k: r.get(k) for k in seeded_orthanc.table().schema.names} for r in seeded_orthanc.rows[:2]]  # fmt: skip
    rows[0]["SOPInstanceUID"] = "1.2.3.999999"
    manifest = tmp_path / "m.parquet"
    write_manifest(pa.Table.from_pylist(rows), manifest, format="parquet")
    result = CliRunner().invoke(
        _cli(),
        ["download", str(manifest), "--dest", str(tmp_path / "out"), "--transport", "dicomweb",
         "--dicomweb-url", seeded_orthanc.dicomweb_url, "-q"],
    )  # fmt: skip
    assert isinstance(result.exception, DownloadError)
    assert result.exception.exit_code == ExitCode.DOWNLOAD_FAILED
    assert "HTTP 404" in result.output
    assert len(_files(tmp_path / "out")) == 1


def test_corrupt_bodies_are_retried_and_never_land(seeded_orthanc, tmp_path):
    table = seeded_orthanc.table().slice(0, 10)
    faults = [Fault("corrupt", match="/instances/", times=1)]
    with FaultProxy(seeded_orthanc.server.url, faults) as proxy:
        report = download_dicomweb(
            table, tmp_path, dicomweb_url=f"{proxy.url}/dicom-web", quiet=True, workers=4
        )
        assert proxy.injected["corrupt"] == 10
    assert report.ok, report.summary()
    assert report.retries >= 10 and report.verified_md5 == 10
    for path in _files(tmp_path):
        assert hashlib.md5(path.read_bytes()).hexdigest() in set(table.column("instance_hash").to_pylist())  # fmt: skip


def test_idc_index_series_rows_expand_by_qido_and_verify_uids(seeded_orthanc, tmp_path):
    """Series rows from --source idc-index (no instances, no MD5): QIDO-RS finds the instances."""
    import idcbq

    series = sorted({r["SeriesInstanceUID"] for r in seeded_orthanc.rows})[:4]
    with idcbq.connect(source="idc-index") as client:
        result = client.sql(
            "SELECT collection_id, PatientID, StudyInstanceUID, SeriesInstanceUID, Modality, "
            "crdc_series_uuid, aws_bucket, series_aws_url FROM index "
            "WHERE SeriesInstanceUID IN UNNEST(@s)",
            params={"s": series},
        )
    assert result.to_arrow().num_rows == 4
    report = download_dicomweb(
        result, tmp_path, dicomweb_url=seeded_orthanc.dicomweb_url, quiet=True
    )
    expected = [r for r in seeded_orthanc.rows if r["SeriesInstanceUID"] in series]
    assert report.ok, report.summary()
    assert report.downloaded == len(expected) == report.verified_uid
    assert "parse + UID check" in report.summary()
    got = {p.name for p in _files(tmp_path)}
    assert got == {f"{r['SOPInstanceUID']}.dcm" for r in expected}


def test_text_lists_are_refused_for_dicomweb(tmp_path):
    manifest = tmp_path / "m.txt"
    manifest.write_text("gs://idc-open-data/abc/def.dcm\n")
    with pytest.raises(ManifestError, match="no DICOM UIDs"):
        download_dicomweb(manifest, tmp_path / "out", dicomweb_url="http://127.0.0.1:9/dw")


def test_bad_dicomweb_url_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="not an http"):
        download_dicomweb(tmp_path / "m.parquet", tmp_path, dicomweb_url="ftp://x/dicom-web")


def test_killed_mid_way_then_rerun_completes(seeded_orthanc, tmp_path):
    """A real SIGKILL of the CLI process mid-download; the same command then completes."""
    manifest = tmp_path / "m.parquet"
    write_manifest(seeded_orthanc.table(), manifest, format="parquet")
    dest = tmp_path / "out"
    n = len(seeded_orthanc.rows)
    slow = [Fault("slow", match="/instances/", times=None, delay=0.2)]
    with FaultProxy(seeded_orthanc.server.url, slow) as proxy:
        cmd = [sys.executable, "-m", "idcbq", "download", str(manifest), "--dest", str(dest),
               "--transport", "dicomweb", "--dicomweb-url", f"{proxy.url}/dicom-web",
               "--workers", "2", "-q"]  # fmt: skip
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while len(_files(dest)) < 5 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    partial = len(_files(dest))
    assert 5 <= partial < n
    assert (dest / STATE_NAME).exists()
    rerun = subprocess.run(
        [*cmd[:-5], "--dicomweb-url", seeded_orthanc.dicomweb_url, "--workers", "4", "-q",
         "--report", str(tmp_path / "r.json")],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert rerun.returncode == 0, rerun.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["ok"] and report["downloaded"] + report["skipped"] == n
    assert report["skipped"] >= partial - 2  # files caught mid-rename are fetched again
    assert len(_files(dest)) == n
    hashes = {r["instance_hash"] for r in seeded_orthanc.rows}
    assert {hashlib.md5(p.read_bytes()).hexdigest() for p in _files(dest)} == hashes
    assert not list(dest.rglob("*.idcbq-part"))


def test_manifest_for_healthcare_store_warns_about_other_buckets(tmp_path):
    rows = [
        {"StudyInstanceUID": "1.2", "SeriesInstanceUID": f"1.2.{i}", "SOPInstanceUID": f"1.2.{i}.1",
         "crdc_series_uuid": f"s{i}", "crdc_instance_uuid": f"i{i}", "gcs_bucket": b,
         "instance_size": 1, "instance_hash": "0" * 32}
        for i, b in enumerate(["idc-open-data", "idc-open-idc1", "idc-open-cr"])
    ]  # fmt: skip
    results = tmp_path / "r.parquet"
    pq.write_table(pa.Table.from_pylist(rows), results)
    base = healthcare_store_url(25)
    with pytest.warns(UserWarning, match="holds only the idc-open-data bucket"):
        prov = write_manifest(pa.Table.from_pylist(rows), tmp_path / "m.jsonl", format="jsonl",
                              dicomweb_url=base)  # fmt: skip
    assert "idc-open-cr (1), idc-open-idc1 (1)" in prov["dicomweb_note"]
    got = _jsonl(tmp_path / "m.jsonl")
    assert all(r["dicomweb_series_url"].startswith(base + "/studies/1.2/series/") for r in got)
    out = CliRunner().invoke(
        _cli(),
        ["manifest", str(results), "--out", str(tmp_path / "c.jsonl"), "--dicomweb-url", base],
    )
    assert out.exit_code == 0, out.output
    assert "warning: the Google Healthcare store holds only the idc-open-data bucket" in out.output
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the public proxy holds everything: no warning
        write_manifest(pa.Table.from_pylist(rows), tmp_path / "p.jsonl", format="jsonl")


def test_destination_in_use_is_refused(seeded_orthanc, tmp_path):
    from idcbq.download.lock import DestLock
    from idcbq.errors import DestinationLockedError

    held = DestLock(tmp_path).acquire()
    try:
        with pytest.raises(DestinationLockedError):
            download_dicomweb(seeded_orthanc.table().slice(0, 2), tmp_path,
                              dicomweb_url=seeded_orthanc.dicomweb_url, quiet=True)  # fmt: skip
    finally:
        held.release()
    assert not _files(tmp_path)


def test_dry_run_prints_wado_urls_and_writes_nothing(seeded_orthanc, tmp_path):
    manifest = tmp_path / "m.parquet"
    write_manifest(seeded_orthanc.table(), manifest, format="parquet")
    out = CliRunner().invoke(
        _cli(),
        ["download", str(manifest), "--dest", str(tmp_path / "out"), "--transport", "dicomweb",
         "--dicomweb-url", seeded_orthanc.dicomweb_url, "--dry-run"],
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    assert f"plan: {len(seeded_orthanc.rows)} files" in out.output
    assert f"{seeded_orthanc.dicomweb_url}/studies/" in out.output and "/instances/" in out.output
    assert not (tmp_path / "out").exists()


def test_job_downloads_by_dicomweb(seeded_orthanc, sample_root, tmp_path, capsys):
    """A cohort job with ``[download] transport = "dicomweb"`` fetches and verifies by WADO-RS."""
    from tests.jobs_support import write_spec
    from tests.test_jobs import record, run

    series = sorted({r["SeriesInstanceUID"] for r in seeded_orthanc.rows})[:3]
    expected = [r for r in seeded_orthanc.rows if r["SeriesInstanceUID"] in series]
    text = f"""\
[job]
name = "dw"

[query]
template = "manifest.instances_of_series"
params = {{ series_uids = {json.dumps(series)} }}

[engine]
name = "duckdb"
source = "{sample_root}"

[outputs]
destination = "out"
results = ["parquet"]
manifests = ["jsonl"]

[download]
enabled = true
dest = "data"
transport = "dicomweb"
dicomweb_url = "{seeded_orthanc.dicomweb_url}"
workers = 4
"""
    spec = write_spec(tmp_path / "job" / "dw.toml", text)
    code, _, err = run(["job", "run", str(spec)], capsys)
    assert code == 0, err
    runs = sorted((spec.parent / "out" / "runs").iterdir())
    rec = record(runs[-1])
    assert rec["status"] == "succeeded"
    files = _files(spec.parent / "data")
    assert len(files) == len(expected)
    want = {r["instance_hash"] for r in expected}
    assert {hashlib.md5(p.read_bytes()).hexdigest() for p in files} == want
