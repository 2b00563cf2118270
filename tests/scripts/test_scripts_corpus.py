"""Scripts and metadata views (issue 20 §4): idcbq's own corpus, on DuckDB and GoogleSQL.

Each case of ``corpus.yaml`` runs through the API on the DuckDB engine and on the
googlesql engine (the reference implementation runs every statement a script runs)
and the answers are compared (names, BigQuery types, rows; order where the query
orders). The same scripts run through ``idcbq sql -`` (stdin) and give the API's rows.
A ``refused`` case must be refused on both engines, before any engine runs the refused
statement, at ``<sql>:line:col`` with the named reason (CLI: exit 2, bad input, and that location).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from idcbq.errors import ExitCode, ValidationError
from tests.child import run_idcbq
from tests.cross_engine_support import compare, normalise, order_keys, rows

CASES = yaml.safe_load((Path(__file__).parent / "corpus.yaml").read_text())
RUNS = [pytest.param(c, id=c["name"]) for c in CASES if "refused" not in c]
REFUSED = [pytest.param(c, id=c["name"]) for c in CASES if "refused" in c]


@pytest.fixture(scope="module")
def duck(analyzed_duck):
    return analyzed_duck


@pytest.fixture(scope="module")
def gsql(gsql_engine):
    from idcbq.api import Client

    client = Client(gsql_engine)
    client.explain_empty = False
    return client


def test_corpus_covers_every_construct():
    text = "\n".join(c["sql"] for c in CASES)
    for construct in (
        "CREATE TEMP FUNCTION", "CREATE TEMP TABLE", "DECLARE", "SET ", "EXECUTE IMMEDIATE",
        "INFORMATION_SCHEMA.COLUMNS", "INFORMATION_SCHEMA.TABLES", "_TABLE_SUFFIX",
        "LANGUAGE js", "region-us",
    ):  # fmt: skip
        assert construct in text, construct
    assert len(RUNS) >= 12 and len(REFUSED) >= 8


@pytest.mark.slow
@pytest.mark.parametrize("case", RUNS)
def test_script_same_on_duckdb_and_googlesql(duck, gsql, case):
    got = duck.sql(case["sql"])
    oracle = gsql.sql(case["sql"])
    assert got.table.num_rows > 0, "a corpus case must return rows to compare"
    # the ORDER BY of the last query (inside the string EXECUTE IMMEDIATE runs, too)
    compare(oracle.table, got.table, ordered=order_keys(got.source_sql), types=True)


@pytest.mark.parametrize("case", REFUSED)
@pytest.mark.parametrize("side", ["duck", "gsql"])
def test_unsafe_script_refused_at_its_statement(duck, gsql, case, side):
    client = duck if side == "duck" else gsql
    line, col, text = case["refused"]
    with pytest.raises(ValidationError) as info:
        client.sql(case["sql"])
    loc = info.value.location
    assert (loc.path, loc.line, loc.column) == ("<sql>", line, col), str(info.value)
    assert text in str(info.value)


@pytest.mark.slow
@pytest.mark.parametrize("case", RUNS)
def test_script_through_the_cli_stdin(duck, sample_root, case):
    proc = run_idcbq(
        "sql", "-", "--source", sample_root, "--idc-version", "current", "--format", "json",
        stdin=case["sql"],
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    api = duck.sql(case["sql"]).table
    cli = [tuple(normalise(v) for v in row.values()) for row in json.loads(proc.stdout)]
    assert [r for r in rows(api)] == cli or sorted(map(repr, rows(api))) == sorted(map(repr, cli))


@pytest.mark.slow
@pytest.mark.parametrize("case", REFUSED[:3], ids=lambda c: c["name"])
def test_refused_script_through_the_cli(sample_root, case):
    line, col, text = case["refused"]
    proc = run_idcbq("sql", "-", "--source", sample_root, stdin=case["sql"])
    assert proc.returncode == ExitCode.BAD_INPUT, proc.stderr
    assert f"<sql>:{line}:{col}:" in proc.stderr and text in proc.stderr
    assert "Traceback" not in proc.stderr


def test_unbound_parameter_names_itself_and_how_to_pass_it(duck, sample_root):
    """Issue 20 §5: a notebook's ``@collection`` without a value (API, script, CLI)."""
    sql = "SELECT COUNT(*) AS n FROM dicom_all WHERE collection_id = @collection"
    for text in (sql, f"DECLARE k INT64 DEFAULT 1;\nCREATE TEMP TABLE t AS SELECT 1 AS a;\n{sql}"):
        with pytest.raises(ValidationError) as info:
            duck.sql(text)
        assert "@collection" in info.value.message
        assert "-p collection=VALUE" in (info.value.hint or "")
    proc = run_idcbq("sql", "-", "--source", sample_root, stdin=sql)
    assert proc.returncode == ExitCode.BAD_INPUT
    assert "<sql>:1:59:" in proc.stderr and "-p collection=VALUE" in proc.stderr
    ok = run_idcbq("sql", "-", "--source", sample_root, "-p", "collection=nlst", stdin=sql)
    assert ok.returncode == 0, ok.stderr
