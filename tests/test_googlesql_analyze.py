"""GoogleSQL analysis as a validation step: BigQuery-invalid SQL is rejected, located.

Real ZetaSQL (the ``zetasql`` package, WebAssembly) analyzes the SQL; nothing is mocked.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from idcbq.errors import ValidationError
from idcbq.params import BoundParameter
from idcbq.validate import check
from idcbq.validate.googlesql import analyze_sql, enabled_by_env

TYPE_ERROR = textwrap.dedent(
    """\
    /*---
    name: bad.type_error
    description: Compares an INT64 column to a STRING (rejected by BigQuery).
    tables: [dicom_all]
    output: {SeriesInstanceUID: STRING, x: INT64}
    ---*/
    SELECT
      SeriesInstanceUID,
      MIN(instance_size) AS x
    FROM {{ table('dicom_all') }}
    {% if true %}
    WHERE instance_size = 'abc'
    {% endif %}
    GROUP BY SeriesInstanceUID
    """
)


def test_aggregation_of_aggregation_is_rejected_with_line_and_column():
    sql = "SELECT MIN(x) AS x\nFROM (SELECT 1 AS x)\nHAVING MIN(x) > 0"
    problems = analyze_sql(sql)
    assert len(problems) == 1
    err = problems[0]
    assert "Aggregations of aggregations are not allowed" in err.message
    assert (err.location.line, err.location.column) == (3, 12)
    assert err.location.snippet == "HAVING MIN(x) > 0"


def test_valid_sql_on_the_reference_catalog_passes():
    sql = (
        "SELECT Modality, COUNT(DISTINCT SeriesInstanceUID) AS n "
        "FROM `bigquery-public-data.idc_v25.dicom_all` WHERE collection_id IN UNNEST(@c) "
        "GROUP BY Modality"
    )
    params = [BoundParameter.of("c", "ARRAY<STRING>", ["nlst"])]
    assert analyze_sql(sql, params=params, idc_version="v25") == []


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("SELECT Modality AS m FROM dicom_all WHERE m = 'CT'", "Unrecognized name: m"),
        ("SELECT 1 AS Rows FROM dicom_all", "Syntax error"),
        ("SELECT Modality FROM dicom_all GROUP BY 2", "GROUP BY"),
        ("SELECT x FROM dicom_all d, UNNEST(d.ImageType) x WHERE x = 1", "No matching signature"),
        ("SELECT Modality FROM dicom_all QUALIFY TRUE", "QUALIFY"),
    ],
)
def test_bigquery_rejections(sql, message):
    problems = analyze_sql(sql)
    assert problems, sql
    assert message.lower() in problems[0].message.lower()
    assert problems[0].location.line == 1


def test_parameters_are_typed_for_the_analyzer():
    sql = "SELECT COUNT(*) AS n FROM dicom_all WHERE instance_size > @n"
    assert analyze_sql(sql, params=[BoundParameter.of("n", "INT64", 5)]) == []
    bad = analyze_sql(sql, params=[BoundParameter.of("n", "DATE", None)])
    assert bad and "No matching signature" in bad[0].message


def test_tables_outside_the_idc_catalog_are_not_analyzed():
    # GoogleSQL cannot know the columns of a user's own table: no verdict, no error.
    assert analyze_sql("SELECT nope FROM `my-proj.mine.t`") == []


def test_check_runs_the_analysis_only_when_asked():
    # an error only GoogleSQL's analyzer sees (the strict layer refuses INTERVAL '1 day',
    # instance_size = 'abc', ambiguous joined names and out-of-range dates like
    # '2020-13-45' on its own): a date literal with a time part, compared with a DATE
    sql = "SELECT COUNT(*) AS n FROM dicom_all WHERE StudyDate = '2020-01-01 10:00:00'"
    _, problems = check(sql)
    assert problems == []
    _, problems = check(sql, googlesql=True)
    assert len(problems) == 1 and isinstance(problems[0], ValidationError)


def test_templates_check_reports_template_file_line_col(tmp_path: Path, capsys):
    from idcbq.cli import cli
    from idcbq.cli.common import run_cli

    path = tmp_path / "bad.type_error.sql"
    path.write_text(TYPE_ERROR)
    code = run_cli(cli, ["templates", "check", str(path)])
    out, err = capsys.readouterr()
    text = out + err
    assert code == 1, text
    # Line 12 of the template file (the rendered SQL has no {% if %} lines).
    assert f"{path}:12:7: GoogleSQL: No matching signature for operator =" in text


def test_shipped_templates_pass_the_analysis():
    from idcbq.templates import TemplateCatalog
    from idcbq.validate.runner import check_template

    catalog = TemplateCatalog.discover(use_env=False)
    problems = {t.name: check_template(t) for t in catalog}
    assert {k: [str(p) for p in v] for k, v in problems.items() if v} == {}


def test_env_switch():
    assert enabled_by_env({"IDCBQ_GOOGLESQL_ANALYSIS": "1"})
    assert not enabled_by_env({})


def test_warm_analysis_is_reused():
    import time

    sql = "SELECT SeriesInstanceUID FROM dicom_all WHERE Modality = 'CT'"
    analyze_sql(sql)  # warms the registered catalog
    started = time.perf_counter()
    for _ in range(3):
        assert analyze_sql(sql) == []
    per_query = (time.perf_counter() - started) / 3
    assert per_query < 2.0  # loose: shared CI boxes; bench/googlesql.py measures it


def test_client_opt_in_rejects_before_any_engine_runs(sample_root):
    import idcbq

    sql = "SELECT COUNT(*) AS n FROM dicom_all WHERE instance_size = 'abc'"  # INT64 = STRING
    with idcbq.connect(engine="duckdb", source=str(sample_root)) as client:
        client.googlesql_analysis = True
        with pytest.raises(ValidationError, match="No matching signature for operator ="):
            client.sql(sql)


def test_magic_dry_run_asks_googlesql(sample_root, monkeypatch, capsys):
    import argparse

    from idcbq.magics import _Runner

    monkeypatch.setenv("IDCBQ_SOURCE", str(sample_root))
    runner = _Runner()
    args = argparse.Namespace(
        engine="duckdb", source=str(sample_root), idc_version=None, project=None,
        data_project=None, key_file=None, location=None, api_endpoint=None,
        max_bytes_billed=None, no_bqstorage=False, template_dirs=[], quiet=True,
        dry_run=True, limit=None, result_var=None,
    )  # fmt: skip
    sql = "SELECT COUNT(*) AS n FROM dicom_all WHERE instance_size = 'abc'"  # INT64 = STRING
    try:
        with pytest.raises(ValidationError, match="No matching signature for operator ="):
            runner.run(None, args, lambda client: client.prepare_sql(sql))
        client = next(iter(runner.clients.values()))
        assert client.googlesql_analysis is False  # only the dry run asked
    finally:
        runner.close()


def test_without_zetasql_analysis_is_skipped_and_engine_refused(monkeypatch, caplog):
    # Uninstalling zetasql from the shared venv is not an option: the availability probe
    # is replaced, which is exactly what a missing import makes it return.
    import idcbq.validate.googlesql as vg
    from idcbq.engines import get_engine
    from idcbq.engines.googlesql import runtime as rt
    from idcbq.errors import UsageError

    monkeypatch.setattr(rt, "zetasql_available", lambda: False)
    monkeypatch.setattr(vg, "_NOTICE_GIVEN", False)
    with caplog.at_level("WARNING", logger="idcbq"):
        assert analyze_sql("SELECT MIN(x) AS x FROM (SELECT 1 AS x) HAVING MIN(x) > 0") == []
    assert "pip install 'idcbq[googlesql]'" in caplog.text
    with pytest.raises(UsageError) as info:
        get_engine("googlesql")
    assert "idcbq[googlesql]" in str(info.value)
