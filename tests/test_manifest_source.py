"""Text results remember their source; rows that match no files are an error (issue 17 a, j).

Through ``idcbq sql``, ``idcbq manifest`` and ``idcbq download`` in subprocesses, on the
idc-index tables that ship with idc-index-data (local Parquet) and the embedded sample.
The dry runs point ``--endpoint`` and the proxy variables at a closed port: nothing may
need the network.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

NLST = (
    "SELECT SeriesInstanceUID FROM index WHERE collection_id = 'nlst' AND Modality = 'CT' "
    "ORDER BY SeriesInstanceUID LIMIT 5"
)
CLOSED = "http://127.0.0.1:9"  # nothing listens: any network use fails at once
OFFLINE = {"HTTP_PROXY": CLOSED, "HTTPS_PROXY": CLOSED, "http_proxy": CLOSED, "https_proxy": CLOSED,
           "NO_PROXY": "", "no_proxy": ""}  # fmt: skip


def idcbq(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    out, err = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    with out.open("w") as o, err.open("w") as e:
        code = subprocess.run([sys.executable, "-m", "idcbq", *args], stdout=o, stderr=e,
                              timeout=600, cwd=tmp_path, env={**os.environ, **OFFLINE}).returncode  # fmt: skip
    return subprocess.CompletedProcess(args, code, out.read_text(), err.read_text())


def ok(done: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert done.returncode == 0, (done.args, done.stdout, done.stderr)
    return done


def index_rows(where_uids: list[str]) -> list[dict]:
    """The idc-index rows for these series, read straight from idc-index-data's Parquet."""
    import idc_index_data
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    table = pq.read_table(
        idc_index_data.IDC_INDEX_PARQUET_FILEPATH,
        columns=["SeriesInstanceUID", "crdc_series_uuid", "instanceCount", "series_size_MB"],
    )
    return table.filter(pc.is_in(table["SeriesInstanceUID"], pa.array(where_uids))).to_pylist()


def series_lines(path: Path) -> list[str]:
    return sorted(line for line in path.read_text().splitlines() if line.startswith("cp "))


@pytest.fixture(scope="module")
def nlst(tmp_path_factory) -> dict[str, Path]:
    """The same five idc-index nlst CT series as Parquet, CSV, JSON Lines and JSON results."""
    folder = tmp_path_factory.mktemp("nlst")
    paths = {}
    for ext in ("parquet", "csv", "jsonl", "json"):
        ok(idcbq(folder, "sql", "--source", "idc-index", "--out", f"s.{ext}", NLST))
        paths[ext] = folder / f"s.{ext}"
    return paths


@pytest.mark.parametrize("ext", ["csv", "jsonl", "json"])
def test_text_result_expands_against_its_own_source(tmp_path, nlst, ext):
    side = nlst[ext].with_name(nlst[ext].name + ".provenance.json")
    assert json.loads(side.read_text())["source"] == "idc-index"
    ok(idcbq(tmp_path, "manifest", str(nlst["parquet"]), "--out", "p.s5cmd"))
    done = ok(idcbq(tmp_path, "manifest", str(nlst[ext]), "--out", "t.s5cmd"))
    want = series_lines(tmp_path / "p.s5cmd")
    assert len(want) == 5
    assert series_lines(tmp_path / "t.s5cmd") == want
    uids = [json.loads(x)["SeriesInstanceUID"] for x in nlst["jsonl"].read_text().splitlines()]
    expected = index_rows(uids)
    assert sorted(f"cp s3://idc-open-data/{r['crdc_series_uuid']}/* ." for r in expected) == want
    files = sum(r["instanceCount"] for r in expected)
    assert f"wrote t.s5cmd: {files} instances, 5 series" in done.stderr


