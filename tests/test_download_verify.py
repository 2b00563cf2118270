"""Every content hash a server states is checked against the body (issue 17 n).

Through ``idcbq download`` with a ``urls`` manifest (no MD5 in it), the fault proxy in
front of the real fake-gcs-server / moto S3 corrupts bodies and sets response headers.
A digest that disagrees with the body is a retry, then a failure; an S3 ETag counts as
an MD5 only for a single-part, non-KMS object.
"""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from idcbq.testing.faults import Fault, FaultProxy

UUID = "crdc_instance_uuid"


def idcbq(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    out, err = tmp_path / "stdout", tmp_path / "stderr"
    with out.open("w") as o, err.open("w") as e:
        code = subprocess.run(
            [sys.executable, "-m", "idcbq", *args], stdout=o, stderr=e, timeout=300,
            env=os.environ.copy(),
        ).returncode  # fmt: skip
    return subprocess.CompletedProcess(args, code, out.read_text(), err.read_text())


def urls_manifest(tmp_path: Path, rows: list[dict], scheme: str) -> Path:
    bucket = "gcs_bucket" if scheme == "gs" else "aws_bucket"
    path = tmp_path / "urls.txt"
    path.write_text(
        "".join(f"{scheme}://{r[bucket]}/{r['crdc_series_uuid']}/{r[UUID]}.dcm\n" for r in rows)
    )
    return path


def on_disk(dest: Path) -> dict[str, bytes]:
    return {p.stem: p.read_bytes() for p in dest.rglob("*.dcm")}


def download_through(tmp_path, upstream, rows, scheme, faults, *opts):
    manifest = urls_manifest(tmp_path, rows, scheme)
    with FaultProxy(upstream, faults) as proxy:
        done = idcbq(tmp_path, "download", str(manifest), "--dest", str(tmp_path / "d"),
                     "--endpoint", proxy.url, "--quiet", "--workers", "4",
                     "--provider", "gcs" if scheme == "gs" else "aws", *opts)  # fmt: skip
        return done, proxy


def b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode()


@pytest.mark.gcs
@pytest.mark.parametrize("times", [1, None], ids=["once", "always"])
def test_gcs_crc32c_of_corrupt_bytes_with_the_true_md5_is_caught(
    tmp_path, gcs_server, seeded_gcs, times
):
    """X-Goog-Hash: crc32c restated for the corrupted bytes, md5 of the true object."""
    rows = seeded_gcs.rows[:5]
    victims = [r[UUID] for r in rows[:3]]
    faults = [Fault("corrupt", match=v, times=times, forge_crc32c=True) for v in victims]
    done, proxy = download_through(tmp_path, gcs_server.url, rows, "gs", faults, "--retries", "2")
    assert proxy.injected["corrupt"] >= 3
    got = on_disk(tmp_path / "d")
    for uuid, body in got.items():
        assert body == seeded_gcs.data[uuid], f"{uuid}: wrong bytes accepted"
    if times == 1:
        assert done.returncode == 0, done.stdout + done.stderr
        assert len(got) == 5
    else:
        assert done.returncode == 5, done.stdout + done.stderr
        assert sorted(got) == sorted(r[UUID] for r in rows[3:])
        failed = [line for line in done.stderr.splitlines() if "does not match" in line]
        assert len(failed) == 3, done.stderr
        assert all("MD5" in line and "after 2 attempts" in line for line in failed), failed


@pytest.mark.gcs
def test_gcs_md5_header_alone_is_checked(tmp_path, gcs_server, seeded_gcs):
    """Only an md5 in X-Goog-Hash (crc32c removed) and a corrupt body: never accepted."""
    rows = seeded_gcs.rows[5:7]
    row = rows[0]
    md5 = b64(hashlib.md5(seeded_gcs.data[row[UUID]]).digest())
    faults = [Fault("corrupt", match=row[UUID], times=None, headers={"x-goog-hash": f"md5={md5}"})]
    done, _ = download_through(tmp_path, gcs_server.url, rows, "gs", faults, "--retries", "2")
    assert done.returncode == 5, done.stdout + done.stderr
    assert sorted(on_disk(tmp_path / "d")) == [rows[1][UUID]]
    assert "does not match object metadata" in done.stderr


def _crc32(body: bytes) -> str:
    return b64(zlib.crc32(body).to_bytes(4, "big"))


@pytest.mark.s3
def test_s3_checksum_header_that_disagrees_is_a_retry_then_a_failure(
    tmp_path, s3_server, seeded_s3
):
    rows = seeded_s3.rows[:2]
    victim = rows[0][UUID]
    wrong = b64(hashlib.sha256(b"not the object").digest())
    faults = [Fault("slow", delay=0, match=victim, times=None,
                    headers={"x-amz-checksum-sha256": wrong})]  # fmt: skip
    done, proxy = download_through(tmp_path, s3_server.url, rows, "s3", faults, "--retries", "2")
    assert done.returncode == 5, done.stdout + done.stderr
    assert proxy.injected["slow"] == 2  # tried twice
    assert sorted(on_disk(tmp_path / "d")) == [rows[1][UUID]]
    assert "SHA-256" in done.stderr and "does not match object metadata" in done.stderr


@pytest.mark.s3
@pytest.mark.parametrize(
    "etag_headers",
    [
        {"ETag": '"' + "0" * 32 + '-2"'},  # multipart upload: not an MD5
        {"ETag": '"' + "0" * 32 + '"', "x-amz-server-side-encryption": "aws:kms"},  # SSE-KMS
    ],
    ids=["multipart", "kms"],
)
def test_s3_etag_counts_only_when_it_is_a_single_part_md5(
    tmp_path, s3_server, seeded_s3, etag_headers
):
    """The ETag is no digest here; the object's stated CRC32 is, so the true bytes land."""
    rows = seeded_s3.rows[2:4]
    faults = [
        Fault("slow", delay=0, match=r[UUID], times=None,
              headers={**etag_headers, "x-amz-checksum-crc32": _crc32(seeded_s3.data[r[UUID]])})
        for r in rows
    ]  # fmt: skip
    done, _ = download_through(tmp_path, s3_server.url, rows, "s3", faults)
    assert done.returncode == 0, done.stdout + done.stderr
    assert on_disk(tmp_path / "d") == {r[UUID]: seeded_s3.data[r[UUID]] for r in rows}


@pytest.mark.s3
def test_s3_corrupt_body_against_a_multipart_object_checksum_fails(tmp_path, s3_server, seeded_s3):
    rows = seeded_s3.rows[4:5]
    body = seeded_s3.data[rows[0][UUID]]
    faults = [Fault("corrupt", times=None,
                    headers={"ETag": '"' + "0" * 32 + '-3"', "x-amz-checksum-crc32": _crc32(body)})]  # fmt: skip
    done, _ = download_through(tmp_path, s3_server.url, rows, "s3", faults, "--retries", "2")
    assert done.returncode == 5, done.stdout + done.stderr
    assert not on_disk(tmp_path / "d")
    assert "CRC32" in done.stderr and "does not match object metadata" in done.stderr
