"""``idcbq sql/query --dry-run`` on DuckDB sources, and the progress bar of remote scans.

The dry run's bytes come from Parquet footers (``DuckDBEngine.estimate_bytes``); they are
checked against the bytes a real run of the same query pulls from moto S3, counted by
:class:`~idcbq.testing.counting_proxy.CountingProxy`. The progress tests run the real
``idcbq`` entry point with stderr on a pseudo-terminal, then on a pipe.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from idcbq.sources.sample.seed import upload_objects
from idcbq.testing.counting_proxy import CountingProxy
from idcbq.testing.wide_export import WideSpec, collection_name, objects, write_encodings
from tests import child

SPEC = WideSpec(files=12, collections=4, rows_per_file=60, row_group_rows=30, leaf_columns=1500)
SQL = "SELECT SOPInstanceUID, Modality, instance_size FROM dicom_all WHERE collection_id = @c"


@pytest.fixture(scope="module")
def bucket(s3_server, tmp_path_factory) -> str:
    name = f"idcbq-dry-{uuid.uuid4().hex[:8]}"
    s3_server.client().create_bucket(Bucket=name)
    enc = write_encodings(tmp_path_factory.mktemp("enc"), SPEC)
    upload_objects("aws", s3_server.url, [(name, k, b) for k, b in objects(SPEC, enc, "x")])
    return name


@pytest.fixture
def env(sample_root, tmp_path) -> dict[str, str]:
    """An ``idcbq`` subprocess environment: the sample, no user config, a fresh footer cache."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IDCBQ_", "AWS_ENDPOINT"))}
    env.update(
        IDCBQ_SAMPLE_ROOT=str(sample_root),
        XDG_CONFIG_HOME=str(tmp_path / "xdg"),
        IDCBQ_FOOTER_CACHE=str(tmp_path / "footers"),
    )
    return env


def idcbq(env: dict[str, str], *args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "idcbq", *args],
        capture_output=True, text=True, env=env, timeout=timeout, check=False,
    )  # fmt: skip


def remote(bucket: str, *args: str) -> list[str]:
    return ["sql", SQL, "-p", f"c={collection_name(1)}", "--source", f"s3://{bucket}/x",
            "--idc-version", "v25", *args]  # fmt: skip


def test_dry_run_on_the_sample_reports_bytes_and_runs_nothing(env, sample_root):
    files = list(Path(sample_root).rglob("bigquery_export/*/dicom_all/*.parquet"))
    on_disk = sum(p.stat().st_size for p in files)
    text = idcbq(env, "sql", "SELECT SOPInstanceUID FROM dicom_all", "--dry-run")
    assert text.returncode == 0, text.stderr
    assert text.stdout.startswith("Query validated. This query will process ")
    n = int(text.stdout.split("process ")[1].split()[0])
    assert 0 < n < on_disk  # one column of the current release's files, plus footers
    every = idcbq(env, "sql", "SELECT * FROM dicom_all", "--dry-run", "--json")
    assert every.returncode == 0, every.stderr
    payload = json.loads(every.stdout)
    assert payload["engine"] == "duckdb" and payload["dry_run"] is True
    assert n < payload["bytes_processed"] <= on_disk
    named = idcbq(env, "query", "summary.collections", "--dry-run", "--format", "json")
    assert named.returncode == 0, named.stderr
    assert json.loads(named.stdout)["template"] == "summary.collections"
    assert json.loads(named.stdout)["bytes_processed"] > 0


def test_dry_run_refuses_out_and_says_googlesql_cannot_estimate(env, tmp_path):
    out = idcbq(env, "sql", "SELECT 1 AS x", "--dry-run", "--out", str(tmp_path / "x.csv"))
    assert out.returncode == 2 and "--dry-run" in out.stderr
    assert not (tmp_path / "x.csv").exists()
    gsql = idcbq(env, "sql", "SELECT SOPInstanceUID FROM dicom_all", "--dry-run", "--json",
                 "--engine", "googlesql")  # fmt: skip
    assert gsql.returncode == 0, gsql.stderr
    payload = json.loads(gsql.stdout)
    assert payload["bytes_processed"] is None and "cannot estimate" in payload["basis"]


def test_remote_dry_run_is_within_the_bytes_a_run_reads(env, bucket, s3_server):
    with CountingProxy(s3_server.url) as proxy:
        env["AWS_ENDPOINT_URL_S3"] = proxy.url
        cold = idcbq(env, *remote(bucket))
        assert cold.returncode == 0, cold.stderr
        proxy.reset()
        warm = idcbq(env, *remote(bucket))  # footers from the cache: data + listing only
        assert warm.returncode == 0, warm.stderr
        read, run_chunks = proxy.bytes_in, _chunk_reads(proxy.requests)
        assert len(warm.stdout.splitlines()) == 1 + 3 * SPEC.rows_per_file
        proxy.reset()
        dry = idcbq(env, *remote(bucket, "--dry-run", "--json"))
        assert dry.returncode == 0, dry.stderr
        dry_chunks, dry_read = _chunk_reads(proxy.requests), proxy.bytes_in
        unfiltered = idcbq(env, "sql", SQL.split(" WHERE")[0], "--source", f"s3://{bucket}/x",
                           "--idc-version", "v25", "--dry-run", "--json")  # fmt: skip
        assert unfiltered.returncode == 0, unfiltered.stderr
    estimate = json.loads(dry.stdout)["bytes_processed"]
    # The transpiled filter (collection_id = CAST($c AS TEXT)) prunes 9 of the 12 files.
    every_file = json.loads(unfiltered.stdout)["bytes_processed"]
    assert estimate * 3 < every_file
    # Warm footer cache: validation reads one footer, the run the 3 pruned files, not all 12.
    assert read * 2 < every_file, (read, every_file)
    assert dry_read < estimate, (dry_read, estimate)
    # Footers of the 3 files left after pruning plus the 4 columns' chunks in them.
    assert 0 < estimate <= read * 1.1, (estimate, read)
    # Only the run reads column chunks.
    assert run_chunks and not dry_chunks, dry_chunks


