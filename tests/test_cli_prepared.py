"""``idcbq sql --format json|jsonl``: a query seen before is replayed from its prepared entry.

Each case runs real CLI children on a copy of the sample export: the full path alone
(``IDCBQ_PREPARED=0``), then the same command twice with the prepared entries on. All
three must print the same bytes; ``-vv`` says whether the entry was kept and replayed,
so a case cannot pass by never taking the fast path. Then everything a replay depends
on is changed, one at a time, and must miss.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from tests.child import run_idcbq

SQL = "SELECT COUNT(*) n FROM dicom_all WHERE Modality = @m"
REPLAYED = "replayed"
KEPT = "query kept as prepared"
NOT_KEPT = "query not kept as prepared"
MISSED = "no prepared query"


@pytest.fixture(scope="module")
def export(sample_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the sample the tests may change."""
    root = tmp_path_factory.mktemp("export") / "sample"
    shutil.copytree(sample_root / "bigquery_export", root / "bigquery_export")
    return root


@pytest.fixture
def env(export: Path, tmp_path: Path) -> dict[str, str]:
    """The children's environment: this copy as source, a cache of their own."""
    out = {k: v for k, v in os.environ.items() if not k.startswith("IDCBQ_")}
    (tmp_path / "config.toml").write_text("")
    out.update(
        IDCBQ_SOURCE=str(export),
        IDCBQ_CACHE_DIR=str(tmp_path / "cache"),
        IDCBQ_CONFIG=str(tmp_path / "config.toml"),
        IDCBQ_GOOGLESQL_ANALYSIS="0",  # as the suite runs (conftest); the key includes it
        IDCBQ_GOOGLESQL_HELPER="0",
    )
    return out


def _sql(env: dict[str, str], sql: str, *args: str, **extra: str) -> tuple[int, str, str]:
    done = run_idcbq("-vv", "sql", sql, *args, env={**env, **extra}, cwd=env["IDCBQ_CACHE_DIR"])
    return done.returncode, done.stdout, _messages(done.stderr)


def _messages(stderr: str) -> str:
    """The log messages of ``-vv`` (JSON lines on a pipe) and any plain line, in order."""
    lines = []
    for line in stderr.splitlines():
        try:
            lines.append(json.loads(line)["message"])
        except (ValueError, KeyError, TypeError):
            lines.append(line)
    return "\n".join(lines)


def _three_runs(env: dict[str, str], sql: str, *args: str) -> list[tuple[int, str, str]]:
    os.makedirs(env["IDCBQ_CACHE_DIR"], exist_ok=True)
    full = _sql(env, sql, *args, IDCBQ_PREPARED="0")
    return [full, _sql(env, sql, *args), _sql(env, sql, *args)]


