"""The IPython magics in a real InteractiveShell, on the BigQuery emulator and on DuckDB.

Defaults follow the CLI's chain (flag > env var > config file > built-in), and an error
fails the cell (so "Run all" stops) showing one line plus its hint, not a traceback.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from idcbq.errors import IdcbqError
from idcbq.magics import cell_params, engine_args, parse_args
from idcbq.testing.mini_export import dicom_all_table

ROWS = dicom_all_table().to_pylist()
TEMPLATE = """/*---
name: demo.by_modality
description: Instances of some modalities.
parameters:
  modalities: {type: ARRAY<STRING>, required: true, example: [CT]}
---*/
SELECT SOPInstanceUID, Modality FROM {{ table('dicom_all') }} WHERE Modality IN UNNEST(@modalities)
"""


@pytest.fixture(scope="module")
def shell():
    from IPython.testing.globalipapp import start_ipython

    ip = start_ipython()
    ip.run_line_magic("load_ext", "idcbq")
    return ip


@pytest.fixture(scope="module")
def mini_root(tmp_path_factory):
    """The mini export on disk (no emulator needed): DuckDB's source in these tests."""
    from idcbq.testing.mini_export import write_mini_export

    return write_mini_export(tmp_path_factory.mktemp("mini-export"))


@pytest.fixture
def isolated(monkeypatch, tmp_path):
    """No engine settings from the caller's environment; an empty config file."""
    for name in (
        "IDCBQ_ENGINE", "IDCBQ_SOURCE", "IDCBQ_IDC_VERSION", "IDCBQ_PROJECT",
        "GOOGLE_CLOUD_PROJECT", "IDCBQ_MAX_BYTES_BILLED", "IDCBQ_BIGQUERY_API_ENDPOINT",
    ):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    config = tmp_path / "config.toml"
    config.write_text("")
    monkeypatch.setenv("IDCBQ_CONFIG", str(config))
    return config


def run_cell(shell, line: str, cell: str, capsys):
    """Run ``%%idcbq line`` as a notebook cell; (ExecutionResult, printed output)."""
    capsys.readouterr()
    result = shell.run_cell(f"%%idcbq {line}\n{cell}")
    return result, capsys.readouterr().out


@pytest.fixture
def bq_flags(bq_mini):
    emu = bq_mini.emulator
    return (
        f"--engine bigquery --api-endpoint {emu.url} --project {emu.project} "
        f"--data-project {bq_mini.data_project} --idc-version v25 --quiet"
    )


def test_flag_spellings_match_google_magic():
    a = parse_args("df --dry_run --maximum_bytes_billed 100 --project p", cell=True)
    b = parse_args("df --dry-run --max-bytes-billed 100 --project p", cell=True)
    assert vars(a) == vars(b)
    assert a.result_var == "df" and a.dry_run and a.max_bytes_billed == "100"


def test_params_json_with_spaces_and_declared_types():
    args = parse_args('out --params {"m": ["CT", "MR"], "d:DATE": "2020-01-02"} --quiet', cell=True)
    assert args.quiet and args.result_var == "out"
    params = {p.name: p for p in cell_params(args.params)}
    assert str(params["m"].type) == "ARRAY<STRING>" and params["m"].value == ["CT", "MR"]
    assert str(params["d"].type) == "DATE" and params["d"].value.isoformat() == "2020-01-02"


@pytest.mark.bigquery
def test_cell_magic_on_bigquery_stores_dataframe(shell, bq_flags):
    shell.user_ns.pop("df", None)
    shell.run_cell_magic(
        "idcbq",
        f'df {bq_flags} --params {{"m": ["CT", "SEG"]}}',
        "SELECT Modality, COUNT(*) AS n FROM dicom_all WHERE Modality IN UNNEST(@m) GROUP BY 1",
    )
    import pandas as pd

    df = shell.user_ns["df"]
    assert isinstance(df, pd.DataFrame)
    expected = Counter(r["Modality"] for r in ROWS if r["Modality"] in ("CT", "SEG"))
    assert dict(zip(df["Modality"], df["n"], strict=True)) == dict(expected)