def _chunk_reads(requests: list) -> list:
    """Ranged GETs of Parquet files that do not reach the file's end (footers do)."""
    ends: dict[str, int] = {}
    gets = [r for r in requests if r.method == "GET" and r.range and ".parquet" in r.path]
    for r in gets:
        ends[r.path] = max(ends.get(r.path, 0), int(r.range.rsplit("-", 1)[1]))
    return [r for r in gets if int(r.range.rsplit("-", 1)[1]) < ends[r.path]]


def _stderr_on_a_terminal(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    """Run idcbq with stderr on a 100-column pseudo-terminal (stdout to a file)."""
    done = child.run_on_terminal(child.idcbq_command(*args), env=env, stream="stderr", columns=100)
    return done.returncode, done.stdout, done.stderr


def test_remote_scan_shows_progress_on_a_terminal_only(env, bucket, s3_server):
    env.update(AWS_ENDPOINT_URL_S3=s3_server.url, IDCBQ_PROGRESS_DELAY="0")
    code, out, err = _stderr_on_a_terminal(env, *remote(bucket))
    assert code == 0, err
    assert "remote scan" in err, err
    assert len(out.splitlines()) == 1 + 3 * SPEC.rows_per_file
    piped = idcbq(env, *remote(bucket))
    assert piped.returncode == 0 and "remote scan" not in piped.stderr, piped.stderr
    code, _, quiet = _stderr_on_a_terminal(env, "-q", *remote(bucket))
    assert code == 0 and "remote scan" not in quiet, quiet


@pytest.mark.bigquery
def test_bigquery_dry_run_is_the_bigquery_dry_run(bq_sample, monkeypatch, capsys):
    """On BigQuery, --dry-run is BigQuery's own dry run (the emulator reports 0 bytes)."""
    from idcbq.cli import cli
    from idcbq.cli.common import run_cli

    for name in ("IDCBQ_ENGINE", "IDCBQ_MAX_BYTES_BILLED", "IDCBQ_BIGQUERY_API_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    emu = bq_sample.emulator
    args = ["sql", "SELECT COUNT(*) AS n FROM dicom_all WHERE Modality = @m", "-p", "m=CT",
            "--engine", "bigquery", "--api-endpoint", emu.url, "--project", emu.project,
            "--data-project", bq_sample.data_project, "--dry-run"]  # fmt: skip
    assert run_cli(cli, [*args, "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["engine"] == "bigquery" and payload["bytes_processed"] == 0
    assert payload["basis"] == "BigQuery dry run" and payload["allowed"] is True
    # BigQuery bills at least 10 MB a query: above a 1000-byte cap, exit code 3.
    assert run_cli(cli, [*args, "--max-bytes-billed", "1000"]) == 3
    out, err = capsys.readouterr()
    assert "This query will process 0 bytes" in out and "cost guard" in err


def test_progress_totals_are_the_pruned_files_and_the_estimate(bucket, s3_server, tmp_path,
                                                              monkeypatch):  # fmt: skip
    """The bar's totals (computed in a helper thread while the scan runs), called directly."""
    import idcbq
    from idcbq.engines.cancel import ScanProgress, wants_progress

    monkeypatch.setenv("IDCBQ_FOOTER_CACHE", str(tmp_path / "footers"))
    client = idcbq.connect("duckdb", source=f"s3://{bucket}/x", idc_version="v25",
                           s3_endpoint=s3_server.url)  # fmt: skip
    with client:
        prepared = client.prepare_sql(SQL, params={"c": collection_name(1)}, from_text=True)
        assert wants_progress(client.engine, True) and not wants_progress(client.engine, False)
        bar = ScanProgress(client.engine, prepared, delay_s=0)
        bar._totals()
        assert bar.files == 3
        assert bar.total == client.engine.estimate_bytes(prepared) > 0
        bar.close()


def test_remote_scan_cli_exits_cleanly_every_time(env, bucket, s3_server, tmp_path):
    """The CLI's exit after a remote scan with a progress bar, many times over.

    Once a child aborted after printing its rows ("terminate called without an active
    exception", SIGABRT): the bar's helper thread was still reading footers through
    pyarrow's S3 client while pyarrow's atexit hook finalized S3. The engine now joins the
    helper and drops its file systems when it closes, and the CLI closes what is still
    open before the interpreter finalizes; each child must exit 0, with its rows.
    """
    env.update(AWS_ENDPOINT_URL_S3=s3_server.url, IDCBQ_PROGRESS_DELAY="0")
    codes = []
    for i in range(20):
        # A fresh footer cache each time: the helper thread then fetches footers over S3.
        env["IDCBQ_FOOTER_CACHE"] = str(tmp_path / f"footers-{i}")
        code, out, err = _stderr_on_a_terminal(env, *remote(bucket))
        codes.append(code)
        assert code == 0, f"run {i}: exit {code}\n{err[-2000:]}"
        assert len(out.splitlines()) == 1 + 3 * SPEC.rows_per_file, err
    assert codes == [0] * 20
