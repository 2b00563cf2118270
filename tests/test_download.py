"""Downloader on a real fake-gcs-server: layout, verification, resume, CLI exit codes."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pydicom
import pytest
from click.testing import CliRunner

from idcbq.download import STATE_NAME, DryRun, download
from idcbq.download.layout import DirTemplate, contained, sanitize_component
from idcbq.errors import DownloadError, ExitCode, ManifestError, UsageError
from idcbq.manifest import write_manifest

pytestmark = pytest.mark.gcs


def _files(dest: Path) -> list[Path]:
    return sorted(p for p in dest.rglob("*.dcm"))


def test_download_table_every_file_verified_and_readable(seeded_gcs, gcs_server, tmp_path):
    report = download(seeded_gcs.table(), tmp_path, endpoint=gcs_server.url, quiet=True)
    assert report.ok, report.summary()
    assert report.downloaded == len(seeded_gcs.rows)
    by_uuid = {r["crdc_instance_uuid"]: r for r in seeded_gcs.rows}
    files = _files(tmp_path)
    assert len(files) == len(seeded_gcs.rows)
    for path in files:
        row = by_uuid[path.stem]
        assert path.read_bytes() == seeded_gcs.data[path.stem]
        assert pydicom.dcmread(path).SOPInstanceUID == row["SOPInstanceUID"]
        # default idc-index layout, with the "/" in PatientID "P/1" made harmless
        expected = Path(row["collection_id"], sanitize_component(row["PatientID"]), row["StudyInstanceUID"],
                        f"CT_{row['SeriesInstanceUID']}")  # fmt: skip
        assert path.parent.relative_to(tmp_path) == expected
    assert not list(tmp_path.rglob("*.idcbq-part"))


def test_rerun_skips_verified_files_without_rehash_and_refetches_damaged(
    seeded_gcs, gcs_server, tmp_path, monkeypatch
):
    table = seeded_gcs.table()
    assert download(table, tmp_path, endpoint=gcs_server.url, quiet=True).ok
    # A damaged file with the same size: its recorded mtime no longer matches -> rehash -> refetch.
    victim = _files(tmp_path)[0]
    data = bytearray(victim.read_bytes())
    data[-1] ^= 0xFF
    victim.write_bytes(bytes(data))
    import idcbq.download as dl

    hashed: list[str] = []
    real = dl.file_md5
    monkeypatch.setattr(dl, "file_md5", lambda p: hashed.append(str(p)) or real(p))
    report = download(table, tmp_path, endpoint=gcs_server.url, quiet=True)
    assert report.ok
    assert (report.downloaded, report.skipped) == (1, len(seeded_gcs.rows) - 1)
    assert hashed == [str(victim)]  # only the changed file was rehashed
    assert victim.read_bytes() == seeded_gcs.data[victim.stem]


def test_existing_files_without_state_are_hashed_once_then_recorded(
    seeded_gcs, gcs_server, tmp_path
):
    table = seeded_gcs.table()
    assert download(table, tmp_path, endpoint=gcs_server.url, quiet=True).ok
    (tmp_path / STATE_NAME).unlink()
    for suffix in ("-wal", "-shm"):
        Path(str(tmp_path / STATE_NAME) + suffix).unlink(missing_ok=True)
    report = download(table, tmp_path, endpoint=gcs_server.url, quiet=True)
    assert (report.downloaded, report.skipped) == (0, len(seeded_gcs.rows))


def test_missing_object_fails_with_report_and_exit_code(seeded_gcs, gcs_server, tmp_path):
    import pyarrow as pa

    rows = [dict(r) for r in seeded_gcs.rows[:3]]
    rows[1]["crdc_instance_uuid"] = "00000000-0000-0000-0000-000000000000"
    manifest = tmp_path / "m.parquet"
    write_manifest(pa.Table.from_pylist(rows), manifest, format="parquet")
    result = CliRunner().invoke(
        __import__("idcbq.cli", fromlist=["cli"]).cli,
        [
            "download",
            str(manifest),
            "--dest",
            str(tmp_path / "out"),
            "--endpoint",
            gcs_server.url,
            "-q",
        ],
    )
    assert isinstance(result.exception, DownloadError)
    assert result.exception.exit_code == ExitCode.DOWNLOAD_FAILED
    assert "00000000-0000-0000-0000-000000000000" in result.output + str(result.exception)
    assert "HTTP 404" in result.output
    assert len(_files(tmp_path / "out")) == 2


def test_cli_exit_codes(seeded_gcs, gcs_server, tmp_path):
    from idcbq.cli import main

    manifest = tmp_path / "m.jsonl"
    write_manifest(seeded_gcs.table(), manifest, format="jsonl")
    args = [
        "download",
        str(manifest),
        "--dest",
        str(tmp_path / "d"),
        "--endpoint",
        gcs_server.url,
        "--quiet",
    ]
    with pytest.raises(SystemExit) as ok:
        main(args)
    assert ok.value.code == 0
    bad = tmp_path / "bad.txt"
    bad.write_text("gs://idc-open-data/nope/nope.dcm\n")
    with pytest.raises(SystemExit) as failed:
        main(
            [
                "download",
                str(bad),
                "--dest",
                str(tmp_path / "d2"),
                "--endpoint",
                gcs_server.url,
                "-q",
            ]
        )
    assert failed.value.code == ExitCode.DOWNLOAD_FAILED


def test_dry_run_prints_plan_and_writes_nothing(seeded_gcs, gcs_server, tmp_path):
    plan = download(seeded_gcs.table(), tmp_path / "d", endpoint=gcs_server.url, dry_run=True)
    assert isinstance(plan, DryRun)
    assert len(plan.plan.items) == len(seeded_gcs.rows)
    assert plan.plan.total_bytes == sum(r["instance_size"] for r in seeded_gcs.rows)
    assert plan.free_bytes > 0 and plan.fits
    text = plan.summary()
    assert f"{len(seeded_gcs.rows)} files" in text and "coll_0/P0/" in text
    assert not (tmp_path / "d").exists()


def test_series_level_s5cmd_manifest_lists_bucket(seeded_gcs, gcs_server, tmp_path):
    series = sorted({(r["gcs_bucket"], r["crdc_series_uuid"]) for r in seeded_gcs.rows})
    manifest = tmp_path / "portal.s5cmd"
    manifest.write_text(
        "# To download the files in this manifest, install s5cmd, then run:\n"
        f"# s5cmd --no-sign-request --endpoint-url https://storage.googleapis.com run {manifest.name}\n"
        + "".join(f"cp s3://{b}/{s}/* .\n" for b, s in series)
    )
    report = download(manifest, tmp_path / "d", endpoint=gcs_server.url, quiet=True)
    assert report.ok, report.summary()
    got = {p.relative_to(tmp_path / "d").as_posix() for p in _files(tmp_path / "d")}
    want = {f"{r['crdc_series_uuid']}/{r['crdc_instance_uuid']}.dcm" for r in seeded_gcs.rows}
    assert got == want


def test_custom_template_with_any_column(seeded_gcs, gcs_server, tmp_path):
    report = download(seeded_gcs.table(), tmp_path, endpoint=gcs_server.url, quiet=True,
                      template="%license/%Modality-%crdc_series_uuid")  # fmt: skip
    assert report.ok
    dirs = {p.parent.relative_to(tmp_path).as_posix() for p in _files(tmp_path)}
    assert dirs == {
        f"{r['license_short_name']}/CT-{r['crdc_series_uuid']}" for r in seeded_gcs.rows
    }


@pytest.mark.parametrize(
    "value", ["..", "../../x", "/etc/passwd", "a\x00b", "a\nb", ".", "", None, "C:\\x"]
)
def test_sanitized_values_never_leave_dest(value, tmp_path):
    tmpl = DirTemplate.parse("%collection_id/%PatientID", ["collection_id", "PatientID"])
    rel = tmpl.render({"collection_id": value, "PatientID": value})
    assert ".." not in rel.split("/") and "\x00" not in rel and "\n" not in rel
    assert contained(tmp_path, rel + "/f.dcm").is_relative_to(tmp_path)


@pytest.mark.parametrize(
    "template", ["../x/%PatientID", "/abs/%PatientID", "%NoSuchColumn", "a/../%PatientID"]
)
def test_bad_templates_are_rejected(template):
    with pytest.raises(UsageError):
        DirTemplate.parse(template, ["PatientID"])


def test_symlink_escape_is_refused(seeded_gcs, gcs_server, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    dest = tmp_path / "dest"
    dest.mkdir()
    os.symlink(outside, dest / "coll_0")
    report = None
    with pytest.raises(DownloadError, match="outside"):
        report = download(seeded_gcs.table(), dest, endpoint=gcs_server.url, quiet=True)
    assert report is None and not list(outside.iterdir())


def test_md5_of_every_download_matches_manifest(seeded_gcs, gcs_server, tmp_path):
    download(
        seeded_gcs.table(),
        tmp_path,
        endpoint=gcs_server.url,
        quiet=True,
        template="%crdc_series_uuid",
    )
    md5 = {r["crdc_instance_uuid"]: r["instance_hash"] for r in seeded_gcs.rows}
    for path in _files(tmp_path):
        assert hashlib.md5(path.read_bytes()).hexdigest() == md5[path.stem]


def test_non_idc_bucket_needs_explicit_allow(seeded_gcs, gcs_server, tmp_path):
    from idcbq.sources.sample.seed import upload_objects

    key = f"{seeded_gcs.rows[0]['crdc_series_uuid']}/{seeded_gcs.rows[0]['crdc_instance_uuid']}.dcm"
    upload_objects(
        "gcs",
        gcs_server.url,
        [("my-lab-bucket", key, seeded_gcs.data[seeded_gcs.rows[0]["crdc_instance_uuid"]])],
    )
    listing = tmp_path / "list.txt"
    listing.write_text(f"gs://my-lab-bucket/{key}\n")
    with pytest.raises(ManifestError, match="my-lab-bucket"):
        download(listing, tmp_path / "d", endpoint=gcs_server.url, quiet=True)
    assert not (tmp_path / "d").exists()
    report = download(
        listing,
        tmp_path / "d",
        endpoint=gcs_server.url,
        quiet=True,
        allow_buckets=["my-lab-bucket"],
    )
    assert report.ok and report.downloaded == 1
