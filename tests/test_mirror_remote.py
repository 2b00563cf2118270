"""Mirror and direct queries over moto S3: footer cache, pruning, byte counts, kill -9 resume."""

from __future__ import annotations

import os
import signal
import sys
import uuid
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from idcbq.engines.base import PreparedQuery
from idcbq.engines.duckdb import DuckDBEngine
from idcbq.engines.duckdb.pruning import pruning_filters
from idcbq.params import BoundParameter, ParamType
from idcbq.sources.mirror import mirror
from idcbq.sources.sample.seed import upload_objects
from idcbq.testing.counting_proxy import CountingProxy
from idcbq.testing.wide_export import WideSpec, collection_name, objects, write_encodings
from tests import child

SPEC = WideSpec(files=12, collections=4, rows_per_file=60, row_group_rows=30, leaf_columns=1500)
SQL = "SELECT SOPInstanceUID, Modality, instance_size FROM dicom_all WHERE collection_id = $c"


@pytest.fixture(scope="module")
def bucket(s3_server, tmp_path_factory) -> str:
    name = f"idcbq-wide-{uuid.uuid4().hex[:8]}"
    s3_server.client().create_bucket(Bucket=name)
    enc = write_encodings(tmp_path_factory.mktemp("enc"), SPEC)
    upload_objects("aws", s3_server.url, [(name, k, b) for k, b in objects(SPEC, enc, "x")])
    return name


@pytest.fixture(autouse=True)
def _footer_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("IDCBQ_FOOTER_CACHE", str(tmp_path / "footers"))


def _query(bucket: str, endpoint: str, collection: str) -> tuple[list, int, set[str], int]:
    with CountingProxy(endpoint) as proxy:
        with DuckDBEngine.from_options(
            source=f"s3://{bucket}/x", idc_version="v25", s3_endpoint=proxy.url
        ) as eng:
            rows = sorted(eng.sql(SQL, {"c": collection}).column(0).to_pylist())
            bound = (BoundParameter("c", ParamType.parse("STRING"), collection),)
            estimate = eng.estimate_bytes(PreparedQuery("duckdb", SQL, SQL, bound))
        touched = {r.path.rsplit("/", 1)[-1] for r in proxy.requests if ".parquet" in r.path}
        return rows, proxy.bytes_in, touched, estimate


def test_warm_footer_cache_prunes_files_and_halves_bytes(bucket, s3_server):
    c = collection_name(1)
    cold_rows, cold_bytes, _, _ = _query(bucket, s3_server.url, c)
    warm_rows, warm_bytes, touched, estimate = _query(bucket, s3_server.url, c)
    assert warm_rows == cold_rows and len(cold_rows) == 3 * 60
    assert warm_bytes * 2 < cold_bytes
    assert touched == {"000000000003.parquet", "000000000004.parquet", "000000000005.parquet"}
    # Dry-run estimate: footers of the 3 surviving files plus the 4 columns' chunks.
    assert 0 < estimate <= warm_bytes * 1.1


def test_pruning_filters_take_only_certain_conjuncts():
    sql = "SELECT a FROM dicom_all WHERE collection_id = $c AND Modality IN ('CT', 'MR') AND x > 1"
    assert pruning_filters(sql, {"c": "nlst"}) == {
        "dicom_all": {"collection_id": ["nlst"], "Modality": ["CT", "MR"]}
    }
    assert pruning_filters("SELECT a FROM dicom_all WHERE collection_id = 'a' OR x = 1") == {}
    assert (
        pruning_filters("SELECT a FROM dicom_all d JOIN t USING (k) WHERE collection_id='a'") == {}
    )


def test_mirror_fetches_about_the_chunks_it_keeps(bucket, s3_server, tmp_path):
    _query(bucket, s3_server.url, collection_name(0))  # fills the footer cache
    with CountingProxy(s3_server.url) as proxy:
        report = mirror(f"s3://{bucket}/x", tmp_path / "m", idc_version="v25",
                        s3_endpoint=proxy.url, progress=False)  # fmt: skip
    assert report.fetched == 12 and report.footer_bytes == 0
    assert report.kept_bytes <= proxy.bytes_in <= 1.5 * report.kept_bytes
    local = pq.read_table(next((tmp_path / "m").rglob("000000000000.parquet")))
    assert local.num_rows == 60


