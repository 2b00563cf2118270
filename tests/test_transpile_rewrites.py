"""Executed tests of our BigQuery -> DuckDB rewrites.

Each query is transpiled by ``to_duckdb`` and run on DuckDB over the same rows; the
expected values are BigQuery's documented semantics for those rows (0-based OFFSET,
1-based ORDINAL, errors for out-of-range OFFSET, partial-match regexes, ...).
"""

from __future__ import annotations

import duckdb
import pytest

from idcbq.errors import TranspileError
from idcbq.params import BoundParameter
from idcbq.transpile import split_declare_script, to_duckdb

# One table, the shape of dicom_all's nested columns: a REPEATED STRING and a
# REPEATED RECORD holding a REPEATED STRING.
SETUP = """
CREATE SCHEMA idc_v25;
CREATE TABLE idc_v25.dicom_all AS SELECT * FROM (VALUES
  (1, ['a', 'b', 'c'], [{'CodeMeaning': 'Liver', 'Names': ['x', 'y']}], 'CT', 'abc-123', 0, NULL),
  (2, [], [], 'MR', 'zzz', 1, 'q'),
  (3, NULL, NULL, 'SEG', NULL, 2, 'q')
) AS t(id, ImageType, SegmentSequence, Modality, txt, i, "Rows");
"""


@pytest.fixture()
def con():
    con = duckdb.connect()
    con.execute(SETUP)
    yield con
    con.close()


#: SETUP's table for the typed rewrites (a rewrite that needs an unknown type refuses).
SCHEMA = {
    "bigquery-public-data": {
        "idc_v25": {
            "dicom_all": {
                "id": "INT64",
                "ImageType": "ARRAY<STRING>",
                "SegmentSequence": "ARRAY<STRUCT<CodeMeaning STRING, Names ARRAY<STRING>>>",
                "Modality": "STRING",
                "txt": "STRING",
                "i": "INT64",
                "Rows": "STRING",
            }
        }
    }
}


def run(con, bq_sql: str, params=()) -> list[tuple]:
    sql = to_duckdb(bq_sql, params=params, schema=SCHEMA)
    bind = {p.name: p.value for p in params}
    return con.execute(sql, bind).fetchall()


T = "`bigquery-public-data.idc_v25.dicom_all`"


def test_safe_offset_literal_and_nested_struct(con):
    rows = run(
        con,
        f"SELECT id, ImageType[SAFE_OFFSET(0)], ImageType[SAFE_OFFSET(2)], ImageType[SAFE_OFFSET(3)], "
        f"SegmentSequence[SAFE_OFFSET(0)].CodeMeaning, "
        f"SegmentSequence[SAFE_OFFSET(0)].Names[SAFE_OFFSET(1)] FROM {T} ORDER BY id",
    )
    assert rows == [
        (1, "a", "c", None, "Liver", "y"),
        (2, None, None, None, None, None),
        (3, None, None, None, None, None),
    ]


def test_safe_offset_and_ordinal_with_column_index(con):
    # sqlglot alone emits ImageType[i] here: off by one for a column index.
    rows = run(
        con,
        f"SELECT id, ImageType[SAFE_OFFSET(i)], ImageType[SAFE_ORDINAL(i)], "
        f"ImageType[SAFE_OFFSET(i - 1)] FROM {T} ORDER BY id",
    )
    # id=1: i=0 -> 'a'; ORDINAL(0) -> NULL; OFFSET(-1) -> NULL (not the last element)
    assert rows == [(1, "a", None, None), (2, None, None, None), (3, None, None, None)]


def test_offset_out_of_range_errors_like_bigquery(con):
    assert run(con, f"SELECT ImageType[OFFSET(1)] FROM {T} WHERE id = 1") == [("b",)]
    assert run(con, f"SELECT ImageType[ORDINAL(3)] FROM {T} WHERE id = 1") == [("c",)]
    # NULL array: BigQuery returns NULL, not an error
    assert run(con, f"SELECT ImageType[OFFSET(0)] FROM {T} WHERE id = 3") == [(None,)]
    with pytest.raises(duckdb.Error, match="out of bounds"):
        run(con, f"SELECT ImageType[OFFSET(3)] FROM {T} WHERE id = 1")
    with pytest.raises(duckdb.Error, match="out of bounds"):
        run(con, f"SELECT ImageType[OFFSET(0)] FROM {T} WHERE id = 2")
    with pytest.raises(duckdb.Error, match="out of bounds"):
        run(con, f"SELECT ImageType[OFFSET(i + 5)] FROM {T} WHERE id = 1")


