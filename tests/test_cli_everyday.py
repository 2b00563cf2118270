"""Everyday paths a new user takes (issue 17 m), through the real ``idcbq`` entry point.

``sample seed`` says what it did in words; a terminal table never folds a UID; the
geometry template filters by collection and states its bounds; the 0-row hint covers
ad-hoc SQL; after ``--engine googlesql`` the interpreter exits quietly.
"""

from __future__ import annotations

import os
import re
import sys

import pytest

from tests.child import idcbq_command, run, run_idcbq, run_on_terminal

UIDS_SQL = (
    "SELECT DISTINCT SeriesInstanceUID, StudyInstanceUID, collection_id, SeriesDescription "
    "FROM dicom_all ORDER BY SeriesInstanceUID LIMIT 20"
)


@pytest.fixture
def cli_env(sample_root, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("IDCBQ_")}
    env.update(IDCBQ_SAMPLE_ROOT=str(sample_root), XDG_CONFIG_HOME=str(tmp_path / "xdg"))
    return env


@pytest.mark.gcs
def test_sample_seed_says_what_it_did_in_words(cli_env, gcs_server):
    proc = run_idcbq("sample", "seed", "--endpoint", gcs_server.url, "--series", "1",
                     env=cli_env)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "SeedReport(" not in proc.stdout and "[" not in proc.stdout, proc.stdout
    assert re.fullmatch(
        r"seeded \d+ objects \(\d+ bytes\) of 1 series into \S+ at "
        + re.escape(gcs_server.url)
        + r" \(gcs\); 0 mismatched\n",
        proc.stdout,
    ), proc.stdout


@pytest.mark.parametrize("columns", [60, 100])
def test_a_terminal_table_never_folds_or_cuts_a_uid(cli_env, columns):
    piped = run_idcbq("sql", UIDS_SQL, "--format", "csv", env=cli_env)
    assert piped.returncode == 0, piped.stderr
    uids = {
        cell
        for line in piped.stdout.splitlines()[1:]
        for cell in line.split(",")[:2]  # the two UID columns
    }
    assert len(uids) == 40
    shown = run_on_terminal(idcbq_command("sql", UIDS_SQL), env=cli_env, columns=columns)
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    whole = {uid for uid in uids if any(uid in line for line in lines)}
    assert whole == uids, sorted(uids - whole)[:3]


def test_series_by_geometry_filters_by_collection_with_inclusive_bounds(cli_env):
    shown = run_idcbq("templates", "show", "cohort.series_by_geometry", env=cli_env)
    assert shown.returncode == 0, shown.stderr
    assert "collection_id: STRING" in shown.stdout
    assert shown.stdout.count("inclusive") >= 3  # each bound says so
    every = run_idcbq("query", "cohort.series_by_geometry", "-p", "modality=CT",
                      "-p", "max_slice_thickness=100", "--format", "csv", env=cli_env)  # fmt: skip
    assert every.returncode == 0, every.stderr
    rows = [line.split(",") for line in every.stdout.splitlines()[1:]]
    collections = {r[0] for r in rows}
    assert len(collections) >= 2, collections
    chosen = sorted(collections)[0]
    thickness = max(float(r[2]) for r in rows if r[0] == chosen and r[2])
    one = run_idcbq("query", "cohort.series_by_geometry", "-p", "modality=CT",
                    "-p", f"collection_id={chosen}", "-p", f"min_slice_thickness={thickness}",
                    "-p", f"max_slice_thickness={thickness}", "--format", "csv",
                    env=cli_env)  # fmt: skip
    assert one.returncode == 0, one.stderr
    got = [line.split(",") for line in one.stdout.splitlines()[1:]]
    assert got, "a series exactly at both bounds is in the range (bounds are inclusive)"
    assert {r[0] for r in got} == {chosen}
    assert all(float(r[2]) == thickness for r in got)


@pytest.mark.parametrize(
    ("sql", "params", "expected"),
    [
        ("SELECT SeriesInstanceUID FROM dicom_all WHERE collection_id = 'tcga_luad'", (),
         "collection_id 'tcga_luad' is not in this source"),
        ("SELECT SeriesInstanceUID FROM dicom_all WHERE collection_id = @c", ("-p", "c=tcga_luad"),
         "collection_id 'tcga_luad' is not in this source"),
        ("SELECT SeriesInstanceUID FROM dicom_all WHERE Modality IN ('ct', 'xx')", (),
         "Modality 'ct', 'xx' are not in this source"),
    ],
    ids=["literal", "parameter", "in-list"],
)  # fmt: skip
def test_zero_row_hint_for_adhoc_sql_on_the_sample(cli_env, sql, params, expected):
    proc = run_idcbq("sql", sql, *params, env=cli_env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("\n") == 1  # the header only
    assert f"no rows: {expected}" in proc.stderr, proc.stderr
    assert "the embedded sample holds" in proc.stderr
    if "Modality" in expected:
        assert "did you mean 'CT'?" in proc.stderr


def test_zero_rows_for_another_reason_get_no_hint(cli_env):
    sql = "SELECT SeriesInstanceUID FROM dicom_all WHERE Modality = 'CT' AND instance_size < 0"
    proc = run_idcbq("sql", sql, env=cli_env)
    assert proc.returncode == 0 and "no rows" not in proc.stderr, proc.stderr


def test_googlesql_exits_quietly(cli_env):
    """No ``Exception ignored ... wasmtime`` at exit: the runtime is closed before teardown."""
    for args in (("sql", "SELECT COUNT(*) AS n FROM dicom_all"),
                 ("query", "cohort.series_by_modality", "-p", "modalities=CT")):  # fmt: skip
        proc = run_idcbq(*args, "--engine", "googlesql", env=cli_env)
        assert proc.returncode == 0, proc.stderr
        assert "Exception ignored" not in proc.stderr and "Traceback" not in proc.stderr
    # The runtime is closed by an exit handler (an earlier-registered handler runs later).
    code = (
        "import atexit\n"
        "from idcbq.engines.googlesql import runtime as m\n"
        "seen = []\n"
        "atexit.register(lambda: print('closed at exit:', seen[0].closed, flush=True))\n"
        "seen.append(m.runtime())\n"
    )
    proc = run([sys.executable, "-c", code], env=cli_env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "closed at exit: True\n" and "Exception ignored" not in proc.stderr
