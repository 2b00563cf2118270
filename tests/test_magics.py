"""The IPython magics in a real InteractiveShell, on the BigQuery emulator and on DuckDB."""

from __future__ import annotations

from collections import Counter

import pytest

from idcbq.magics import cell_params, parse_args
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
def test_dry_run_prints_bytes(shell, bq_flags, capsys):
    shell.run_cell_magic("idcbq", f"{bq_flags} --dry_run", "SELECT Modality FROM dicom_all")
    out = capsys.readouterr().out
    assert "This query will process 0 bytes" in out


@pytest.mark.bigquery
def test_max_bytes_billed_refuses_in_the_magic(shell, bq_flags, capsys):
    shell.user_ns.pop("capped", None)
    shell.run_cell_magic(
        "idcbq", f"capped {bq_flags} --max-bytes-billed 1000", "SELECT Modality FROM dicom_all"
    )
    out = capsys.readouterr().out
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
def test_sql_error_prints_one_message(shell, bq_flags, capsys):
    # The offline validator (same path as `idcbq sql`) stops it before BigQuery is asked.
    result = shell.run_cell_magic("idcbq", bq_flags, "SELECT nope FROM dicom_all")
    assert result is None
    out = capsys.readouterr().out
    assert out.startswith("error: <sql>:1:8: unknown column nope")
    assert "Traceback" not in out


@pytest.mark.bigquery
def test_bigquery_error_prints_one_message(shell, bq_flags, capsys):
    # Valid to the validator, rejected when BigQuery runs it.
    sql = "SELECT CAST(Modality AS INT64) AS m FROM dicom_all"
    result = shell.run_cell_magic("idcbq", bq_flags, sql)
    assert result is None
    out = capsys.readouterr().out
    assert out.startswith("error: BigQuery rejected query"), out
    assert "Traceback" not in out


def test_cell_magic_on_duckdb(shell, bq_mini):
    frame = shell.run_cell_magic(
        "idcbq",
        f'--engine duckdb --source {bq_mini.root} --idc-version v25 --params {{"c": "tcga_uvm"}}',
        "SELECT COUNT(*) AS n FROM dicom_all WHERE collection_id = @c",
    )
    assert frame is not None, "see the printed error"
    assert frame["n"].tolist() == [sum(r["collection_id"] == "tcga_uvm" for r in ROWS)]