def test_offset_inside_case_is_lazy(con):
    # The seg_index.sql pattern: the CASE guards the OFFSET, so no error.
    rows = run(
        con,
        f"SELECT id, CASE ARRAY_LENGTH(ImageType) WHEN 0 THEN NULL ELSE ImageType[OFFSET(0)] END "
        f"FROM {T} WHERE id < 3 ORDER BY id",
    )
    assert rows == [(1, "a"), (2, None)]


def test_bare_index_is_zero_based(con):
    assert run(con, f"SELECT ImageType[1] FROM {T} WHERE id = 1") == [("b",)]


def test_unnest_with_offset_is_zero_based(con):
    rows = run(
        con,
        f"SELECT id, v, pos FROM {T}, UNNEST(ImageType) AS v WITH OFFSET AS pos ORDER BY id, pos",
    )
    assert rows == [(1, "a", 0), (1, "b", 1), (1, "c", 2)]


def test_unnest_with_offset_in_scalar_subquery(con):
    # volume_geometry_index.sql: ARRAY_AGG(... ORDER BY index) over a WITH OFFSET filter
    rows = run(
        con,
        f"SELECT (SELECT ARRAY_AGG(part ORDER BY index) FROM UNNEST(ImageType) part WITH OFFSET index "
        f"WHERE index BETWEEN 1 AND 2) FROM {T} WHERE id = 1",
    )
    assert rows == [(["b", "c"],)]


def test_unnest_struct_field_access(con):
    rows = run(
        con,
        f"SELECT s.CodeMeaning, n FROM {T}, UNNEST(SegmentSequence) AS s, UNNEST(s.Names) AS n "
        f"ORDER BY n",
    )
    assert rows == [("Liver", "x"), ("Liver", "y")]


def test_array_agg_ignore_nulls_order_limit(con):
    rows = run(
        con,
        f"SELECT ARRAY_AGG(`Rows` IGNORE NULLS ORDER BY id DESC LIMIT 1), "
        f"ARRAY_AGG(Modality ORDER BY id LIMIT 2) FROM {T}",
    )
    assert rows == [(["q"], ["CT", "MR"])]


def test_string_agg_distinct_order_and_any_value(con):
    rows = run(
        con,
        f"SELECT STRING_AGG(DISTINCT `Rows`, ',' ORDER BY `Rows`), "
        f"STRING_AGG(DISTINCT Modality, '|' ORDER BY Modality DESC), ANY_VALUE(`Rows`) FROM {T}",
    )
    # ANY_VALUE skips NULLs in BigQuery
    assert rows == [("q", "SEG|MR|CT", "q")]


def test_safe_cast_and_regexp(con):
    rows = run(
        con,
        f"SELECT SAFE_CAST(txt AS INT64), SAFE_CAST('2.5' AS FLOAT64), REGEXP_CONTAINS(txt, r'c-1'), "
        f"REGEXP_EXTRACT(txt, r'-(\\d)'), REGEXP_EXTRACT(txt, r'\\d+') FROM {T} WHERE id = 1",
    )
    # partial match for CONTAINS; EXTRACT returns the first group, or the whole match
    assert rows == [(None, 2.5, True, "1", "123")]


def test_double_quoted_strings_hash_comments_trailing_comma_reserved_names(con):
    rows = run(
        con,
        f'SELECT id, # a comment\n `Rows` AS r, "CT" AS lit,\nFROM {T}\nWHERE Modality = "CT"',
    )
    assert rows == [(1, None, "CT")]


@pytest.mark.parametrize(("values", "expected"), [(["CT", "SEG"], [1, 3]), ([], []), (None, [])])
def test_in_unnest_array_parameter(con, values, expected):
    param = BoundParameter.of("mods", "ARRAY<STRING>", values)
    rows = run(con, f"SELECT id FROM {T} WHERE Modality IN UNNEST(@mods) ORDER BY id", [param])
    assert [r[0] for r in rows] == expected


def test_null_scalar_parameter_keeps_declared_type(con):
    param = BoundParameter.of("c", "STRING", None)
    rows = run(con, f"SELECT id FROM {T} WHERE (@c IS NULL OR Modality = @c) ORDER BY id", [param])
    assert [r[0] for r in rows] == [1, 2, 3]