def test_text_result_downloads_from_its_own_source_offline(tmp_path, nlst):
    """``idcbq download s.csv --dry-run``: idc-index series, sized by idc-index, no listing."""
    done = ok(idcbq(tmp_path, "download", str(nlst["csv"]), "--dest", "d", "--dry-run",
                    "--endpoint", CLOSED))  # fmt: skip
    uids = [json.loads(x)["SeriesInstanceUID"] for x in nlst["jsonl"].read_text().splitlines()]
    expected = index_rows(uids)
    files = sum(r["instanceCount"] for r in expected)
    size = sum(round(r["series_size_MB"] * 1_000_000) for r in expected)
    assert done.stdout.splitlines()[0].startswith(f"plan: {files} files, "), done.stdout
    assert f"({size} bytes)" in done.stdout.splitlines()[0]
    for r in expected:
        assert f"/{r['crdc_series_uuid']}/* -> nlst/" in done.stdout
    assert not (tmp_path / "d").exists()


@pytest.mark.parametrize(
    "select",
    [
        "SeriesInstanceUID",
        "crdc_series_uuid, aws_bucket, instanceCount, series_size_MB",
    ],
    ids=["keys-only", "located"],
)
def test_dry_run_of_idc_index_rows_uses_their_sizes_offline(tmp_path, select):
    sql = (
        f"SELECT {select} FROM index WHERE collection_id = 'nlst' ORDER BY crdc_series_uuid LIMIT 3"
    )
    ok(idcbq(tmp_path, "sql", "--source", "idc-index", "--out", "rows.parquet", sql))
    done = ok(idcbq(tmp_path, "download", "rows.parquet", "--dest", "d", "--dry-run",
                    "--endpoint", CLOSED))  # fmt: skip
    import idc_index_data
    import pyarrow.parquet as pq

    index = pq.read_table(idc_index_data.IDC_INDEX_PARQUET_FILEPATH).to_pylist()
    nlst = sorted((r for r in index if r["collection_id"] == "nlst"),
                  key=lambda r: r["crdc_series_uuid"])[:3]  # fmt: skip
    files = sum(r["instanceCount"] for r in nlst)
    size = sum(round(r["series_size_MB"] * 1_000_000) for r in nlst)
    first = done.stdout.splitlines()[0]
    assert first.startswith(f"plan: {files} files, ") and f"({size} bytes)" in first, done.stdout
    assert "3 series counted from the source's own sizes" in first


def test_rows_that_match_no_files_are_an_error_naming_source_and_column(tmp_path):
    ok(idcbq(tmp_path, "sql", "--out", "x.csv", "SELECT '1.2.3.4.nope' AS SeriesInstanceUID"))
    for args in (["manifest", "x.csv", "--out", "x.s5cmd"], ["download", "x.csv", "--dest", "d"]):
        done = idcbq(tmp_path, *args)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert "Traceback" not in done.stderr
        errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
        assert len(errors) == 1, done.stderr
        assert "SeriesInstanceUID" in errors[0] and "match no files in" in errors[0], errors
        assert "sample" in errors[0], errors  # the source asked: the embedded sample
    assert not (tmp_path / "x.s5cmd").exists() and not (tmp_path / "d").exists()


def test_a_truly_empty_result_stays_a_successful_no_op(tmp_path):
    ok(idcbq(tmp_path, "sql", "--out", "e.csv",
             "SELECT SeriesInstanceUID FROM dicom_all WHERE SeriesInstanceUID = 'none'"))  # fmt: skip
    ok(idcbq(tmp_path, "manifest", "e.csv", "--out", "e.s5cmd"))
    ok(idcbq(tmp_path, "download", "e.csv", "--dest", "d"))


def test_manifest_source_option_names_where_to_expand(tmp_path, nlst):
    """A CSV without provenance (written by hand): the sample has no nlst; --source says where."""
    uid = json.loads(nlst["jsonl"].read_text().splitlines()[0])["SeriesInstanceUID"]
    (tmp_path / "hand.csv").write_text(f"SeriesInstanceUID\n{uid}\n")
    miss = idcbq(tmp_path, "manifest", "hand.csv", "--out", "h.s5cmd")
    assert miss.returncode == 2 and "match no files in" in miss.stderr, miss.stderr
    ok(idcbq(tmp_path, "manifest", "hand.csv", "--out", "h.s5cmd", "--source", "idc-index"))
    [row] = index_rows([uid])
    assert series_lines(tmp_path / "h.s5cmd") == [
        f"cp s3://idc-open-data/{row['crdc_series_uuid']}/* ."
    ]
