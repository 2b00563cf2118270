"""The CLI: templates list/show/render/check, query and sql, on DuckDB over the sample."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from idcbq.cli import cli
from idcbq.cli.common import run_cli

FIXTURES = Path(__file__).parent / "data" / "templates"


@pytest.fixture
def run(sample_root, monkeypatch, capsys):
    """Run the real entry point (error mapping and exit codes included)."""
    monkeypatch.setenv("IDCBQ_SOURCE", str(sample_root))
    monkeypatch.setenv("IDCBQ_TEMPLATES", str(FIXTURES))
    monkeypatch.delenv("IDCBQ_ENGINE", raising=False)

    def _run(*args: str) -> tuple[int, str, str]:
        code = run_cli(cli, list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return _run


def test_templates_list_json_and_text(run):
    code, out, _ = run("templates", "list", "--json")
    assert code == 0
    names = {row["name"]: row for row in json.loads(out)}
    assert names["test.modality_counts"]["description"].startswith("Number of series")
    code, out, _ = run("templates", "list")
    assert code == 0 and "test.series_by_modality" in out


def test_templates_show(run):
    code, out, _ = run("templates", "show", "test.typed_filters")
    assert code == 0
    assert "collection_id: STRING (required" in out and "HAVING COUNT(*) >= @min_instances" in out


def test_templates_render_bigquery_and_duckdb(run):
    code, out, _ = run("templates", "render", "test.series_by_modality", "-p", "modalities=CT,MR",
                       "-p", "collection_id=2024-01-01")  # fmt: skip
    assert code == 0
    assert "`bigquery-public-data.idc_current.dicom_all`" in out
    assert '-- @collection_id STRING = "2024-01-01"' in out
    assert '-- @modalities ARRAY<STRING> = ["CT", "MR"]' in out
    code, out, _ = run(
        "templates",
        "render",
        "test.series_by_modality",
        "-p",
        "modalities=CT",
        "--engine",
        "duckdb",
    )
    assert code == 0 and "$modalities" in out and "@modalities" not in out


def test_templates_check_ok_and_failing(run, tmp_path):
    code, _, err = run("templates", "check", str(FIXTURES))
    assert code == 0, err
    bad = tmp_path / "bad.cols.sql"
    bad.write_text("/*---\nname: bad.cols\ndescription: d\noutput: {n: INT64}\n---*/\n"
                   "SELECT COUNT(*) AS n\nFROM {{ table('dicom_all') }}\nWHERE Modalty = 'CT'\n")  # fmt: skip
    worse = tmp_path / "bad.table.sql"
    worse.write_text("/*---\nname: bad.table\ndescription: d\n---*/\nSELECT 1 FROM evil.t\n")
    code, _, err = run("templates", "check", str(tmp_path))
    assert code == 1
    assert f"{bad}:8:7: unknown column Modalty" in err
    assert f"{worse}:5:15: table evil.t is not allowed" in err
    assert "2 problem(s)" in err


def test_query_json_out_and_errors(run, tmp_path):
    code, out, err = run(
        "query", "test.series_by_modality", "-p", "modalities=CT", "--limit", "3", "--json"
    )
    assert code == 0, err
    rows = json.loads(out)
    assert len(rows) == 3 and {r["Modality"] for r in rows} == {"CT"}
    target = tmp_path / "out" / "r.parquet"
    code, _, err = run("query", "test.modality_counts", "--out", str(target))
    assert code == 0, err
    table = pq.read_table(target)
    assert table.column_names == ["Modality", "series", "instances"]
    assert b"idcbq.provenance" in table.schema.metadata
    code, _, err = run("query", "test.series_by_modality")
    assert code == 2 and "needs parameter 'modalities'" in err
    code, _, err = run("query", "test.series_by_modality", "-p", "modalities:INT64=1")
    assert code == 2 and "declares ARRAY<STRING>" in err
    code, _, err = run("query", "test.modality_counts", "--out", str(tmp_path / "x.xlsx"))
    assert code == 2 and not (tmp_path / "x.xlsx").exists()


def test_query_readable_table(run):
    code, out, err = run("query", "test.modality_counts", "--limit", "2", "--format", "table")
    assert code == 0 and "Modality" in out and "2 row(s)" in err


def test_sql_command(run):
    code, out, err = run("sql", "SELECT COUNT(*) AS n FROM dicom_all WHERE instance_size > @s",
                         "-p", "s:INT64=0", "--json")  # fmt: skip
    assert code == 0, err
    assert json.loads(out)[0]["n"] > 0
    code, _, err = run("sql", "SELECT Modalty FROM dicom_all")
    assert code == 2
    assert "<sql>:1:8: unknown column Modalty" in err and "did you mean Modality?" in err
    code, _, err = run("sql", "DROP TABLE dicom_all")
    assert code == 2 and "read-only" in err


def test_help_lists_commands():
    result = CliRunner().invoke(cli, ["templates", "--help"])
    assert result.exit_code == 0 and "check" in result.output