def test_format_becomes_printf(con):
    rows = run(con, f"SELECT FORMAT('%s-%d-%.2f', Modality, id, 2.5) FROM {T} WHERE id = 1")
    assert rows == [("CT-1-2.50",)]
    with pytest.raises(TranspileError, match="FORMAT specifier"):
        to_duckdb("SELECT FORMAT('%T', 1)")
    with pytest.raises(TranspileError, match="FORMAT '%t' of a value"):
        to_duckdb("SELECT FORMAT('%t', 2.5)")  # %t of INT64/STRING/BOOL: tests/probes


def test_array_to_string_split_error(con):
    rows = run(
        con,
        f"SELECT ARRAY_TO_STRING(ImageType, '/'), SPLIT('a:b', ':')[SAFE_OFFSET(1)] FROM {T} "
        f"WHERE id = 1",
    )
    assert rows == [("a/b/c", "b")]
    with pytest.raises(duckdb.Error, match="boom"):
        run(con, "SELECT ERROR('boom')")


def test_declare_script_becomes_parameters(con):
    script = (
        "DECLARE lim INT64 DEFAULT 2; # rows\nDECLARE mods ARRAY<STRING> DEFAULT ['CT', 'MR'];\n"
        f"SELECT id FROM {T} WHERE id <= lim AND Modality IN UNNEST(mods) ORDER BY id;"
    )
    query, params = split_declare_script(script)
    assert "@lim" in query and "DECLARE" not in query
    assert [(p.name, str(p.type), p.value) for p in params] == [
        ("lim", "INT64", 2),
        ("mods", "ARRAY<STRING>", ["CT", "MR"]),
    ]
    assert run(con, query, params) == [(1,), (2,)]
    # to_duckdb inlines the script's own defaults, or binds a given parameter instead
    assert con.execute(to_duckdb(script, schema=SCHEMA)).fetchall() == [(1,), (2,)]
    override = [BoundParameter.of("lim", "INT64", 1)]
    assert run(con, script, override) == [(1,)]


@pytest.mark.parametrize(
    ("sql", "construct"),
    [
        ("DECLARE q STRING DEFAULT 'SELECT 1'; EXECUTE IMMEDIATE q;", "EXECUTE IMMEDIATE"),
        ("DECLARE x INT64; SET x = 1; SELECT x;", "SET"),
        ("SELECT 1; SELECT 2", "more than one query"),
        ("CREATE TEMP TABLE t AS SELECT 1", "CREATE"),
        ("DECLARE x INT64 DEFAULT (SELECT 1); SELECT x", "only literals"),
    ],
)
def test_scripting_is_refused_naming_the_construct(sql, construct):
    with pytest.raises(TranspileError, match="unsupported on DuckDB") as info:
        to_duckdb(sql)
    assert construct in str(info.value)


def test_table_mapping():
    out = to_duckdb(
        "SELECT 1 FROM `bigquery-public-data.idc_current.dicom_all` d JOIN idc_v25.x y ON TRUE"
    )
    assert '"idc_current"."dicom_all" AS d' in out and "idc_v25.x AS y" in out
    assert "bigquery-public-data" not in out
    custom = to_duckdb("SELECT 1 AS x FROM `my-mirror.idc_v25.dicom_all`", data_project="my-mirror")
    assert custom == 'SELECT CAST(1 AS BIGINT) AS x FROM "idc_v25"."dicom_all"'  # INT64
    with pytest.raises(TranspileError, match="other-project"):
        to_duckdb("SELECT 1 FROM `other-project.ds.t`")


def test_string_agg_distinct_with_error_in_argument(con):
    # idc_index.sql: STRING_AGG(DISTINCT CASE ... ELSE ERROR(...) END, "," ORDER BY <same CASE>)
    case = "CASE Modality WHEN 'CT' THEN 'c' WHEN 'MR' THEN 'm' WHEN 'SEG' THEN 's' ELSE ERROR('x') END"
    rows = run(con, f"SELECT STRING_AGG(DISTINCT {case}, ',' ORDER BY {case}) FROM {T}")
    assert rows == [("c,m,s",)]
    desc = run(con, f"SELECT STRING_AGG(DISTINCT {case}, '' ORDER BY {case} DESC) FROM {T}")
    assert desc == [("smc",)]
    empty = run(
        con, f"SELECT STRING_AGG(DISTINCT {case}, ',' ORDER BY {case}) FROM {T} WHERE id > 9"
    )
    assert empty == [(None,)]
    with pytest.raises(duckdb.Error, match="unmapped"):
        bad = case.replace("WHEN 'SEG' THEN 's' ", "").replace("'x'", "'unmapped'")
        run(con, f"SELECT STRING_AGG(DISTINCT {bad}, ',' ORDER BY {bad}) FROM {T}")