#: (id, SQL, arguments, replayed?): typed columns and parameters, both formats.
CASES = [
    ("count", SQL, ("--format", "json", "-p", "m=CT"), True),
    ("count_jsonl", SQL, ("--format", "jsonl", "-p", "m=CT"), True),
    ("json_flag", SQL, ("--json", "-p", "m=MR"), True),
    (
        "typed_columns",
        "SELECT Modality, COUNT(*) AS n, MIN(StudyDate) AS first_study, SUM(instance_size) AS bytes,"
        " AVG(instance_size) AS mean, COUNT(*) > 10 AS many, DATE '2020-01-02' AS d,"
        " DATETIME '2020-01-02 03:04:05.123456' AS dt, NUMERIC '1.25' AS num,"
        " b'\\x00\\xff' AS raw, 'é \"q\" \\\\' AS text, CAST(NULL AS STRING) AS nothing,"
        " 1e300 * 10 AS big FROM dicom_all WHERE Modality IN UNNEST(@ms) GROUP BY Modality"
        " ORDER BY Modality",
        ("--format", "json", "-p", "ms:ARRAY<STRING>=CT,MR,SEG"),
        True,
    ),
    (
        "typed_params",
        "SELECT @n AS n, @d AS d, @f AS f, @b AS b, COUNT(*) AS c FROM dicom_all"
        " WHERE instance_size > @n AND StudyDate > @d",
        (
            "--format",
            "jsonl",
            "-p",
            "n:INT64=3",
            "-p",
            "d:DATE=2000-01-01",
            "-p",
            "f:FLOAT64=0.1",
            "-p",
            "b:BOOL=true",
        ),
        True,
    ),
    (
        "rows_with_limit",
        "SELECT SOPInstanceUID, StudyDate, instance_size FROM dicom_all WHERE Modality = @m"
        " ORDER BY SOPInstanceUID",
        ("--format", "json", "-p", "m=SEG", "--limit", "3"),
        True,
    ),
    (
        "whole_row_as_value",  # the row of `d` must stay whole: no narrowed view
        "SELECT LENGTH(TO_JSON_STRING(d)) AS width FROM dicom_all AS d WHERE Modality = @m"
        " ORDER BY SOPInstanceUID LIMIT 3",
        ("--format", "json", "-p", "m=SEG"),
        True,
    ),
    (
        "arrays_and_structs",  # printed from Arrow only: not kept
        "SELECT [1, 2] AS xs, STRUCT(1 AS a, 'b' AS b) AS s, COUNT(*) AS n FROM dicom_all"
        " WHERE Modality = @m",
        ("--format", "json", "-p", "m=CT"),
        False,
    ),
    (
        "timestamp",  # a zone-aware result: not kept
        "SELECT MAX(collection_timestamp) AS ts, TIMESTAMP '2020-01-01 00:00:00+00' AS t0"
        " FROM dicom_all WHERE Modality = @m",
        ("--format", "json", "-p", "m=CT"),
        False,
    ),
    ("no_rows", SQL.replace("COUNT(*) n", "Modality"), ("--json", "-p", "m=nothing"), False),
]


