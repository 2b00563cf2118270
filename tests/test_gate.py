"""The gate every query passes (issue 18 §1, §2): strict BigQuery layer + GoogleSQL's analyzer.

Every construct BigQuery rejects is refused on the DuckDB path (API and CLI) with the
file:line:col of the problem; every BigQuery alias or function this ZetaSQL build lacks
is accepted (rewritten for analysis only); a result says which check validated it.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from idcbq.errors import ValidationError
from idcbq.validate import check

REPO = Path(__file__).resolve().parents[1]

#: (name, SQL BigQuery rejects, text the refusal contains). All on the sample's dicom_all.
INVALID = [
    ("string_eq_int", "SELECT Modality FROM dicom_all WHERE SeriesNumber = 1", "No matching"),
    ("percent", "SELECT Modality FROM dicom_all WHERE `Rows` % 2 = 0", "%"),
    ("double_colon", "SELECT `Rows`::FLOAT64 AS r FROM dicom_all", "::"),
    ("ilike", "SELECT Modality FROM dicom_all WHERE Modality ILIKE 'ct'", "ILIKE"),
    (
        "filter",
        "SELECT COUNT(*) FILTER (WHERE Modality = 'CT') AS n FROM dicom_all",
        "FILTER",
    ),
    ("varchar", "SELECT CAST(Modality AS VARCHAR) AS m FROM dicom_all", "VARCHAR"),
    ("offset_without_limit", "SELECT Modality FROM dicom_all OFFSET 2", "OFFSET"),
    (
        "natural_join",
        "SELECT a.Modality FROM dicom_all AS a NATURAL JOIN dicom_all AS b",
        "NATURAL",
    ),
    (
        "like_escape",
        "SELECT Modality FROM dicom_all WHERE Modality LIKE 'C!%' ESCAPE '!'",
        "ESCAPE",
    ),
    (
        "alias_reused_in_select",
        "SELECT `Rows` * 2 AS r2, r2 + 1 AS r3 FROM dicom_all",
        "unknown column r2 (a SELECT alias cannot be used in the same SELECT list)",
    ),
    ("len", "SELECT LEN(Modality) AS n FROM dicom_all", "LEN"),
    ("split_part", "SELECT SPLIT_PART(Modality, 'x', 1) AS p FROM dicom_all", "SPLIT_PART"),
    ("mod_float", "SELECT MOD(1.5, 2.0) AS m", "MOD"),
    ("array_agg_of_array", "SELECT ARRAY_AGG(ImageType) AS a FROM dicom_all", "ARRAY"),
    (
        "lag_default_type",
        "SELECT LAG(Modality, 1, 0) OVER (ORDER BY Modality) AS l FROM dicom_all",
        "LAG",
    ),
    ("union_string_int", "SELECT Modality FROM dicom_all UNION ALL SELECT 1", "incompatible"),
    ("extract_hour_from_date", "SELECT EXTRACT(HOUR FROM StudyDate) AS h FROM dicom_all", "HOUR"),
    ("array_to_string_int", "SELECT ARRAY_TO_STRING([1, 2], ',') AS s", "ARRAY_TO_STRING"),
    (
        "timestamp_add_month",
        "SELECT TIMESTAMP_ADD(TIMESTAMP '2020-01-01', INTERVAL 1 MONTH) AS t",
        "MONTH",
    ),
    (
        "partition_by_float",
        "SELECT ROW_NUMBER() OVER (PARTITION BY 1.5) AS r FROM dicom_all",
        "FLOAT64",
    ),
    (
        "lead_non_constant_default",
        "SELECT LEAD(Modality, 1, Modality) OVER (ORDER BY Modality) AS l FROM dicom_all",
        "LEAD",
    ),
    ("duplicate_names", "SELECT Modality, Modality FROM dicom_all", "uplicate"),
    (
        "duplicate_names_through_stars",
        "SELECT r.*, s.* FROM (SELECT Modality FROM dicom_all) AS r, "
        "(SELECT Modality FROM dicom_all) AS s",
        "uplicate",
    ),
    ("arity", "SELECT SUBSTR(Modality, 1, 2, 3) AS s FROM dicom_all", "SUBSTR"),
    ("aggregate_where", "SELECT COUNT(* WHERE Modality = 'CT') AS n FROM dicom_all", ""),
]

#: Refused by the strict layer alone (no zetasql needed), with file:line:col.
STRICT = [
    "percent",
    "double_colon",
    "ilike",
    "filter",
    "varchar",
    "offset_without_limit",
    "natural_join",
    "like_escape",
    "len",
    "split_part",
    "duplicate_names",
    "arity",
]

#: Valid BigQuery the analyzer build lacks: accepted by the gate (each: one rewrite).
VALID = [
    ("int", "SELECT CAST(`Rows` AS INT) AS r FROM dicom_all"),
    ("integer", "SELECT CAST(`Rows` AS INTEGER) AS r FROM dicom_all"),
    ("bigint", "SELECT SAFE_CAST(`Rows` AS BIGINT) AS r FROM dicom_all"),
    ("smallint", "SELECT CAST(1 AS SMALLINT) AS r"),
    ("tinyint", "SELECT CAST(1 AS TINYINT) AS r"),
    ("byteint", "SELECT CAST(1 AS BYTEINT) AS r"),
    ("int_in_array_type", "SELECT ARRAY<INT>[1, 2] AS a"),
    ("approx_count_distinct", "SELECT APPROX_COUNT_DISTINCT(Modality) AS n FROM dicom_all"),
    ("approx_quantiles", "SELECT APPROX_QUANTILES(`Rows`, 4) AS q FROM dicom_all"),
    ("approx_top_count", "SELECT APPROX_TOP_COUNT(Modality, 2) AS t FROM dicom_all"),
    ("approx_top_sum", "SELECT APPROX_TOP_SUM(Modality, instance_size, 2) AS t FROM dicom_all"),
    ("contains_substr", "SELECT CONTAINS_SUBSTR(Modality, 'c') AS c FROM dicom_all"),
    ("max_by", "SELECT MAX_BY(Modality, instance_size) AS m FROM dicom_all"),
    ("min_by", "SELECT MIN_BY(Modality, instance_size) AS m FROM dicom_all"),
    ("collate", "SELECT COLLATE(Modality, 'und:ci') AS c FROM dicom_all"),
    ("normalize", "SELECT NORMALIZE(Modality, NFKC) AS n FROM dicom_all"),
    (
        "nested",
        "SELECT MAX_BY(CAST(`Rows` AS INT), CONTAINS_SUBSTR(Modality, 'c')) AS m FROM dicom_all",
    ),
]


@pytest.fixture
def analyzer_on(monkeypatch):
    monkeypatch.setenv("IDCBQ_GOOGLESQL_ANALYSIS", "1")


@pytest.fixture(scope="module")
def duck(analyzed_duck):
    return analyzed_duck


@pytest.mark.parametrize("name,sql,text", INVALID, ids=[c[0] for c in INVALID])
def test_invalid_refused_on_duckdb_via_api(duck, name, sql, text):
    with pytest.raises(ValidationError) as err:
        duck.sql(sql)
    assert text in str(err.value), str(err.value)
    assert err.value.location is not None and err.value.location.line == 1


@pytest.mark.parametrize("name", STRICT)
def test_strict_layer_alone_refuses_with_line_and_column(name):
    sql = {c[0]: c[1] for c in INVALID}[name]
    _, problems = check(sql, googlesql=False)
    assert problems, sql
    loc = problems[0].location
    assert loc is not None and loc.line == 1 and loc.column and loc.column > 1


def test_strict_points_at_the_construct_in_a_template_file():
    sql = "SELECT Modality\nFROM dicom_all\nWHERE `Rows` % 2 = 0"
    _, problems = check(sql, googlesql=False)
    assert str(problems[0]).startswith("<sql>:3:14: % is not a BigQuery operator")
    assert problems[0].hint == "use MOD(x, y)"


def test_strict_did_you_mean_from_the_function_table():
    _, problems = check("SELECT REGEXP_CONTAIN(Modality, 'C') AS c FROM dicom_all", googlesql=False)
    assert problems[0].hint == "did you mean REGEXP_CONTAINS?"


@pytest.mark.parametrize("name,sql", VALID, ids=[c[0] for c in VALID])
def test_valid_bigquery_accepted_by_both_layers(name, sql):
    _, strict = check(sql, googlesql=False)
    assert strict == []
    result, problems = check(sql, googlesql=True)
    assert problems == [], [str(p) for p in problems]
    assert result is not None and result.validated_by == "googlesql-analyzer"


def test_error_after_a_rewrite_points_at_the_original_text():
    sql = "SELECT CAST(`Rows` AS INT) AS r, MAX_BY(Modality, `Rows`) + 'x' AS m FROM dicom_all"
    _, problems = check(sql, googlesql=True)
    assert problems and problems[0].location.column == sql.index("MAX_BY") + 1


def test_result_says_which_check_validated_it(duck):
    result = duck.sql("SELECT Modality FROM dicom_all LIMIT 1")
    assert result.validated_by == "googlesql-analyzer"
    assert result.provenance()["validated_by"] == "googlesql-analyzer"


def test_analyzer_off_by_env_is_strict(sample_root, monkeypatch):
    import idcbq

    monkeypatch.setenv("IDCBQ_GOOGLESQL_ANALYSIS", "0")
    with idcbq.connect(source=str(sample_root)) as client:
        result = client.sql("SELECT Modality FROM dicom_all LIMIT 1")
        assert result.validated_by == "strict"
        with pytest.raises(ValidationError, match="ILIKE"):
            client.sql("SELECT Modality FROM dicom_all WHERE Modality ILIKE 'ct'")


def test_without_zetasql_one_notice_per_session(monkeypatch, caplog):
    """zetasql made unimportable (a None entry in sys.modules: a real ImportError)."""
    import idcbq.validate.gate as gate

    monkeypatch.setenv("IDCBQ_GOOGLESQL_ANALYSIS", "1")
    monkeypatch.setitem(sys.modules, "zetasql.wasi", None)
    monkeypatch.setattr(gate, "_notice_given", False)
    with caplog.at_level(logging.WARNING, logger="idcbq"):
        for _ in range(3):
            result, problems = check("SELECT Modality FROM dicom_all", googlesql=None)
            assert problems == [] and result.validated_by == "strict"
        _, problems = check("SELECT LEN(Modality) AS n FROM dicom_all", googlesql=None)
        assert problems  # the strict layer still refuses
    notices = [r for r in caplog.records if "partial" in r.getMessage()]
    assert len(notices) == 1
    assert "pip install 'idcbq[googlesql]'" in notices[0].getMessage()


def _cli(args, tmp_path, **env):
    full = {**os.environ, "PYTHONPATH": str(REPO), **env}
    out, err = tmp_path / "out.txt", tmp_path / "err.txt"
    with out.open("w") as o, err.open("w") as e:
        proc = subprocess.run(
            [sys.executable, "-m", "idcbq", *args], stdout=o, stderr=e, env=full, cwd=tmp_path
        )
    return proc.returncode, out.read_text(), err.read_text()


def test_cli_refuses_with_location_and_exit_2(sample_root, tmp_path):
    code, _out, err = _cli(
        [
            "sql",
            "SELECT Modality FROM dicom_all WHERE SeriesNumber = 1",
            "--source",
            str(sample_root),
        ],
        tmp_path,
        IDCBQ_GOOGLESQL_ANALYSIS="1",
    )
    assert code == 2, err
    assert "<sql>:1:" in err and "GoogleSQL" in err and "Traceback" not in err


def test_cli_dry_run_names_the_check(sample_root, tmp_path):
    sql = "SELECT Modality FROM dicom_all LIMIT 1"
    code, out, err = _cli(["sql", sql, "--source", str(sample_root), "--dry-run"], tmp_path)
    assert code == 0, err
    assert "Validated by: strict BigQuery layer only" in out  # the suite runs analyzer off
    code, out, err = _cli(
        ["sql", sql, "--source", str(sample_root), "--dry-run", "--format", "json"],
        tmp_path,
        IDCBQ_GOOGLESQL_ANALYSIS="1",
    )
    assert code == 0, err
    assert json.loads(out)["validated_by"] == "googlesql-analyzer"


def test_feature_map_cites_bigquery_docs_and_drives_the_analyzer():
    from idcbq.engines.googlesql.analysis import bigquery_features, language_options

    data = json.loads((REPO / "idcbq" / "data" / "bigquery_features.json").read_text())
    for name, entry in data["features"].items():
        assert entry["source"].startswith("https://cloud.google.com/bigquery/docs/"), name
    on = bigquery_features()
    assert "FEATURE_QUALIFY" in on and "FEATURE_AGGREGATE_FILTERING" not in on
    assert len(language_options().enabled_language_features) == len(on)


def test_data_files_are_fresh():
    from idcbq.scripts import bigquery_features, bigquery_functions

    assert bigquery_features.main(["--check"]) == 0
    assert bigquery_functions.main(["--check"]) == 0


def test_every_template_passes_the_gate():
    from idcbq.templates import TemplateCatalog
    from idcbq.validate.runner import check_template

    templates = list(TemplateCatalog.discover(()))
    assert len(templates) >= 20
    for template in templates:
        assert check_template(template) == [], template.name


@pytest.mark.slow
def test_no_real_query_is_lost(analyzer_on):
    """Every probe BigQuery accepts and every idc-index-data query pass the gate."""
    import yaml

    from idcbq.transpile import split_declare_script
    from tests.transpile_support import corpus_files

    table = "`bigquery-public-data.idc_current.dicom_all`"
    refused = []
    for path in sorted((REPO / "tests" / "probes").glob("*.yaml")):
        for probe in yaml.safe_load(path.read_text()):
            if probe.get("error") or probe.get("user_routine"):
                continue
            _, problems = check(probe["sql"].replace("{T}", table), schema=None)
            refused += [f"{path.stem}/{probe['name']}: {problems[0]}"] if problems else []
    for path in corpus_files():
        if path.name == "prior_versions_index.sql":  # dynamic SQL (EXECUTE IMMEDIATE)
            continue
        query, params = split_declare_script(path.read_text())
        _, problems = check(query, params=params, schema=None)
        refused += [f"{path.name}: {problems[0]}"] if problems else []
    assert refused == []


def _gsql_cache(tmp_path: Path) -> Path:
    """A fresh GoogleSQL cache folder holding (a link to) this machine's compiled module."""
    from idcbq.engines.googlesql.runtime import module_cache_path

    module = module_cache_path()
    folder = tmp_path / "gsql"
    folder.mkdir()
    if module.exists():
        (folder / module.name).symlink_to(module)
    return folder