def test_round_with_computed_digits(con):
    rows = run(con, "SELECT ROUND(0.012345, CAST(2 - 1 - FLOOR(LOG(ABS(0.012345), 10)) AS INT64))")
    assert rows == [(0.012,)]


def test_order_by_expression_on_array_subquery_alias(con):
    rows = run(
        con,
        f"SELECT id, ARRAY(SELECT x FROM UNNEST(ImageType) AS x ORDER BY x DESC) AS rev FROM {T} "
        f"WHERE id < 3 ORDER BY rev[SAFE_OFFSET(0)] DESC",
    )
    assert rows == [(1, ["c", "b", "a"]), (2, [])]


def test_countif_is_zero_when_nothing_matches(con):
    nulls = "SELECT CAST(NULL AS INT64) AS x UNION ALL SELECT CAST(NULL AS INT64)"
    assert run(con, f"SELECT COUNTIF(x > 1) FROM ({nulls})") == [(0,)]
    assert run(con, "SELECT COUNTIF(x > 1) FROM (SELECT 1 AS x UNION ALL SELECT 5)") == [(1,)]
    rows = run(
        con,
        "SELECT x, COUNTIF(x > 1) OVER (ORDER BY x) FROM (SELECT 1 AS x UNION ALL SELECT 5) ORDER BY x",
    )
    assert rows == [(1, 0), (5, 1)]


def test_decimal_literals_are_float64(con):
    rows = run(con, "SELECT 2.5, 1 / 3.0, 1e3")
    assert rows == [(2.5, 1 / 3.0, 1000.0)]
    assert all(type(v) is float for v in rows[0])


SCHEMA = {
    "bigquery-public-data": {
        "idc_v25": {
            "dicom_all": {"id": "INT64", "txt": "STRING", "i": "INT64", "Modality": "STRING"}
        }
    }
}


def test_safe_cast_string_to_int64_is_strict_like_bigquery(con):
    con.execute(
        "CREATE TABLE idc_v25.casts AS SELECT * FROM (VALUES ('1.0', 2.5), ('12', -2.5), "
        "('0x10', 0.5), ('1e3', 1.5), ('1_000', NULL)) AS t(txt, x)"
    )
    schema = {"bigquery-public-data": {"idc_v25": {"casts": {"txt": "STRING", "x": "FLOAT64"}}}}
    sql = to_duckdb(
        "SELECT SAFE_CAST(txt AS INT64), CAST(x AS INT64), SAFE_CAST(x AS INT64) "
        "FROM `bigquery-public-data.idc_v25.casts`",
        schema=schema,
    )
    # BigQuery: only decimal or 0x-hex digits parse; halfway floats round away from zero
    assert con.execute(sql).fetchall() == [
        (None, 3, 3),
        (12, -3, -3),
        (16, 1, 1),
        (None, 2, 2),
        (None, None, None),
    ]


def test_cast_string_to_int64_raises_on_non_integer_text(con):
    # BigQuery's CAST reads only decimal or 0x-hex digits; DuckDB's also reads these
    schema = {"bigquery-public-data": {"idc_v25": {"t": {"txt": "STRING"}}}}
    for text in ("1.0", "1e3", "1_000"):
        sql = to_duckdb(
            f"SELECT CAST(txt AS INT64) AS i FROM (SELECT '{text}' AS txt)", schema=schema
        )
        with pytest.raises(duckdb.Error, match="Bad int64 value"):
            con.execute(sql).fetchall()
    sql = to_duckdb("SELECT CAST(txt AS INT64) AS i FROM (SELECT ' -0x1f ' AS txt)")
    assert con.execute(sql).fetchall() == [(-31,)]