@pytest.mark.parametrize(
    ("sql", "args", "replayed"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_replay_prints_the_same_bytes(env, sql, args, replayed):
    full, first, second = _three_runs(env, sql, *args)
    assert full[0] == 0, full[2]
    assert first[:2] == full[:2] and second[:2] == full[:2]
    assert MISSED in first[2]
    if replayed:
        assert KEPT in first[2] and REPLAYED in second[2], second[2]
    else:
        assert NOT_KEPT in first[2] and REPLAYED not in second[2]
    stderr_rows = [m for m in full[2].splitlines() if "debug" not in m and "query " not in m]
    for line in stderr_rows:  # the full path's hints (no rows...) are printed by both
        assert line in second[2]


def test_every_change_misses(env, export):
    args = ("--format", "json", "-p", "m=CT")
    _three_runs(env, SQL, *args)
    files = sorted((export / "bigquery_export" / "idc_current" / "dicom_all").glob("*.parquet"))

    # A table file rewritten (same bytes, new time): a miss, then kept anew.
    os.utime(files[0], ns=(files[0].stat().st_atime_ns, files[0].stat().st_mtime_ns + 10**9))
    code, out, log = _sql(env, SQL, *args)
    assert code == 0 and MISSED in log and KEPT in log

    # A file added to the table: other rows, which the replay must not miss.
    before = json.loads(out)[0]["n"]
    extra = files[0].with_name("999999999999.parquet")
    shutil.copy(files[0], extra)
    try:
        code, out, log = _sql(env, SQL, *args)
        assert code == 0 and MISSED in log and json.loads(out)[0]["n"] > before
        assert REPLAYED in _sql(env, SQL, *args)[2]
    finally:
        extra.unlink()
    code, out, log = _sql(env, SQL, *args)
    assert MISSED in log and json.loads(out)[0]["n"] == before

    # Settings: another release, another allow-list, a setting from the environment.
    for extra_args, extra_env in (
        (("--idc-version", "v24"), {}),
        (("--allow-table", "bigquery-public-data.idc_v25.dicom_all"), {}),
        ((), {"IDCBQ_MAX_BYTES_BILLED": "1GB"}),
    ):
        _, _, log = _sql(env, SQL, *args, *extra_args, **extra_env)
        assert MISSED in log, (extra_args, extra_env)
    _, _, log = _sql(env, SQL, "--format", "jsonl", "-p", "m=CT")
    assert MISSED in log


def test_parameter_types_are_part_of_the_key(env):
    sql = "SELECT @v AS v, COUNT(*) AS n FROM dicom_all"
    as_text = _three_runs(env, sql, "--format", "json", "-p", "v=3")
    assert REPLAYED in as_text[2][2] and json.loads(as_text[2][1])[0]["v"] == "3"
    code, out, log = _sql(env, sql, "--format", "json", "-p", "v:INT64=3")
    assert code == 0 and MISSED in log and json.loads(out)[0]["v"] == 3
    # Values are checked on a replay too: the full path's error, exit code and all.
    bad = _sql(env, sql, "--format", "json", "-p", "v:INT64=x", IDCBQ_PREPARED="0")
    again = _sql(env, sql, "--format", "json", "-p", "v:INT64=x")
    assert bad[0] != 0 and (again[0], again[1]) == (bad[0], bad[1])
    assert [m for m in bad[2].splitlines() if m.startswith("error")] == [
        m for m in again[2].splitlines() if m.startswith("error")
    ]


def test_a_broken_entry_is_a_miss(env):
    args = ("--format", "json", "-p", "m=CT")
    full, _, second = _three_runs(env, SQL, *args)
    assert REPLAYED in second[2]
    entries = list(Path(env["IDCBQ_CACHE_DIR"], "prepared").rglob("*.json"))
    assert len(entries) == 1
    data = json.loads(entries[0].read_text())
    data["entry"]["sql"] = "SELECT 42 AS n"  # other SQL, other stat: neither may run
    data["paths"][0][1][1] += 1
    entries[0].write_text(json.dumps(data))
    code, out, log = _sql(env, SQL, *args)
    assert (code, out) == full[:2] and MISSED in log
    entries[0].write_text("{not json")
    code, out, log = _sql(env, SQL, *args)
    assert (code, out) == full[:2] and MISSED in log


def test_code_fingerprint_follows_every_file(tmp_path):
    from idcbq.core import prepared

    package = tmp_path / "idcbq"
    (package / "sub").mkdir(parents=True)
    (package / "sub" / "m.py").write_text("x = 1\n")
    first = prepared.package_fingerprint(package)
    assert prepared.package_fingerprint(package) == first
    (package / "sub" / "m.py").write_text("x = 22\n")
    second = prepared.package_fingerprint(package)
    assert second != first
    (package / "new.sql").write_text("SELECT 1\n")
    assert prepared.package_fingerprint(package) not in (first, second)


def test_an_entry_that_would_write_is_refused(env, tmp_path):
    """A file in the cache folder is not trusted to run more than views and one SELECT."""
    args = ("--format", "json", "-p", "m=CT")
    full, _, second = _three_runs(env, SQL, *args)
    assert REPLAYED in second[2]
    (entry_path,) = Path(env["IDCBQ_CACHE_DIR"], "prepared").rglob("*.json")
    kept = json.loads(entry_path.read_text())
    written = tmp_path / "written.csv"
    for setup, sql in (
        ([*kept["entry"]["setup"], f"COPY (SELECT 1) TO '{written}'"], kept["entry"]["sql"]),
        (kept["entry"]["setup"], f"COPY (SELECT 1) TO '{written}'"),
        ([f"ATTACH '{tmp_path / 'x.db'}' AS x"], kept["entry"]["sql"]),
        ([*kept["entry"]["setup"][:1], kept["entry"]["setup"][1] + f"; COPY (SELECT 1) TO '{written}'"],
         kept["entry"]["sql"]),
    ):  # fmt: skip
        data = json.loads(json.dumps(kept))
        data["entry"].update(setup=setup, sql=sql)
        entry_path.write_text(json.dumps(data))
        code, out, log = _sql(env, SQL, *args)
        assert (code, out) == full[:2] and REPLAYED not in log
        assert not written.exists() and not (tmp_path / "x.db").exists()
        # the full path kept a good entry again: spoil it once more next round
        entry_path.write_text(json.dumps(data))


def test_narrowed_views_refuse_what_could_read_unnamed_columns():
    import duckdb
    import pyarrow as pa

    from idcbq.engines.duckdb.narrow import named_columns, view_statement

    con = duckdb.connect()
    schema = pa.schema([("k", pa.int64()), ("a", pa.int64()), ("xs", pa.list_(pa.int64()))])
    source = "(SELECT 1 AS k, 2 AS a, [3] AS xs)"
    named = named_columns(con, "SELECT a FROM t WHERE k = 1")
    assert named is not None and {"a", "k"} <= named and "xs" not in named
    narrowed = view_statement("t", source, schema, named)
    assert '"a"' in narrowed and '"k"' in narrowed and '"xs"' not in narrowed
    listed = view_statement("t", source, schema, named_columns(con, "SELECT len(xs) FROM t"))
    assert "COALESCE" in listed  # NULL lists still read as []
    assert view_statement("t", source, schema, set()).count('"k"') == 1  # one column at least
    for sql in (
        "SELECT * FROM t",
        "SELECT t.* FROM t",
        "SELECT COLUMNS('a') FROM t",
        "SELECT * EXCLUDE (a) FROM t",
        "SELECT a FROM t NATURAL JOIN u",
        "SELECT a FROM t POSITIONAL JOIN u",
        "SELECT x FROM t AS q(x)",
        "SELECT to_json(t) FROM t",
        "SELECT to_json(q) FROM t AS q",
        "SELECT count(*) FROM (PIVOT t ON a USING count(*))",
        "SELECT 1; SELECT 2",
        "not sql at all",
    ):
        assert named_columns(con, sql) is None, sql


def test_engine_results_agree_with_full_views(sample_root):
    """The engine narrows its views per statement; the rows are those of the full views."""
    from idcbq.engines.duckdb import DuckDBEngine

    queries = [
        "SELECT Modality, COUNT(*) AS n FROM dicom_all GROUP BY 1 ORDER BY 1",
        "SELECT a.Modality, COUNT(*) AS n FROM dicom_all a JOIN dicom_all b"
        " USING (SOPInstanceUID) WHERE a.Modality = $m GROUP BY 1",
        "SELECT SOPInstanceUID, len(ImageType) AS k FROM dicom_all ORDER BY 1 LIMIT 5",
        "SELECT count(*) AS n FROM dicom_all WHERE len(ImageType) = 0",
        "SELECT max(length(to_json(d)::VARCHAR)) AS w FROM dicom_all AS d",
        "SELECT * FROM dicom_all ORDER BY SOPInstanceUID LIMIT 2",
    ]
    engine = DuckDBEngine.from_options(source=sample_root)
    try:
        narrowed_views = []
        for sql in queries:
            bind = {"m": "CT"} if "$m" in sql else {}
            engine._ensure_views(sql, bind)
            narrowed_views += [s for s in engine.setup_log if 'SELECT "Modality" FROM' in s]
            narrowed = engine.con.execute(sql, bind).fetchall()
            engine._ensure_views("SELECT * FROM dicom_all", {})  # the full view again
            full = engine.con.execute(sql, bind).fetchall()
            assert narrowed == full, sql
        assert narrowed_views
        # the set-up in force holds one statement per view, however many queries ran
        views = [s for s in engine.setup_log if s.startswith("CREATE OR REPLACE VIEW")]
        assert len(views) == 1, views
    finally:
        engine.close()


def test_an_entry_is_not_kept_when_its_files_moved_while_it_ran(tmp_path):
    from idcbq.core import prepared

    data = tmp_path / "table"
    data.mkdir()
    (data / "a.parquet").write_bytes(b"")
    key = prepared.entry_key({"sql": "SELECT 1"})
    root = tmp_path / "cache"
    assert not prepared.store(root, key, {"sql": "x"}, paths=[str(data)], still_true=lambda: False)
    assert prepared.load(root, key) is None
    assert not prepared.store(root, key, {"sql": "x"}, paths=[str(data / "gone.parquet")])
    assert prepared.store(root, key, {"sql": "x"}, paths=[str(data)], still_true=lambda: True)
    assert prepared.load(root, key) == {"sql": "x"}