def test_resume_after_kill_9(tmp_path):
    from idcbq.testing.wide_export import write_wide_export

    spec = WideSpec(files=40, collections=4, rows_per_file=40, row_group_rows=20, leaf_columns=1500)
    source = write_wide_export(tmp_path / "src", spec)
    dest = tmp_path / "m"
    states = dest / ".idcbq-mirror/state/idc_v25/dicom_all"
    cmd = [sys.executable, "-m", "idcbq", "mirror", "--source", str(source), "--dest", str(dest),
           "--workers", "1", "-q"]  # fmt: skip
    env = {**os.environ, "IDCBQ_FOOTER_CACHE": str(tmp_path / "fc")}
    with child.Child(cmd, env=env, logdir=tmp_path / "logs") as proc:
        assert proc.wait_until(lambda: len(list(states.glob("*.json"))) >= 3), proc.stderr()
        assert proc.poll() is None, proc.stderr()
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    done_before = len(list(states.glob("*.json")))
    assert 3 <= done_before < 40
    report = mirror(str(source), dest, progress=False)
    assert report.unchanged >= done_before  # what the killed run finished is not redone
    # Files byte-identical to one already mirrored are linked, the rest fetched.
    assert report.unchanged + report.fetched + report.linked == 40
    assert not list(dest.rglob(".*.tmp-*"))
    files = sorted((dest / "bigquery_export/idc_v25/dicom_all").glob("*.parquet"))
    assert len(files) == 40 and all(pq.read_metadata(f).num_rows == 40 for f in files)


def test_cli_mirror_prints_summary(tmp_path):
    from click.testing import CliRunner

    from idcbq.cli import cli
    from idcbq.testing.wide_export import write_wide_export

    spec = WideSpec(files=2, collections=1, rows_per_file=10, row_group_rows=10, leaf_columns=1500)
    source = write_wide_export(tmp_path / "src", spec)
    result = CliRunner().invoke(
        cli,
        [
            "mirror",
            "--source",
            str(source),
            "--dest",
            str(tmp_path / "m"),
            "--columns",
            "SOPInstanceUID",
            "-q",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "2 files (2 fetched" in result.output and "--source" in result.output
    assert Path(tmp_path / "m/idcbq-mirror.json").is_file()


def test_in_unnest_of_a_list_prunes_files_like_in(bucket, s3_server):
    """``collection_id IN UNNEST(@list)`` (BigQuery's list filter) reads only the files
    whose footers admit the listed values, as ``=`` and ``IN (...)`` do (issue 21 §2)."""
    wanted = [collection_name(1)]
    sql = "SELECT SOPInstanceUID FROM dicom_all WHERE collection_id IN UNNEST(@c)"
    bound = (BoundParameter("c", ParamType.parse("ARRAY<STRING>"), wanted),)
    eq = "SELECT SOPInstanceUID FROM dicom_all WHERE collection_id = @c"
    one = (BoundParameter("c", ParamType.parse("STRING"), wanted[0]),)
    _prepared_query(bucket, s3_server.url, eq, one)  # fills the footer cache
    eq_rows, by_eq = _prepared_query(bucket, s3_server.url, eq, one)
    rows, touched = _prepared_query(bucket, s3_server.url, sql, bound, wanted)
    assert sorted(rows) == sorted(eq_rows) and len(rows) == 3 * 60
    assert touched == by_eq and len(touched) < SPEC.files


def _prepared_query(bucket, endpoint, sql, bound, expect_filter=None):
    """Rows and the Parquet files read for a BigQuery query run through the DuckDB engine."""
    with CountingProxy(endpoint) as proxy:
        with DuckDBEngine.from_options(
            source=f"s3://{bucket}/x", idc_version="v25", s3_endpoint=proxy.url
        ) as eng:
            prepared = eng.prepare(sql, bound)
            if expect_filter is not None:
                assert pruning_filters(prepared.sql, {"c": expect_filter}) == {
                    "dicom_all": {"collection_id": expect_filter}
                }
            rows = eng.execute(prepared).column(0).to_pylist()
        touched = {r.path.rsplit("/", 1)[-1] for r in proxy.requests if ".parquet" in r.path}
    return rows, touched


def test_in_unnest_of_an_empty_or_unknown_list_prunes_nothing():
    from idcbq.transpile import to_duckdb

    bound = (BoundParameter("c", ParamType.parse("ARRAY<STRING>"), []),)
    sql = to_duckdb(
        "SELECT a FROM `bigquery-public-data.idc_current.dicom_all` "
        "WHERE collection_id IN UNNEST(@c)",
        params=bound,
    )
    assert pruning_filters(sql, {"c": []}) == {}
    assert pruning_filters(sql, {}) == {}
    negated = sql.replace("WHERE CASE", "WHERE NOT CASE")
    assert pruning_filters(negated, {"c": ["x"]}) == {}
