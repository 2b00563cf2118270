"""The CLI in scripts: formats on stdout, piped output, -f/stdin and leading comments,
Ctrl-C, an unreachable BigQuery endpoint, the 0-row hint, template search and completion.

Every test runs the real ``idcbq`` entry point in a subprocess (stdout is a pipe, as in
a script) against the embedded sample.
"""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from tests.child import Child, idcbq_command, run_idcbq, run_on_terminal

#: Slow on DuckDB (seconds or more), but cheap to start: the SIGINT tests' query.
SLOW_SQL = (
    "-- a slow query\n"
    "SELECT COUNT(*) AS n FROM UNNEST(GENERATE_ARRAY(1, 16000)) AS a, "
    "UNNEST(GENERATE_ARRAY(1, 16000)) AS b, UNNEST(GENERATE_ARRAY(1, 16000)) AS c "
    "WHERE a + b + c = 7"
)
#: Slow in another shape: four arrays (GoogleSQL's generated arrays stop at 16000
#: elements, so the former 100M-element list is an error now, not a slow query).
SLOW_FOUR_SQL = (
    "SELECT COUNT(*) AS n FROM UNNEST(GENERATE_ARRAY(1, 16000)) AS a, "
    "UNNEST(GENERATE_ARRAY(1, 16000)) AS b, UNNEST(GENERATE_ARRAY(1, 9)) AS c, "
    "UNNEST(GENERATE_ARRAY(1, 16000)) AS d WHERE a * b = c + d"
)
UIDS_SQL = (
    "SELECT DISTINCT SeriesInstanceUID, collection_id, Modality FROM dicom_all "
    "ORDER BY SeriesInstanceUID"
)