@pytest.mark.bigquery
def test_cell_magic_returns_dataframe_for_display(shell, bq_flags):
    frame = shell.run_cell_magic("idcbq", bq_flags, "SELECT COUNT(*) AS n FROM dicom_all")
    assert frame["n"].tolist() == [len(ROWS)]


@pytest.mark.bigquery
def test_dry_run_prints_bytes_like_bigquery_magic(shell, bq_flags, capsys):
    capsys.readouterr()
    shell.run_cell_magic("idcbq", f"{bq_flags} --dry_run", "SELECT Modality FROM dicom_all")
    out = capsys.readouterr().out
    # %%bigquery --dry_run prints exactly this first line.
    assert out.startswith("Query validated. This query will process 0 bytes."), out


@pytest.mark.bigquery
def test_max_bytes_billed_refuses_in_the_magic(shell, bq_flags, capsys):
    shell.user_ns.pop("capped", None)
    result, out = run_cell(
        shell,
        f"capped {bq_flags} --max-bytes-billed 1000",
        "SELECT Modality FROM dicom_all",
        capsys,
    )
    assert isinstance(result.error_in_exec, IdcbqError)
    assert "refused by the cost guard" in out and "1,000" in out
    assert "capped" not in shell.user_ns


@pytest.mark.bigquery
def test_line_magic_runs_named_template(shell, bq_flags, tmp_path):
    (tmp_path / "demo.by_modality.sql").write_text(TEMPLATE)
    shell.user_ns.pop("series", None)
    shell.run_line_magic(
        "idcbq", f"demo.by_modality -p modalities=MR,PT series {bq_flags} --templates {tmp_path}"
    )
    df = shell.user_ns["series"]
    expected = sorted(r["SOPInstanceUID"] for r in ROWS if r["Modality"] in ("MR", "PT"))
    assert sorted(df["SOPInstanceUID"]) == expected


@pytest.mark.bigquery
def test_sql_error_fails_the_cell_with_one_message(shell, bq_flags, capsys):
    # The offline validator (same path as `idcbq sql`) stops it before BigQuery is asked.
    result, out = run_cell(shell, bq_flags, "SELECT nope FROM dicom_all", capsys)
    assert isinstance(result.error_in_exec, IdcbqError), "the cell must fail"
    assert out.lstrip().startswith("error: <sql>:1:8: unknown column nope"), out
    assert "Traceback" not in out


@pytest.mark.bigquery
def test_bigquery_error_fails_the_cell_with_one_message(shell, bq_flags, capsys):
    # Valid to the validator, rejected when BigQuery runs it.
    sql = "SELECT CAST(Modality AS INT64) AS m FROM dicom_all"
    result, out = run_cell(shell, bq_flags, sql, capsys)
    assert isinstance(result.error_in_exec, IdcbqError)
    assert out.lstrip().startswith("error: BigQuery rejected query"), out
    assert "Traceback" not in out


def test_run_all_stops_at_the_failing_cell(shell, isolated, mini_root, capsys):
    """A bad flag fails the cell with the one-line message and its hint; no NameError later."""
    shell.user_ns.pop("never", None)
    result, out = run_cell(
        shell, f"never --source {mini_root} --max-bytes-billed lots", "SELECT 1 AS x", capsys
    )
    assert isinstance(result.error_in_exec, IdcbqError)
    assert not result.success
    lines = [line for line in out.splitlines() if line.strip()]
    assert lines[0] == "error: --max-bytes-billed 'lots': not a byte size", out
    assert all(line.startswith("  hint:") for line in lines[1:]), out
    assert "Traceback" not in out and "never" not in shell.user_ns


