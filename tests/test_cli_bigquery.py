"""``idcbq query / sql / estimate`` on the BigQuery emulator, compared with DuckDB.

Both engines read the same sample export: DuckDB over its Parquet files, the emulator
with those rows loaded into ``bigquery-public-data`` (fixture ``bq_sample``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from idcbq.cli import cli
from idcbq.cli.common import run_cli
from tests.cross_engine_support import normalise

FIXTURES = Path(__file__).parent / "data" / "templates"
ENV = ("IDCBQ_ENGINE", "IDCBQ_MAX_BYTES_BILLED", "IDCBQ_BIGQUERY_API_ENDPOINT", "IDCBQ_SOURCE")

pytestmark = pytest.mark.bigquery


@pytest.fixture
def run(monkeypatch, capsys):
    """The real entry point (error mapping, exit codes) -> (code, stdout, stderr)."""
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("IDCBQ_TEMPLATES", str(FIXTURES))

    def _run(*args: str) -> tuple[int, str, str]:
        code = run_cli(cli, list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return _run


@pytest.fixture
def bq(bq_sample) -> list[str]:
    """Flags pointing a command at the emulator holding the sample."""
    emu = bq_sample.emulator
    return ["--engine", "bigquery", "--api-endpoint", emu.url, "--project", emu.project,
            "--data-project", bq_sample.data_project]  # fmt: skip


@pytest.fixture
def duck(sample_root) -> list[str]:
    return ["--engine", "duckdb", "--source", str(sample_root)]


def json_rows(out: str) -> list[tuple]:
    """Order-insensitive, engine-neutral rows of a ``--json`` output."""
    rows = json.loads(out)
    return sorted((tuple(sorted((k, normalise(v)) for k, v in r.items())) for r in rows), key=repr)


def test_query_template_matches_duckdb(run, bq, duck):
    args = ["query", "test.series_by_modality", "-p", "modalities=CT,SEG", "--json"]
    code, out_bq, err = run(*args, *bq)
    assert code == 0, err
    code, out_duck, err = run(*args, *duck)
    assert code == 0, err
    rows = json_rows(out_bq)
    assert rows == json_rows(out_duck)
    modalities = {dict(r)["Modality"] for r in rows}
    assert modalities == {"CT", "SEG"}  # the sample has both


def test_query_typed_scalars_and_out_file_match_duckdb(run, bq, duck, tmp_path):
    import pyarrow.parquet as pq

    params = ["-p", "collection_id=qin_lung_ct", "-p", "min_instances=2",
              "-p", "min_slice_thickness=1.5", "-p", "with_size=true"]  # fmt: skip
    code, _, err = run(
        "query", "test.typed_filters", *params, *bq, "--out", str(tmp_path / "b.parquet")
    )
    assert code == 0, err
    code, _, err = run(
        "query", "test.typed_filters", *params, *duck, "--out", str(tmp_path / "d.parquet")
    )
    assert code == 0, err
    from_bq, from_duck = (
        pq.read_table(tmp_path / "b.parquet"),
        pq.read_table(tmp_path / "d.parquet"),
    )
    assert from_bq.num_rows > 0
    assert all(n >= 2 for n in from_bq.column("n").to_pylist())
    assert sorted(from_bq.to_pylist(), key=repr) == sorted(from_duck.to_pylist(), key=repr)
    provenance = json.loads(from_bq.schema.metadata[b"idcbq.provenance"])
    assert provenance["engine"] == "bigquery" and provenance["template"] == "test.typed_filters"


SQL = (
    "SELECT Modality, COUNT(DISTINCT SeriesInstanceUID) AS series, COUNT(*) AS n "
    "FROM dicom_all WHERE Modality IN UNNEST(@m) AND instance_size > @min_size "
    "AND SAFE_CAST(SeriesNumber AS INT64) IN UNNEST(@numbers) GROUP BY Modality"
)


def test_sql_typed_and_array_params_match_duckdb(run, bq, duck):
    params = ["-p", "m:ARRAY<STRING>=CT,MR,SEG", "-p", "min_size:INT64=0",
              "-p", "numbers:ARRAY<INT64>=1,2,3,4,5,6,7,8,9,10"]  # fmt: skip
    code, out_bq, err = run("sql", SQL, *params, "--json", *bq)
    assert code == 0, err
    code, out_duck, err = run("sql", SQL, *params, "--json", *duck)
    assert code == 0, err
    rows = json_rows(out_bq)
    assert rows and rows == json_rows(out_duck)
    assert {dict(r)["Modality"] for r in rows} <= {"CT", "MR", "SEG"}
    # A STRING where INT64 is declared is refused before BigQuery is asked.
    code, _, err = run("sql", SQL, "-p", "m:ARRAY<STRING>=CT", "-p", "min_size:INT64=big",
                       "-p", "numbers:ARRAY<INT64>=1", *bq)  # fmt: skip
    assert code == 2 and "min_size" in err and "big" in err


def test_query_over_cap_exits_3_with_estimate_and_cap(run, bq, monkeypatch):
    code, out, err = run("query", "test.modality_counts", *bq, "--max-bytes-billed", "1000")
    assert code == 3 and out == ""
    # The emulator's dry run says 0 bytes; BigQuery bills at least 10 MiB per query.
    assert "refused by the cost guard" in err
    assert "10,485,760 bytes billed" in err and "1,000" in err
    code, _, err = run(
        "sql", "SELECT COUNT(*) AS n FROM dicom_all", *bq, "--max-bytes-billed", "1KB"
    )
    assert code == 3 and "1,000" in err
    monkeypatch.setenv("IDCBQ_MAX_BYTES_BILLED", "1000")
    code, _, err = run("query", "test.modality_counts", *bq)
    assert code == 3 and "refused by the cost guard" in err
    code, out, err = run(
        "query", "test.modality_counts", *bq, "--max-bytes-billed", "1GiB", "--json"
    )
    assert code == 0, err
    assert json.loads(out)


def test_bad_byte_size_names_the_flag(run, bq):
    code, _, err = run("query", "test.modality_counts", *bq, "--max-bytes-billed", "lots")
    assert code == 2 and "--max-bytes-billed 'lots'" in err


def test_estimate_validates_before_contacting_bigquery(run, tmp_path):
    from idcbq.testing.servers import free_port

    (tmp_path / "bad.cols.sql").write_text(
        "/*---\nname: bad.cols\ndescription: d\n---*/\n"
        "SELECT COUNT(*) AS n\nFROM {{ table('dicom_all') }}\nWHERE Modalty = 'CT'\n"
    )
    # Nothing listens there: reaching BigQuery would be a connection error, not exit 2.
    dead = f"http://127.0.0.1:{free_port()}"
    code, _, err = run("estimate", "bad.cols", "--templates", str(tmp_path),
                       "--api-endpoint", dead, "--project", "p")  # fmt: skip
    assert code == 2
    assert f"{tmp_path / 'bad.cols.sql'}:7:7: unknown column Modalty" in err


@pytest.mark.slow
def test_exit_code_3_from_a_real_process(bq_sample):
    """``python -m idcbq`` as users run it: the process exit status is 3."""
    emu = bq_sample.emulator
    env = {k: v for k, v in os.environ.items() if k not in ENV}
    env["IDCBQ_TEMPLATES"] = str(FIXTURES)
    proc = subprocess.run(
        [sys.executable, "-m", "idcbq", "query", "test.modality_counts", "--engine", "bigquery",
         "--api-endpoint", emu.url, "--project", emu.project,
         "--data-project", bq_sample.data_project, "--max-bytes-billed", "1000"],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 3, proc.stderr
    assert "refused by the cost guard" in proc.stderr and "1,000" in proc.stderr


def test_query_sql_estimate_and_magic_share_the_engine_options():
    import click

    from idcbq.cli.estimate import estimate
    from idcbq.cli.options import ENGINE_OPTIONS
    from idcbq.cli.query import query
    from idcbq.cli.sql import sql
    from idcbq.magics import engine_args, parse_args

    def flags(command: click.Command) -> set[str]:
        return {opt for p in command.params for opt in p.opts}

    every = {flag for spec in ENGINE_OPTIONS for flag in spec.flags}
    assert every <= flags(query) and every <= flags(sql)
    # estimate is pinned to BigQuery: no --engine / --source to redirect it.
    assert flags(estimate) & every == every - {"--engine", "--source"}
    # The magic's engine default follows flag > env > config (duckdb); name BigQuery here.
    args = parse_args("df --engine bigquery --data_project d --key-file k.json --location EU --use_rest_api "
                      "--maximum_bytes_billed 2KiB --templates t1 --templates t2", cell=True)  # fmt: skip
    conn = engine_args(args)
    assert conn.engine == "bigquery" and conn.max_bytes_billed == 2048
    assert conn.connect_kwargs() == {
        "data_project": "d", "key_file": "k.json", "location": "EU",
        "max_bytes_billed": 2048, "templates": ("t1", "t2"), "use_bqstorage": False,
    }  # fmt: skip
