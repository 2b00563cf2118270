"""Hostile manifests: traversal, foreign buckets, malformed/duplicate/empty/huge files.

Downloads run against the real fake-gcs-server (``seeded_gcs``). After each run the
directory *around* ``dest`` is compared with its state before: nothing may appear
outside ``dest``, and no temp file may be left inside it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pyarrow as pa
import pytest

from idcbq.download import download, plan_download
from idcbq.download.layout import DEFAULT_TEMPLATE
from idcbq.errors import DownloadError, ManifestError, UsageError
from idcbq.manifest.model import MANIFEST_COLUMNS
from idcbq.manifest.readers import read_manifest

TRAVERSALS = [
    "..",
    "../..",
    "../../../../../../etc",
    "/etc",
    "/",
    "..\\..\\windows",
    "a/../../b",
    "a\x00b",
    "\x00",
    "%2e%2e%2f%2e%2e",
    "\u2024\u2024",  # one-dot leaders
    "\uff0e\uff0e",  # fullwidth full stops
    ".",
    "",
    "~",
    "$HOME",
    ".hidden",
    "x" * 5000,
    "\u00e9" * 300,  # long multi-byte name
    "CON",
    "a\nb",
]
META = ["collection_id", "PatientID", "StudyInstanceUID", "SeriesInstanceUID", "Modality"]


def snapshot(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def inside(dest: Path, root: Path, before: set[str]) -> None:
    """Every path new under ``root`` is ``dest`` or below it, and no temp file is left.

    Creating ``dest`` itself may create its missing parent folders (``mkdir -p``); those
    must stay empty directories.
    """
    for rel in snapshot(root) - before:
        p = root / rel
        if p in dest.parents:
            assert p.is_dir() and all(c == dest or c in dest.parents for c in p.iterdir()), p
            continue
        assert p == dest or dest in p.parents, f"written outside dest: {p}"
    assert not [p for p in root.rglob("*.idcbq-part")]


@pytest.mark.parametrize("column", META)
def test_traversal_through_every_template_column(seeded_gcs, gcs_server, tmp_path, column):
    rows = [dict(r) for r in seeded_gcs.rows[: len(TRAVERSALS)]]
    for row, value in zip(rows, TRAVERSALS, strict=False):
        row[column] = value
    dest = tmp_path / "work" / "dest"
    (tmp_path / "work" / "sibling").mkdir(parents=True)
    before = snapshot(tmp_path)
    report = download(pa.Table.from_pylist(rows), dest, endpoint=gcs_server.url, quiet=True)
    assert report.ok, report.summary()
    inside(dest, tmp_path, before)
    files = sorted(dest.rglob("*.dcm"))
    assert len(files) == len(rows)  # every row landed somewhere distinct, inside dest
    depth = {len(f.relative_to(dest).parts) for f in files}
    assert depth == {len(DEFAULT_TEMPLATE.split("/")) + 1}  # no component split or removed
    for f in files:
        for part in f.relative_to(dest).parts:
            assert part not in (".", "..") and "\x00" not in part and len(part.encode()) <= 255


@pytest.mark.parametrize(
    "template",
    ["/etc/%collection_id", "../%collection_id", "%collection_id/../../x", "C:/x/%PatientID",
     "%collection_id/./%PatientID", "%no_such_column"],
)  # fmt: skip
def test_hostile_directory_templates_refused(seeded_gcs, tmp_path, template):
    dest = tmp_path / "dest"
    with pytest.raises(UsageError) as info:
        plan_download(seeded_gcs.table(), dest, template=template)
    assert template in str(info.value)
    assert not dest.exists()


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("crdc_series_uuid", "../../other-bucket"),
        ("crdc_instance_uuid", "../../../etc/passwd"),
        ("crdc_instance_uuid", "/etc/passwd"),
        ("crdc_series_uuid", "a/b/../../.."),
    ],
)
def test_hostile_object_keys_stay_inside_dest(seeded_gcs, gcs_server, tmp_path, column, value):
    """Keys that try to walk: the file name stays a plain name under dest (fetch may 404)."""
    rows = [dict(seeded_gcs.rows[0])]
    rows[0][column] = value
    dest = tmp_path / "work" / "dest"
    dest.parent.mkdir()
    before = snapshot(tmp_path)
    report = download(pa.Table.from_pylist(rows), dest, endpoint=gcs_server.url, quiet=True,
                      attempts=1)  # fmt: skip
    inside(dest, tmp_path, before)
    assert not report.ok or all(".." not in p.name for p in dest.rglob("*"))


def _uuid(i: int) -> str:
    return str(uuid.UUID(int=i))


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text).lstrip())
    return path


@pytest.mark.parametrize(
    ("suffix", "bad_line", "fragment"),
    [
        (".txt", "https://evil.example.com/x/y.dcm", "https://evil.example.com"),
        (".txt", "file:///etc/passwd", "file:///etc/passwd"),
        (".txt", "hello world", "hello"),
        (".txt", "gs://idc-open-data/../../etc/passwd", "etc/passwd"),
        (".txt", "gs:///no-bucket.dcm", "gs:///no-bucket.dcm"),
        (".s5cmd", "rm s3://idc-open-data/{s}/{i}.dcm", "rm"),
        (".s5cmd", "cp /etc/passwd .", "cp /etc/passwd"),
        (".s5cmd", "cp https://evil.example.com/{s}/{i}.dcm .", "cp https"),
        (".s5cmd", "cp s3://idc-open-data/{s}/{i}.dcm /etc/cron.d/x", None),
    ],
)
def test_malformed_lines_name_file_and_line(tmp_path, suffix, bad_line, fragment):
    good = f"gs://idc-open-data/{_uuid(1)}/{_uuid(2)}.dcm"
    if suffix == ".s5cmd":
        good = f"cp s3://idc-open-data/{_uuid(1)}/{_uuid(2)}.dcm ."
    bad = bad_line.format(s=_uuid(3), i=_uuid(4))
    path = write(tmp_path / f"m{suffix}", f"# a comment\n{good}\n\n{bad}\n")
    dest = tmp_path / "dest"
    if fragment is None:  # an s5cmd destination is ignored: files go to dest, never elsewhere
        plan = plan_download(path, dest)
        assert {i.rel.split("/")[-1] for i in plan.items} == {f"{_uuid(2)}.dcm", f"{_uuid(4)}.dcm"}
        return
    with pytest.raises(ManifestError) as info:
        plan_download(path, dest)
    err = info.value
    assert err.location is not None, str(err)
    assert (err.location.path, err.location.line) == (str(path), 4), str(err)
    assert fragment in str(err)
    assert not dest.exists()


def test_foreign_bucket_refused_unless_allowed(tmp_path):
    path = write(tmp_path / "m.txt", f"gs://attacker-bucket/{_uuid(1)}/{_uuid(2)}.dcm\n")
    try:
        plan = plan_download(path, tmp_path / "dest")
    except (ManifestError, UsageError) as exc:
        assert "attacker-bucket" in str(exc)
        return
    raise AssertionError(f"planned a download from a non-IDC bucket: {plan.items[0].url}")


def test_duplicates_collapse_and_collisions_are_reported(seeded_gcs, gcs_server, tmp_path):
    rows = [dict(r) for r in seeded_gcs.rows[:3]]
    clash = dict(rows[1])
    clash["gcs_bucket"] = (
        "idc-open-cr" if rows[1]["gcs_bucket"] != "idc-open-cr" else "idc-open-data"
    )
    table = pa.Table.from_pylist([*rows, *rows, rows[0], clash])
    dest = tmp_path / "dest"
    before = snapshot(tmp_path)
    plan = plan_download(table, dest)
    assert len(plan.items) == 3
    assert len(plan.problems) == 1 and "same destination" in plan.problems[0][1]
    report = download(table, dest, endpoint=gcs_server.url, quiet=True)
    assert report.downloaded == 3 and not report.ok  # the collision is a failure, not silent
    inside(dest, tmp_path, before)


def _empty_parquet(path: Path) -> None:
    import pyarrow.parquet as pq

    from idcbq.manifest.model import manifest_schema

    pq.write_table(manifest_schema().empty_table(), path)


EMPTY_MANIFESTS = {
    "s5cmd-0-bytes": ("empty.s5cmd", b""),
    "s5cmd-blank-lines": ("empty.s5cmd", b"\n\n"),
    "s5cmd-only-comments": ("empty.s5cmd", b"# only a comment\n# s5cmd --endpoint-url x run\n"),
    "urls-0-bytes": ("empty.txt", b""),
    "urls-blank-lines": ("empty.txt", b"\n  \n"),
    "jsonl-0-bytes": ("empty.jsonl", b""),
    "jsonl-blank-lines": ("empty.jsonl", b"\n\n"),
    "csv-0-bytes": ("empty.csv", b""),
    "csv-header-only": (
        "empty.csv",
        ",".join(MANIFEST_COLUMNS).encode() + b"\n",
    ),
    "results-csv-header-only": ("empty.csv", b"SeriesInstanceUID,Modality\n"),
    "json-empty-array": ("empty.json", b"[]"),
    "parquet-0-bytes": ("empty.parquet", b""),
    "parquet-0-rows": ("empty.parquet", None),
}


@pytest.mark.parametrize("case", sorted(EMPTY_MANIFESTS))
def test_empty_manifest_is_a_successful_no_op_in_every_format(tmp_path, case):
    """One rule for every format: a manifest listing no files downloads nothing and exits 0."""
    name, content = EMPTY_MANIFESTS[case]
    path = tmp_path / name
    if content is None:
        _empty_parquet(path)
    else:
        path.write_bytes(content)
    dest = tmp_path / "dest"
    report = download(path, dest, quiet=True)
    assert report.ok and report.downloaded == 0 and report.planned == 0
    assert "lists no files" in report.summary()
    assert not dest.exists()  # nothing to fetch: nothing is created
    done = subprocess.run(
        [sys.executable, "-m", "idcbq", "download", str(path), "--dest", str(dest), "--quiet"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "OK: 0 downloaded" in done.stdout and "lists no files" in done.stdout


_BIG = r"""
import resource, sys, uuid
from pathlib import Path
from idcbq.download import plan_download
from idcbq.manifest.model import MANIFEST_COLUMNS
from idcbq.manifest.readers import read_manifest
path, mode = Path(sys.argv[1]), sys.argv[2]
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
if mode == "read":
    info, schema, batches = read_manifest(path)
    n = sum(b.num_rows for b in batches)