def test_defaults_follow_flag_env_config_chain(isolated, monkeypatch, mini_root):
    isolated.write_text(
        'engine = "bigquery"\nproject = "from-config"\nmax_bytes_billed = "50GB"\n'
        f'source = "{mini_root}"\n'
    )
    conn = engine_args(parse_args("", cell=True))
    want = ("bigquery", "from-config", 50 * 10**9)
    assert (conn.engine, conn.project, conn.max_bytes_billed) == want
    assert conn.source == str(mini_root)
    monkeypatch.setenv("IDCBQ_ENGINE", "duckdb")  # env beats the config file
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "from-env")
    monkeypatch.setenv("IDCBQ_MAX_BYTES_BILLED", "1GB")
    conn = engine_args(parse_args("", cell=True))
    assert (conn.engine, conn.project, conn.max_bytes_billed) == ("duckdb", "from-env", 10**9)
    conn = engine_args(
        parse_args("--engine bigquery --project flag --max-bytes-billed 5", cell=True)
    )
    assert (conn.engine, conn.project, conn.max_bytes_billed) == ("bigquery", "flag", 5)


def test_builtin_default_engine_is_duckdb_as_on_the_cli(isolated):
    assert engine_args(parse_args("", cell=True)).engine == "duckdb"
    assert engine_args(parse_args("summary.modalities", cell=False)).engine == "duckdb"


def test_bad_config_fails_the_cell(shell, isolated, capsys):
    isolated.write_text('engine = "sqlite"\n')
    result, out = run_cell(shell, "", "SELECT 1 AS x", capsys)
    assert isinstance(result.error_in_exec, IdcbqError)
    assert out.lstrip().startswith("error: ") and "engine" in out and "Traceback" not in out


def test_cell_without_flags_uses_the_config_source(shell, isolated, mini_root):
    isolated.write_text(f'engine = "duckdb"\nsource = "{mini_root}"\nidc_version = "v25"\n')
    frame = shell.run_cell_magic("idcbq", "", "SELECT COUNT(*) AS n FROM dicom_all")
    assert frame["n"].tolist() == [len(ROWS)]


@pytest.mark.bigquery
def test_env_engine_sends_a_flagless_cell_to_bigquery(shell, isolated, bq_mini, monkeypatch):
    emu = bq_mini.emulator
    monkeypatch.setenv("IDCBQ_ENGINE", "bigquery")
    monkeypatch.setenv("IDCBQ_BIGQUERY_API_ENDPOINT", emu.url)
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", emu.project)
    line = f"--data-project {bq_mini.data_project} --idc-version v25 --quiet"
    frame = shell.run_cell_magic("idcbq", line, "SELECT COUNT(*) AS n FROM dicom_all")
    assert frame["n"].tolist() == [len(ROWS)]
    assert any(
        key[0].engine == "bigquery"
        for key in shell.magics_manager.registry["IdcbqMagics"].runner.clients
    )


def test_dry_run_on_duckdb_validates_without_billing(shell, isolated, mini_root, capsys):
    capsys.readouterr()
    out = shell.run_cell_magic(
        "idcbq",
        f"est --dry-run --source {mini_root} --idc-version v25",
        "SELECT Modality FROM dicom_all",
    )
    assert out is None
    printed = capsys.readouterr().out
    estimated = shell.user_ns["est"]
    on_disk = sum(p.stat().st_size for p in Path(mini_root).rglob("dicom_all/*.parquet"))
    assert 0 < estimated < on_disk  # one column's chunks, read from the footers
    assert printed.startswith(f"Query validated. This query will process {estimated} bytes.")
    assert "duckdb bills nothing" in printed


def test_cell_magic_on_duckdb(shell, bq_mini):
    frame = shell.run_cell_magic(
        "idcbq",
        f'--engine duckdb --source {bq_mini.root} --idc-version v25 --params {{"c": "tcga_uvm"}}',
        "SELECT COUNT(*) AS n FROM dicom_all WHERE collection_id = @c",
    )
    assert frame is not None, "see the printed error"
    assert frame["n"].tolist() == [sum(r["collection_id"] == "tcga_uvm" for r in ROWS)]