def test_schema_without_casts_is_not_needed(con):
    # The schema only matters for casts to INT64; other queries give the same SQL.
    sql = f"SELECT id FROM {T} WHERE Modality = 'CT'"
    assert to_duckdb(sql, schema=SCHEMA) == to_duckdb(sql)


def test_bare_table_name_types_as_qualified():
    # issue 18: a bare name (the CLI's shorthand) must not turn the typed rewrites off
    bare = to_duckdb("SELECT DATE_TRUNC(StudyDate, YEAR) AS y FROM dicom_all")
    qualified = to_duckdb(
        "SELECT DATE_TRUNC(StudyDate, YEAR) AS y FROM `bigquery-public-data.idc_current.dicom_all`"
    )
    assert "CAST(DATE_TRUNC" in bare and "CAST(DATE_TRUNC" in qualified
    inner = to_duckdb("SELECT CAST(-2.5 AS INT64) AS a, (SELECT COUNT(*) FROM dicom_all) AS n")
    assert "ROUND(-CAST(2.5e0 AS DOUBLE))" in inner


def test_rewrite_needing_unknown_type_refuses():
    # a column of a table nobody knows the types of: refused, not passed through
    with pytest.raises(TranspileError, match="depends on the type of"):
        to_duckdb("SELECT CAST(x AS STRING) AS s FROM idc_current.not_a_table")
    # no typed rewrite needed: no types needed
    assert to_duckdb("SELECT x FROM idc_current.not_a_table")


def test_float_rewrites_only_where_floats_can_occur():
    schema = {"bigquery-public-data": {"idc_v25": {"t": {"a": "FLOAT64", "b": "STRING"}}}}
    table = "`bigquery-public-data.idc_v25.t`"
    floats = to_duckdb(f"SELECT a FROM {table} WHERE a > b ORDER BY a", schema=schema)
    assert "ISNAN" in floats.upper()
    strings = to_duckdb(f"SELECT b FROM {table} WHERE b > 'x' ORDER BY b", schema=schema)
    assert "ISNAN" not in strings.upper()


def test_div_and_bitwise_operators_keep_googlesql_grouping(con):
    # DIV's operands were written without parentheses: DIV(i - 1, 2) read as i - (1 // 2)
    rows = run(
        con,
        "SELECT id, DIV(i + 3, 2) AS a, -DIV(i + 3, 2) AS b, ~i + 1 AS c "
        "FROM `bigquery-public-data.idc_v25.dicom_all` ORDER BY id",
    )
    assert rows == [(1, 1, -1, 0), (2, 2, -2, -1), (3, 2, -2, -2)]


@pytest.mark.parametrize("expr", ["3 | 4 & 1", "6 ^ 3 & 5", "2 & 1 << 1", "i | i & 1"])
def test_bitwise_operators_sqlglot_would_misgroup_are_refused(expr):
    with pytest.raises(TranspileError, match="bitwise operators of different precedence"):
        to_duckdb(f"SELECT {expr} AS x FROM `bigquery-public-data.idc_v25.dicom_all`")


def test_bitwise_operators_read_in_googlesql_order_run(con):
    rows = run(con, "SELECT 5 & 3 | 8 AS a, 1 << 2 & 7 AS b, 3 | (4 & 1) AS c")
    assert rows == [(9, 4, 3)]


@pytest.mark.parametrize(
    ("sql", "words"),
    [
        ("SELECT NTH_VALUE(v, 0) OVER (ORDER BY v) AS n FROM UNNEST([1, 2]) AS v", "at least 1"),
        (
            "SELECT STRING_AGG(DISTINCT s ORDER BY LENGTH(s)) AS a FROM UNNEST(['b', 'aa']) AS s",
            "DISTINCT and ORDER BY",
        ),
        (
            "SELECT GENERATE_TIMESTAMP_ARRAY(TIMESTAMP '2024-01-01', TIMESTAMP '2024-06-01', "
            "INTERVAL 1 MONTH) AS a",
            "MONTH date part",
        ),
        (
            f"SELECT EXTRACT(YEAR FROM collection_timestamp AT TIME ZONE 'Asia/Tokyo') AS y FROM {T}",
            "EXTRACT from DATETIME does not support AT TIME ZONE",
        ),
    ],
)
def test_invalid_without_the_analyzer_is_refused(sql, words):
    # without GoogleSQL's analysis the translation itself refuses what BigQuery rejects
    with pytest.raises(TranspileError, match=words):
        to_duckdb(sql)