else:
    n = len(plan_download(path, path.parent / "dest").items)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(n, (after - before) // 1024)
"""


@pytest.fixture(scope="module")
def million_line_manifest(tmp_path_factory) -> tuple[Path, int]:
    n = 1_000_000
    path = tmp_path_factory.mktemp("big") / "big.s5cmd"
    with open(path, "w") as fh:
        fh.write("# generated by the hostile-input suite\n")
        for i in range(n):
            fh.write(f"cp s3://idc-open-data/{_uuid(i // 50)}/{_uuid(10**9 + i)}.dcm .\n")
    return path, n


@pytest.mark.slow
@pytest.mark.parametrize(("mode", "max_mb"), [("plan", 1500)])  # "read" works too (~20 s)
def test_million_line_manifest_memory_bounded(million_line_manifest, mode, max_mb):
    path, n = million_line_manifest
    out = subprocess.run([sys.executable, "-c", _BIG, str(path), mode], capture_output=True,
                         text=True, timeout=300, check=True, env={**os.environ})  # fmt: skip
    rows, grown_mb = map(int, out.stdout.split())
    assert rows == n
    assert grown_mb < max_mb, f"{mode}: peak RSS grew {grown_mb} MB for {n} lines"
    assert not (path.parent / "dest").exists()


def test_read_manifest_is_streaming(tmp_path):
    """A malformed line far down is only found when reached (rows before it stream out)."""
    lines = [f"gs://idc-open-data/{_uuid(i)}/{_uuid(i + 1)}.dcm" for i in range(70_000)]
    path = write(tmp_path / "m.txt", "\n".join([*lines, "not-a-url"]) + "\n")
    _, _, batches = read_manifest(path)
    first = next(batches)
    assert first.num_rows > 0
    with pytest.raises(ManifestError) as info:
        for _ in batches:
            pass
    assert info.value.location is not None and info.value.location.line == 70_001


def test_dest_is_a_file_or_link_outside(seeded_gcs, gcs_server, tmp_path):
    """dest/<collection> already a symlink to elsewhere: refused, nothing written there."""
    outside = tmp_path / "outside"
    outside.mkdir()
    dest = tmp_path / "dest"
    dest.mkdir()
    rows = [dict(seeded_gcs.rows[0])]
    (dest / rows[0]["collection_id"]).symlink_to(outside)
    report_or_error = None
    try:
        report_or_error = download(pa.Table.from_pylist(rows), dest, endpoint=gcs_server.url,
                                   quiet=True)  # fmt: skip
    except DownloadError as exc:
        report_or_error = exc
        assert "outside" in str(exc)
    assert list(outside.iterdir()) == []
    assert isinstance(report_or_error, DownloadError) or not report_or_error.ok


# -- inputs that used to crash: bytes that are not text, listing failures, bad endpoints --------

UUID = "11111111-2222-3333-4444-555555555555"
NOT_TEXT = {
    "s5cmd-latin-1": (
        "m.s5cmd",
        f"cp s3://idc-open-data/{UUID}/a.dcm .\n".encode()
        + b"cp s3://idc-open-data/caf\xe9/x.dcm .\n",
        ":2:",
    ),
    "urls-latin-1": ("m.txt", b"# list\n" + b"gs://idc-open-data/\xe9\xe8/*\n", ":2:"),
    "s5cmd-binary": ("m.s5cmd", b"cp s3://idc-open-data/" + bytes(range(256)) * 4, ":1:"),
    "urls-nul-bytes": ("m.txt", b"gs://idc-open-data/x\x00y/*\n", ":1:"),
    "no-suffix-binary": ("m", b"\x89PNG\r\n\x1a\n" + bytes(range(256)), "not UTF-8 text"),
    "jsonl-latin-1": (
        "m.jsonl",
        b'{"url": "gs://idc-open-data/x"}\n{"url": "caf\xe9"}\n',
        "m.jsonl:2:",
    ),
    "csv-latin-1": ("m.csv", b"url,crdc_series_uuid\ngs://x/caf\xe9,\xe9\n", "m.csv"),
    "parquet-garbage": ("m.parquet", b"PAR1" + bytes(range(200)), "m.parquet"),
}


@pytest.mark.parametrize("case", sorted(NOT_TEXT))
def test_binary_or_latin1_manifest_is_a_clear_error(tmp_path, case):
    """UnicodeDecodeError never escapes: ManifestError (exit 2) naming the file (and line)."""
    name, content, where = NOT_TEXT[case]
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ManifestError) as info:
        plan_download(path, tmp_path / "dest")
    assert str(path) in str(info.value) and where in str(info.value), str(info.value)
    done = subprocess.run([sys.executable, "-m", "idcbq", "download", str(path), "--dest", str(tmp_path / "d")],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert not (tmp_path / "d").exists()


def test_series_listing_of_a_missing_bucket_is_one_clear_error(gcs_server, tmp_path):
    """A bare NotFound from the GCS API becomes DownloadError (exit 5) naming the prefix."""
    listing = tmp_path / "series.txt"
    listing.write_text(f"gs://public-datasets-idc/{UUID}/*\n")
    with pytest.raises(
        DownloadError, match=r"cannot list gs://public-datasets-idc/.*bucket not found"
    ):
        download(listing, tmp_path / "d", endpoint=gcs_server.url, quiet=True)
    assert not (tmp_path / "d").exists()


def test_series_listing_against_a_dead_endpoint_ends_in_bounded_time(tmp_path):
    """Retries of the listing stop at the deadline (not 120 s); one DownloadError, exit 5."""
    import time

    from idcbq.testing.servers import free_port

    dead = f"http://127.0.0.1:{free_port()}"
    listing = tmp_path / "series.txt"
    listing.write_text(f"gs://idc-open-data/{UUID}/*\n")
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "idcbq", "download", str(listing), "--dest", str(tmp_path / "d"),
         "--endpoint", dead, "--timeout", "1"],
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert time.monotonic() - started < 90
    assert done.returncode == 5 and "Traceback" not in done.stderr, done.stderr
    assert f"cannot list gs://idc-open-data/{UUID}/" in done.stderr


@pytest.mark.parametrize(("endpoint", "code", "message"), [
    ("not a url", 2, "is not an http(s) URL"),
    ("gs://idc-open-data", 2, "is not an http(s) URL"),
    ("dead", 6, "cannot reach the storage server at"),
])  # fmt: skip
def test_sample_seed_endpoint_errors(sample_root, tmp_path, endpoint, code, message):
    from idcbq.testing.servers import free_port

    if endpoint == "dead":
        endpoint = f"http://127.0.0.1:{free_port()}"
    done = subprocess.run(
        [sys.executable, "-m", "idcbq", "sample", "seed", "--endpoint", endpoint, "--series", "1",
         "--source", str(sample_root)],
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert done.returncode == code, done.stderr
    assert message in done.stderr and "Traceback" not in done.stderr