def test_a_seen_verdict_needs_no_analyzer(tmp_path, monkeypatch):
    """A fresh process answers a seen query from the cache without loading the analyzer."""
    folder = _gsql_cache(tmp_path)
    monkeypatch.setenv("IDCBQ_GOOGLESQL_CACHE", str(folder))
    sql = "SELECT Modality FROM dicom_all WHERE SeriesNumber = 1"
    _, first = check(sql, googlesql=True)
    assert first and "GoogleSQL" in str(first[0])
    assert list((folder / "verdicts").rglob("*.json"))
    code = (
        "import sys\nfrom idcbq.validate import check\n"
        f"_, p = check({sql!r}, googlesql=True)\n"
        "print(repr([str(x) for x in p]))\nprint('wasmtime' in sys.modules)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO), "IDCBQ_GOOGLESQL_CACHE": str(folder)}
    out, err = tmp_path / "out.txt", tmp_path / "err.txt"
    with out.open("w") as o, err.open("w") as e:
        proc = subprocess.run([sys.executable, "-c", code], stdout=o, stderr=e, env=env)
    assert proc.returncode == 0, err.read_text()
    problems, loaded = out.read_text().splitlines()
    assert problems == repr([str(p) for p in first])
    assert loaded == "False"


def test_verdict_key_covers_sql_params_schema_and_version():
    from idcbq.engines.googlesql.verdicts import analyzer_version, verdict_key

    base = verdict_key("SELECT 1", {"a": "INT64"}, "fp")
    assert base != verdict_key("SELECT 2", {"a": "INT64"}, "fp")
    assert base != verdict_key("SELECT 1", {"a": "STRING"}, "fp")
    assert base != verdict_key("SELECT 1", {"a": "INT64"}, "fp2")
    assert "zetasql" in analyzer_version()


def test_warm_helper_answers_like_the_analyzer(tmp_path, monkeypatch):
    from idcbq.engines.googlesql import helper
    from idcbq.sources.schema import dicom_all_fields

    folder = _gsql_cache(tmp_path)
    monkeypatch.setenv("IDCBQ_GOOGLESQL_CACHE", str(folder))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    log = (tmp_path / "helper.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "idcbq.validate.helper_server"],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    try:
        sock = helper.socket_path()
        for _ in range(600):  # the module start (seconds on a loaded box)
            if sock.exists() or proc.poll() is not None:
                break
            time.sleep(0.5)
        assert sock.exists(), (tmp_path / "helper.log").read_text()
        assert (sock.stat().st_mode & 0o777) == 0o600
        tables = {("idc_current", "dicom_all"): dicom_all_fields()}

        def ask(sql):
            return helper.ask(
                helper.request_for(sql, (), tables, "current", "bigquery-public-data")
            )

        bad = ask("SELECT Modality FROM dicom_all WHERE SeriesNumber = 1")
        assert bad["ok"] is False and "No matching signature" in bad["message"]
        assert (bad["line"], bad["column"]) == (1, 38)
        # An ok verdict carries GoogleSQL's output types (the DuckDB result is conformed to them).
        sql = "SELECT CAST(SeriesNumber AS INT) AS r FROM dicom_all"
        good = ask(sql)
        assert good["ok"] is True and good["types"] == [["r", "INT64"]]
        # ... and each expression's type by its span in the SQL asked (the typed rewrites')
        typed = good["expression_types"]
        spans = {sql[s:e]: typed["types"][i] for s, e, i in typed["spans"]}
        assert spans["CAST(SeriesNumber AS INT)"] == "INT64"
        assert spans["SeriesNumber"] == "STRING"
        assert set(good) == {"ok", "types", "expression_types"}
        assert helper.ask({"shutdown": True}) == {"ok": True}
        assert proc.wait(timeout=60) == 0
        assert not sock.exists()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()
