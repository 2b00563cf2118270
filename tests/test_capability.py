"""What DuckDB cannot run is an idcbq error naming it and the engines that can (issue 17 g).

The allow-list (``idcbq/transpile/capability.py``) is fail-closed: a BigQuery function or
construct it does not name never reaches DuckDB, so a user sees which construct and which
engine to use instead of DuckDB's text about SQL idcbq generated ("Did you mean age?",
"INSTALL inet", a parser error quoting the translation). ``templates check`` says per engine
whether a template can run. The refused constructs are the probes in
``tests/probes/refused.yaml``; GoogleSQL (the googlesql engine) shows which engines run them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from idcbq.errors import IdcbqError, QueryError
from idcbq.transpile.capability import (
    DUCKDB_FUNCTIONS,
    UnsupportedOnEngine,
    constructs,
    duckdb_refusals,
    engines_for,
)

PROBES = Path(__file__).parent / "probes"
T = "`bigquery-public-data.idc_current.dicom_all`"
REFUSED = yaml.safe_load((PROBES / "refused.yaml").read_text())
REPO = Path(__file__).resolve().parents[1]

#: DuckDB's own words that must never reach a user (they are about idcbq's translation).
DUCKDB_TEXT = ("LINE 1", "Did you mean", "Candidate bindings", "INSTALL", "Catalog Error", "^")

FINGERPRINT_TEMPLATE = """/*---
name: fp.sample
description: A deterministic tenth of the series.
---*/
SELECT DISTINCT SeriesInstanceUID
FROM {{ table('dicom_all') }}
WHERE MOD(ABS(FARM_FINGERPRINT(SeriesInstanceUID)), 10) = 0
"""


def refused_name(probe: dict) -> str:
    """The construct a refused probe names: its xfail reason reads "refused on DuckDB: NAME (...)"."""
    return probe["xfail"].removeprefix("refused on DuckDB: ").split(" (")[0]


@pytest.fixture(scope="module")
def duck_client(sample_root):
    from idcbq.api import Client
    from idcbq.engines.duckdb import DuckDBEngine

    engine = DuckDBEngine.from_options(source=sample_root, idc_version="current")
    yield Client(engine)
    engine.close()


@pytest.fixture
def run(sample_root, monkeypatch, capsys, tmp_path):
    """The real CLI entry point in-process, with a template dir holding ``fp.sample``."""
    from idcbq.cli import cli
    from idcbq.cli.common import run_cli

    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "fp.sample.sql").write_text(FINGERPRINT_TEMPLATE)
    monkeypatch.setenv("IDCBQ_SOURCE", str(sample_root))
    monkeypatch.setenv("IDCBQ_TEMPLATES", str(templates))
    monkeypatch.delenv("IDCBQ_ENGINE", raising=False)

    def _run(*args: str) -> tuple[int, str, str]:
        code = run_cli(cli, list(args))
        out, err = capsys.readouterr()
        return code, out, err

    _run.templates = templates
    return _run


@pytest.mark.parametrize("probe", REFUSED, ids=[p["name"] for p in REFUSED])
def test_refused_construct_is_named_with_the_engines_that_run_it(duck_client, gsql_engine, probe):
    sql = probe["sql"].replace("{T}", T)
    name = refused_name(probe)
    with pytest.raises(UnsupportedOnEngine) as caught:
        duck_client.sql(sql)
    error = caught.value
    assert error.construct == name and error.engine == "duckdb"
    assert error.exit_code == 2
    assert f"{name} is not supported on duckdb; engines that can run it: " in str(error)
    assert not any(text in str(error) for text in DUCKDB_TEXT), str(error)
    # The engines named are the ones that run it: GoogleSQL's reference implementation
    # answers exactly when the error says it can.
    try:
        gsql_engine.execute(gsql_engine.prepare(sql, ()))
        googlesql_runs = True
    except IdcbqError:
        googlesql_runs = False
    assert ("googlesql" in error.engines) == googlesql_runs, error.engines
    assert error.engines[0] == "bigquery"


def test_every_allowlisted_function_is_called_by_a_passing_probe():
    """Add a name to DUCKDB_FUNCTIONS only with a probe showing DuckDB answers like GoogleSQL."""
    from idcbq.transpile.scripts import split_script

    # GoogleSQL's reference implementation has no approximate aggregates; DuckDB's
    # approx_count_distinct is an estimate, as BigQuery's is.
    unprobed = {"APPROX_COUNT_DISTINCT"}
    called: set[str] = set()
    for path in sorted(PROBES.glob("*.yaml")):
        for probe in yaml.safe_load(path.read_text()):
            if probe.get("error") or probe.get("xfail"):
                continue
            query, _ = split_script(probe["sql"].replace("{T}", T))
            called.update(constructs(query))
    assert sorted(DUCKDB_FUNCTIONS - called - unprobed) == []
    assert len(DUCKDB_FUNCTIONS) >= 150


def test_names_are_bigquery_spellings_and_nothing_unknown_passes():
    import sqlglot

    def names(sql: str) -> list[str]:
        return duckdb_refusals(sqlglot.parse_one(sql, read="bigquery"))

    assert names("SELECT SAFE_DIVIDE(1, 2), SAFE.SUBSTR('a', 1), [1][SAFE_OFFSET(0)]") == []
    assert names("SELECT NET.HOST('x'), NET.REG_DOMAIN('y')") == ["NET.HOST", "NET.REG_DOMAIN"]
    assert names("SELECT SAFE.FARM_FINGERPRINT('a')") == ["FARM_FINGERPRINT"]
    assert names("SELECT no_such_function(1)") == ["NO_SUCH_FUNCTION"]
    assert names("SELECT `proj.ds.fn`(1)") == ["PROJ.DS.FN"]
    assert names("SELECT * FROM t FOR SYSTEM_TIME AS OF CURRENT_TIMESTAMP()") == [
        "FOR SYSTEM_TIME AS OF"
    ]
    assert engines_for("FOR SYSTEM_TIME AS OF") == ("bigquery",)
    assert engines_for("ST_DISTANCE") == ("bigquery",)
    assert engines_for("PROJ.DS.FN") == ("bigquery",)
    assert engines_for("FARM_FINGERPRINT") == ("bigquery", "googlesql")


def test_query_and_sql_refuse_in_one_line_with_exit_2(run):
    code, out, err = run("query", "fp.sample")
    assert code == 2, err
    assert out == ""
    assert err.startswith(
        "error: FARM_FINGERPRINT is not supported on duckdb; engines that can run it: "
        "bigquery, googlesql\n"
    ), err
    assert "--engine bigquery" in err
    assert not any(text in err for text in DUCKDB_TEXT), err
    assert "Traceback" not in err
    code, _, err = run("sql", "SELECT NET.HOST('https://www.example.com/a') AS h")
    assert code == 2
    assert "NET.HOST is not supported on duckdb" in err and "inet" not in err.lower()


def test_query_refusal_in_a_real_process(sample_root, tmp_path):
    """The installed entry point: same line, same exit code, SQL never quoted."""
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "fp.sample.sql").write_text(FINGERPRINT_TEMPLATE)
    env = {
        **os.environ,
        "IDCBQ_SOURCE": str(sample_root),
        "IDCBQ_TEMPLATES": str(templates),
        "PYTHONPATH": str(REPO),
    }
    env.pop("IDCBQ_ENGINE", None)
    out, err = tmp_path / "out", tmp_path / "err"
    with out.open("w") as o, err.open("w") as e:
        code = subprocess.run(
            [sys.executable, "-m", "idcbq", "query", "fp.sample"],
            stdout=o, stderr=e, stdin=subprocess.DEVNULL, env=env, timeout=300, check=False,
        ).returncode  # fmt: skip
    text = err.read_text()
    assert code == 2, text
    assert text.splitlines()[0] == (
        "error: FARM_FINGERPRINT is not supported on duckdb; engines that can run it: "
        "bigquery, googlesql"
    )
    assert "SeriesInstanceUID" not in text and "SELECT" not in text


def test_templates_check_says_per_engine_whether_a_template_runs(run):
    fp = run.templates / "fp.sample.sql"
    code, out, err = run("templates", "check", str(fp))
    assert code == 1
    assert "fp.sample: bigquery ok, googlesql ok, duckdb no\n" in out
    assert f"error: {fp}: FARM_FINGERPRINT is not supported on duckdb" in err
    assert "1 problem(s)" in err
    code, out, err = run(
        "templates", "check", "--engine", "bigquery", "--engine", "googlesql", str(fp)
    )
    assert code == 0, err
    assert "fp.sample: bigquery ok, googlesql ok\n" in out
    code, out, err = run("templates", "check", "--engine", "duckdb", "--json", str(fp))
    assert code == 1
    report = json.loads(out)
    assert report["checked"] == 1 and report["problems"] == 1
    (entry,) = report["templates"]
    assert entry["name"] == "fp.sample" and entry["path"] == str(fp)
    assert list(entry["engines"]) == ["duckdb"]
    assert entry["engines"]["duckdb"]["ok"] is False
    (problem,) = entry["engines"]["duckdb"]["problems"]
    assert problem.startswith("FARM_FINGERPRINT is not supported on duckdb")


def test_templates_check_json_of_a_template_that_runs_everywhere(run):
    sql = REPO / "sql" / "summary.modalities.sql"
    code, out, err = run("templates", "check", "--json", str(sql))
    assert code == 0, err
    (entry,) = json.loads(out)["templates"]
    assert entry["engines"] == {
        engine: {"ok": True, "problems": []} for engine in ("bigquery", "googlesql", "duckdb")
    }


@pytest.mark.slow
def test_every_shipped_template_runs_on_every_engine():
    from idcbq.templates import TemplateCatalog
    from idcbq.validate.runner import check_template_engines

    for template in TemplateCatalog.discover(()):
        common, only = check_template_engines(template)
        assert common == [] and only == {"bigquery": [], "googlesql": [], "duckdb": []}, (
            template.name,
            [str(p) for p in [*common, *only["duckdb"]]],
        )


# DuckDB's own errors, raised by DuckDB itself: the engine runs SQL given as DuckDB SQL (what
# idcbq's translation would be), and the user's SQL (source_sql) is what they wrote.


def _run_duck(sample_engine, duck_sql: str, user_sql: str):
    from idcbq.engines.base import PreparedQuery

    query = PreparedQuery(engine="duckdb", sql=duck_sql, source_sql=user_sql, params=())
    with pytest.raises(IdcbqError) as caught:
        sample_engine.execute(query)
    return caught.value


def test_duckdb_binder_error_has_no_suggestions_or_quoted_sql(sample_engine):
    error = _run_duck(
        sample_engine,
        "SELECT agee FROM (SELECT 1 AS age) AS _idcbq_t",
        "SELECT agee FROM t",
    )
    assert isinstance(error, QueryError)
    assert 'Referenced column "agee" not found' in str(error)
    assert "_idcbq_t" not in str(error) and '"age"' not in str(error)
    assert not any(text in str(error) for text in DUCKDB_TEXT), str(error)


def test_duckdb_missing_function_and_extension_name_the_engines(sample_engine):
    error = _run_duck(sample_engine, "SELECT lenght('a') AS n", "SELECT LENGHT('a') AS n")
    assert isinstance(error, UnsupportedOnEngine) and error.construct == "LENGHT"
    assert "length" not in str(error).lower().replace("lenght", "")
    error = _run_duck(sample_engine, "SELECT host('http://a.b/c') AS h", "SELECT NET.HOST('x')")
    assert isinstance(error, UnsupportedOnEngine) and error.construct == "HOST"
    assert "INSTALL" not in str(error) and "inet" not in str(error)
    assert "engines that can run it: bigquery, googlesql" in str(error)


def test_duckdb_parser_error_never_quotes_the_translation(sample_engine):
    error = _run_duck(
        sample_engine,
        "SELECT * FROM (SELECT 1 AS a) AS _idcbq_t FOR SYSTEM_TIME AS OF 1",
        "SELECT * FROM t",
    )
    assert isinstance(error, QueryError)
    assert str(error).startswith("DuckDB cannot parse idcbq's translation of this query")
    assert "_idcbq_t" not in str(error) and "SYSTEM_TIME" not in str(error).upper()
    assert not any(text in str(error) for text in DUCKDB_TEXT), str(error)
    assert "--engine bigquery" in str(error)