@pytest.fixture
def cli_env(sample_root, tmp_path):
    """Environment for an ``idcbq`` subprocess: the sample, no user config, no IDCBQ_*."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("IDCBQ_")}
    env.update(
        IDCBQ_SAMPLE_ROOT=str(sample_root),
        XDG_CONFIG_HOME=str(tmp_path / "xdg"),
        COLUMNS="60",  # a narrow terminal width must not matter when stdout is a pipe
    )
    return env


def idcbq(env, *args, stdin=None, timeout=180):
    return run_idcbq(*args, env=env, stdin=stdin, timeout=timeout)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- formats and piped output ------------------------------------------------------------


def test_piped_output_keeps_every_uid_on_one_line(cli_env):
    """Default when piped is TSV; ``--format table`` piped is neither wrapped nor cut."""
    proc = idcbq(cli_env, "sql", UIDS_SQL)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "SeriesInstanceUID\tcollection_id\tModality"
    rows = [line.split("\t") for line in lines[1:]]
    assert len(rows) > 60  # more than a terminal table shows: nothing was cut
    assert all(len(r) == 3 and r[0][:2] in ("1.", "2.") and len(r[0]) > 40 for r in rows)
    uid = rows[-1][0]
    assert sum(uid in line for line in lines) == 1  # `| grep UID` finds the whole row

    table = idcbq(cli_env, "sql", UIDS_SQL, "--format", "table")
    assert table.returncode == 0, table.stderr
    body = [ln for ln in table.stdout.splitlines() if ln.startswith("│")]
    assert len(body) == len(rows)  # one line per row: no wrapping, no 50-row cut
    assert any(uid in ln and "│" in ln for ln in body)
    assert f"{len(rows)} row(s)" in table.stderr


def test_every_stdout_format_parses(cli_env):
    sql = "SELECT Modality, COUNT(*) AS n FROM dicom_all GROUP BY 1 ORDER BY 1"
    expected = idcbq(cli_env, "sql", sql, "--format", "json")
    assert expected.returncode == 0, expected.stderr
    rows = json.loads(expected.stdout)
    assert rows and set(rows[0]) == {"Modality", "n"}
    as_json = idcbq(cli_env, "sql", sql, "--json")  # the old flag is an alias
    assert json.loads(as_json.stdout) == rows
    jsonl = idcbq(cli_env, "sql", sql, "--format", "jsonl")
    assert [json.loads(ln) for ln in jsonl.stdout.splitlines()] == rows
    for fmt, delimiter in (("csv", ","), ("tsv", "\t")):
        proc = idcbq(cli_env, "sql", sql, "--format", fmt)
        parsed = list(csv.DictReader(io.StringIO(proc.stdout), delimiter=delimiter))
        assert [{"Modality": r["Modality"], "n": int(r["n"])} for r in parsed] == rows
    out_dash = idcbq(cli_env, "sql", sql, "--out", "-")  # CSV unless --format says otherwise
    assert out_dash.stdout == idcbq(cli_env, "sql", sql, "--format", "csv").stdout
    clash = idcbq(cli_env, "sql", sql, "--json", "--format", "csv")
    assert clash.returncode == 2 and "disagree" in clash.stderr


def test_nested_values_are_json_in_csv(cli_env):
    sql = "SELECT [1, 2] AS xs, STRUCT('a' AS k) AS s"
    proc = idcbq(cli_env, "sql", sql, "--format", "csv")
    assert proc.returncode == 0, proc.stderr
    row = next(csv.DictReader(io.StringIO(proc.stdout)))
    assert json.loads(row["xs"]) == [1, 2] and json.loads(row["s"]) == {"k": "a"}


# -- SQL from a file, stdin, and SQL that starts with a comment --------------------------


LEADING_COMMENTS = ("-- count by modality\n", "# count by modality\n",
                    "/* count\n by modality */\n", "--no space after the dashes\n")  # fmt: skip
QUERY = "SELECT COUNT(*) AS n FROM dicom_all WHERE Modality = @m\n"


def test_sql_that_starts_with_a_comment(cli_env):
    """``idcbq sql "$(cat q.sql)"`` when q.sql starts with a comment, in every comment style."""
    outputs = {
        leading: idcbq(cli_env, "sql", leading + QUERY, "-p", "m=CT", "--format", "csv")
        for leading in LEADING_COMMENTS
    }
    results = {k: (p.returncode, p.stdout, p.stderr) for k, p in outputs.items()}
    first = results[LEADING_COMMENTS[0]]
    assert first[0] == 0 and first[1].startswith("n\n") and int(first[1].split()[1]) > 0, first
    assert all(r[:2] == first[:2] for r in results.values()), results


def test_sql_from_a_file_stdin_and_options_after(cli_env, tmp_path):
    text = LEADING_COMMENTS[0] + QUERY
    query = tmp_path / "q.sql"
    query.write_text(text)
    runs = {
        "argument, options first": idcbq(cli_env, "sql", "--format", "csv", text, "-p", "m=CT"),
        "-f": idcbq(cli_env, "sql", "-f", str(query), "-p", "m=CT", "--format", "csv"),
        "stdin -": idcbq(cli_env, "sql", "-", "-p", "m=CT", "--format", "csv", stdin=text),
        "-f -": idcbq(cli_env, "sql", "-f", "-", "-p", "m=CT", "--format", "csv", stdin=text),
    }
    outputs = {name: (p.returncode, p.stdout, p.stderr) for name, p in runs.items()}
    first = outputs["-f"]
    assert first[0] == 0 and first[1].startswith("n\n") and int(first[1].split()[1]) > 0, first
    assert all(o[:2] == first[:2] for o in outputs.values()), outputs


def test_sql_input_errors(cli_env, tmp_path):
    query = tmp_path / "q.sql"
    query.write_text("SELECT 1 AS x")
    both = idcbq(cli_env, "sql", "SELECT 2 AS y", "-f", str(query))
    assert both.returncode == 2 and "not both" in both.stderr
    none = idcbq(cli_env, "sql")
    assert none.returncode == 2 and "no SQL given" in none.stderr
    only_comment = idcbq(cli_env, "sql", "-- nothing here\n")
    assert only_comment.returncode == 2 and "empty" in only_comment.stderr
    # A parameter value that looks like a comment stays a parameter value.
    value = idcbq(cli_env, "sql", "SELECT @v AS v", "-p", "v=-- not sql", "--format", "csv")
    assert value.returncode == 0 and value.stdout == "v\n-- not sql\n", value.stderr


# -- Ctrl-C ------------------------------------------------------------------------------


def _interrupt(env, tmp_path, sql, *extra):
    """Start ``idcbq -vv sql SQL``; SIGINT once the query runs; (exit code, stderr).

    The child's output goes to files (a ``-vv`` child blocked on a full, unread pipe
    cannot exit) and it starts with SIGINT's default even under a background CI shell.
    """
    with Child(idcbq_command("-vv", "sql", sql, *extra), env=env,
               logdir=tmp_path.parent / f"{tmp_path.name}-logs") as proc:  # fmt: skip
        assert proc.wait_for("query running", timeout=120), proc.stderr()
        time.sleep(1.0)  # well inside the query (it takes far longer)
        assert proc.poll() is None, "the query finished before it could be interrupted"
        proc.send_signal(signal.SIGINT)
        return proc.wait(timeout=60), proc.stderr()  # a hang guard, not a speed claim


@pytest.mark.parametrize("sql", [SLOW_SQL, SLOW_FOUR_SQL], ids=["joins", "four-arrays"])
def test_ctrl_c_stops_a_duckdb_query(cli_env, tmp_path, sql):
    """SIGINT mid-query: exit 130, "interrupted", no result and no temporary file.

    How fast it stops is measured in bench/, not asserted here.
    """
    out = tmp_path / "result.parquet"
    code, err = _interrupt(cli_env, tmp_path, sql, "--out", str(out))
    assert code == 130, err
    assert "interrupted" in err
    assert "Traceback" not in err
    assert list(tmp_path.iterdir()) == []  # no result, no temporary file


# -- no network --------------------------------------------------------------------------


def test_unreachable_bigquery_fails_fast_with_a_message(cli_env):
    """A closed loopback port as the BigQuery endpoint: one clear error, exit 4, no retries."""
    dead = f"http://127.0.0.1:{free_port()}"
    proc = idcbq(cli_env, "sql", "SELECT 1 AS x", "--engine", "bigquery", "--project", "p",
                 "--api-endpoint", dead, timeout=120)  # fmt: skip
    assert proc.returncode == 4, proc.stderr
    assert f"cannot reach BigQuery at {dead}" in proc.stderr and "connection refused" in proc.stderr
    assert "Traceback" not in proc.stderr
    # No speed claim: retries would show as a hang (the 120 s guard), not a failed assert.


def test_unreachable_bigquery_in_process_is_immediate():
    """The same through the API, timed without interpreter start-up."""
    import idcbq
    from idcbq.errors import QueryError

    dead = f"http://127.0.0.1:{free_port()}"
    with idcbq.connect("bigquery", project="p", api_endpoint=dead) as client:
        with pytest.raises(QueryError, match="cannot reach BigQuery") as info:
            client.sql("SELECT 1 AS x")
        assert "connection refused" in str(info.value)  # the first error, not a retry budget


# -- the 0-row hint ----------------------------------------------------------------------


def test_zero_rows_names_the_filter_value_missing_from_the_source(cli_env):
    proc = idcbq(cli_env, "query", "cohort.series_by_modality",
                 "-p", "modalities=CT", "-p", "collection_id=tcga_luad")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("\n") == 1  # the header only
    assert "no rows: collection_id 'tcga_luad' is not in this source" in proc.stderr
    count = idcbq(cli_env, "sql", "SELECT COUNT(DISTINCT collection_id) AS n FROM dicom_all")
    held = count.stdout.splitlines()[1]
    assert f"the embedded sample holds {held} collection_id values" in proc.stderr
    assert "--engine bigquery" in proc.stderr
    case = idcbq(cli_env, "query", "cohort.series_by_modality", "-p", "modalities=ct")
    assert "did you mean 'CT'?" in case.stderr


def test_zero_rows_hint_in_the_api(sample_root):
    import idcbq
    from idcbq.engines.empty import NoRowsWarning

    with idcbq.connect("duckdb", source=sample_root) as client:
        with pytest.warns(NoRowsWarning, match="collection_id 'tcga_luad' is not in this source"):
            result = client.query("cohort.series_by_modality", modalities=["CT"],
                                  collection_id="tcga_luad")  # fmt: skip
        assert len(result) == 0 and "tcga_luad" in result.empty_hint
        # 0 rows for another reason: every filter value exists, so no hint.
        present = client.sql("SELECT collection_id FROM dicom_all LIMIT 1").table.column(0)[0]
        quiet = client.sql(
            "SELECT * FROM dicom_all WHERE collection_id = @collection_id AND instance_size < 0",
            params={"collection_id": present.as_py()},
        )
        assert len(quiet) == 0 and quiet.empty_hint is None


# -- template discovery and completion ---------------------------------------------------


def test_templates_list_search(cli_env):
    proc = idcbq(cli_env, "templates", "list", "--search", "seg", "--json")
    rows = json.loads(proc.stdout)
    names = {r["name"] for r in rows}
    assert "seg.series_of_collection" in names and "summary.collections" not in names
    row = next(r for r in rows if r["name"] == "seg.series_of_collection")
    assert row["tables"] == ["dicom_all"] and "collection_id" in row["parameters"]
    by_param = idcbq(cli_env, "templates", "list", "--search", "modalities")
    assert "cohort.series_by_modality" in by_param.stdout and "-p modalities" in by_param.stdout
    nothing = idcbq(cli_env, "templates", "list", "--search", "no-such-thing-xyz")
    assert nothing.returncode == 0 and nothing.stdout == "" and "no template" in nothing.stderr


def _complete(env, words: str, cword: int) -> list[str]:
    env = {**env, "_IDCBQ_COMPLETE": "bash_complete", "COMP_WORDS": words,
           "COMP_CWORD": str(cword)}  # fmt: skip
    proc = subprocess.run([sys.executable, "-m", "idcbq"], env=env, capture_output=True,
                          text=True, timeout=120, check=False)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return [line.split(",", 1)[1] for line in proc.stdout.splitlines()]


def test_shell_completion_of_template_and_parameter_names(cli_env):
    """click's ``_IDCBQ_COMPLETE`` protocol, as the bash script calls it."""
    assert "cohort.series_by_modality" in _complete(cli_env, "idcbq query cohort.se", 2)
    assert _complete(cli_env, "idcbq templates show summary.c", 3) == [
        "summary.collections",
        "summary.counts",
    ]
    assert set(_complete(cli_env, "idcbq query cohort.series_by_modality -p ", 4)) == {
        "modalities=",
        "collection_id=",
    }
    given = _complete(cli_env, "idcbq query cohort.series_by_modality -p modalities=CT -p ", 6)
    assert given == ["collection_id="]


def test_a_terminal_gets_a_table_of_the_first_rows(cli_env):
    """stdout on a pseudo-terminal: a rich table, first 50 rows, the count on stderr."""
    proc = run_on_terminal(idcbq_command("sql", UIDS_SQL), env=cli_env)
    err, shown = proc.stderr, proc.stdout
    assert proc.returncode == 0, err
    assert "SeriesInstanceUID" in shown and "┃" in shown
    assert "(showing 50)" in err
