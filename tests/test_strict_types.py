"""The strict layer's type check (idcbq/validate/strict_types.py, issue 18 §1-2).

Without GoogleSQL's analyzer, the strict layer refuses what is certainly badly typed.
Each refusal class has a query the check refuses (at a position, in GoogleSQL's words)
and that GoogleSQL's reference implementation also refuses (``gsql_engine``, which
analyzes on its own); near misses (literal coercion, NULL, parameters, types sqlglot
cannot know) must pass, and GoogleSQL answers them.
"""

from __future__ import annotations

import pytest

from idcbq.errors import IdcbqError
from idcbq.params import BoundParameter
from idcbq.validate import check

T = "`bigquery-public-data.idc_current.dicom_all`"

#: (class, query, words of the refusal)
REFUSED = [
    ("compare_string_int", f"SELECT COUNT(*) AS n FROM {T} WHERE SeriesNumber = 1", "operator = for argument types: STRING, INT64"),
    ("compare_int_string_literal", f"SELECT COUNT(*) AS n FROM {T} WHERE instance_size = '1'", "STRING"),
    ("in_list", f"SELECT COUNT(*) AS n FROM {T} WHERE instance_size IN ('1', '2')", "operator IN"),
    ("join_on", f"SELECT COUNT(*) AS n FROM {T} AS a JOIN {T} AS b ON a.SeriesNumber = b.instance_size", "operator ="),
    ("between", "SELECT 2 BETWEEN 'a' AND 'b' AS x", "operator BETWEEN"),
    ("equals_literal_null", f"SELECT COUNT(*) AS n FROM {T} WHERE BodyPartExamined = NULL", "cannot be literal NULL"),
    ("literal_null_equals_null", "SELECT NULL = NULL AS a", "cannot be literal NULL"),
    ("array_equality", "SELECT [1, 2] = [1, 2] AS a", "Equality is not defined"),
    ("struct_ordering", "SELECT STRUCT(1 AS a) < STRUCT(2 AS a) AS x", "Ordering is not defined"),
    ("union_columns", "SELECT 'a' AS x UNION ALL SELECT 1", "incompatible types: STRING, INT64"),
    ("if_branches", "SELECT IF(TRUE, 1, 'a') AS a", "function IF"),
    ("case_branches", "SELECT CASE WHEN TRUE THEN 1 ELSE 'x' END AS a", "function CASE"),
    ("coalesce", "SELECT COALESCE(1, 'a') AS a", "function COALESCE"),
    ("array_elements", "SELECT [1, 'a'] AS a", "common supertype"),
    ("lag_default", f"SELECT LAG(Modality, 1, 0) OVER (ORDER BY SOPInstanceUID) AS p FROM {T}", "function LAG"),
    ("where_int", f"SELECT COUNT(*) AS n FROM {T} WHERE instance_size", "WHERE clause should return type BOOL"),
    ("if_condition", "SELECT IF(1, 'a', 'b') AS c", "IF should return type BOOL"),
    ("not_int", "SELECT NOT 1 AS a", "operator NOT"),
    ("and_int", "SELECT TRUE AND 1 AS a", "operator AND"),
    ("order_by_array", f"SELECT ImageType FROM {T} ORDER BY ImageType LIMIT 1", "ORDER BY does not support"),
    ("order_by_struct", "SELECT s FROM UNNEST([STRUCT(1 AS a), STRUCT(2 AS a)]) AS s ORDER BY s", "ORDER BY"),
    ("group_by_json", "SELECT COUNT(*) AS n FROM UNNEST([JSON '1', JSON '2']) AS j GROUP BY j", "Grouping by"),
    ("distinct_json", "SELECT DISTINCT j FROM UNNEST([JSON '1', JSON '1']) AS j", "SELECT DISTINCT"),
    ("partition_by_float", "SELECT COUNT(*) OVER (PARTITION BY x) AS n FROM UNNEST([1.5, 2.5]) AS x", "Partitioning by expressions of type FLOAT64"),
    ("min_of_array", f"SELECT MIN(ImageType) AS m FROM {T}", "MIN does not support"),
    ("length_int", "SELECT LENGTH(123) AS a", "function LENGTH for argument types: INT64"),
    ("string_agg_int", f"SELECT STRING_AGG(`Rows`, ',') AS s FROM {T}", "function STRING_AGG"),
    ("array_to_string_int", "SELECT ARRAY_TO_STRING([1, 2], ',') AS s", "function ARRAY_TO_STRING"),
    ("mod_float", "SELECT MOD(2.5, 2.0) AS m", "function MOD"),
    ("array_agg_array", f"SELECT ARRAY_AGG(ImageType) AS a FROM {T}", "ARRAY_AGG"),
    ("extract_hour_date", f"SELECT EXTRACT(HOUR FROM StudyDate) AS h FROM {T} LIMIT 1", "HOUR date part"),
    ("extract_epoch", "SELECT EXTRACT(EPOCH FROM TIMESTAMP '2024-01-01') AS a", "EPOCH"),
    ("date_add_hour", "SELECT DATE_ADD(DATE '2024-01-01', INTERVAL 1 HOUR) AS a", "DATE_ADD"),
    ("date_diff_hour", f"SELECT DATE_DIFF(StudyDate, StudyDate, HOUR) AS d FROM {T} LIMIT 1", "DATE_DIFF"),
    ("date_diff_mixed", "SELECT DATE_DIFF(DATE '2024-01-01', TIMESTAMP '2024-01-01', DAY) AS a", "DATE, TIMESTAMP"),
    ("date_trunc_hour", "SELECT DATE_TRUNC(DATE '2020-01-01', HOUR) AS a", "DATE_TRUNC"),
    ("timestamp_add_month", "SELECT TIMESTAMP_ADD(TIMESTAMP '2020-01-31 00:00:00+00', INTERVAL 1 MONTH) AS t", "TIMESTAMP_ADD"),
    ("cast_array", f"SELECT CAST(ImageType AS STRING) AS it FROM {T}", "Invalid CAST"),
    ("concat_arrays", "SELECT CONCAT([1], [2]) AS a", "function CONCAT"),
    ("limit_subquery", "SELECT x FROM UNNEST([1, 2]) AS x LIMIT (SELECT 1)", "LIMIT expects"),
    ("rank_without_order", f"SELECT RANK() OVER (PARTITION BY collection_id) AS r FROM {T}", "must have ORDER BY"),
    ("row_number_frame", "SELECT ROW_NUMBER() OVER (ORDER BY x ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) AS r FROM UNNEST([1]) AS x", "framing"),
    ("alias_in_same_select", f"SELECT instance_size AS s, s + 1 AS t FROM {T} LIMIT 1", "cannot be used in the same SELECT list"),
    ("distinct_order_hidden", f"SELECT DISTINCT Modality FROM {T} ORDER BY PatientID", "not visible after SELECT DISTINCT"),
    ("limit_fraction", f"SELECT Modality FROM {T} LIMIT 1.5", "LIMIT expects an integer"),
    ("star_exclude", f"SELECT * EXCLUDE (Modality) FROM {T} LIMIT 1", "EXCLUDE"),
    ("distinct_on", f"SELECT DISTINCT ON (Modality) Modality FROM {T}", "DISTINCT ON"),
    ("between_symmetric", "SELECT 2 BETWEEN SYMMETRIC 3 AND 1 AS a", "SYMMETRIC"),
    ("fetch_first", f"SELECT Modality FROM {T} FETCH FIRST 1 ROWS ONLY", "FETCH"),
    ("brace_struct", "SELECT {'a': 1} AS s", "struct literals"),
    ("safe_cast_prefix", "SELECT SAFE.CAST('1' AS INT64) AS a", "SAFE."),
    ("duplicate_names_through_stars", "SELECT r.*, s.* FROM (SELECT 1 AS x) AS r JOIN (SELECT 2 AS x) AS s ON TRUE", "duplicate column name x"),
    ("count_distinct_ordered_window", "SELECT COUNT(DISTINCT x) OVER (ORDER BY x) AS n FROM UNNEST([1, 2]) AS x", "DISTINCT"),
    ("timestamp_diff_week", "SELECT TIMESTAMP_DIFF(TIMESTAMP '2024-01-14', TIMESTAMP '2024-01-01', WEEK) AS a", "TIMESTAMP_DIFF does not support the WEEK"),
    ("array_of_arrays", "SELECT [[1, 2]] AS a", "arrays of arrays"),
    ("cast_bool_to_float", "SELECT CAST(TRUE AS FLOAT64) AS a", "Invalid CAST from BOOL"),
]  # fmt: skip

#: Valid near misses: the check must pass them (GoogleSQL answers each).
ACCEPTED = [
    ("date_vs_string_literal", f"SELECT COUNT(*) AS n FROM {T} WHERE StudyDate = '2020-01-01'"),
    ("timestamp_vs_string_literal", "SELECT TIMESTAMP '2020-01-01' > '2019-01-01' AS a"),
    ("date_between_literals", f"SELECT COUNT(*) AS n FROM {T} WHERE StudyDate BETWEEN '2000-01-01' AND '2030-01-01'"),
    ("int_vs_float", f"SELECT COUNT(*) AS n FROM {T} WHERE instance_size > 1.5"),
    ("numeric_vs_int", "SELECT NUMERIC '1.5' < 2 AS a"),
    ("null_compare_cast", f"SELECT COUNT(*) AS n FROM {T} WHERE instance_size = CAST(NULL AS INT64)"),
    ("null_is", f"SELECT COUNT(*) AS n FROM {T} WHERE instance_size IS NULL"),
    ("null_branches", "SELECT IF(TRUE, 1, NULL) AS a, COALESCE(NULL, 'a') AS b, ARRAY_LENGTH([NULL, 1]) AS c"),
    ("int_float_supertype", "SELECT IF(TRUE, 1, 2.5) AS a UNION ALL SELECT 3"),
    ("string_literal_civil_supertype", "SELECT DATE '2020-01-01' AS d UNION ALL SELECT '2020-01-02'"),
    ("struct_equality", "SELECT STRUCT(1 AS a) = STRUCT(2 AS a) AS x"),
    ("group_by_float", "SELECT x, COUNT(*) AS n FROM UNNEST([1.5, 1.5]) AS x GROUP BY x"),
    ("group_by_array", f"SELECT COUNT(*) AS n FROM (SELECT DISTINCT ImageType FROM {T})"),
    ("where_bool_column", "SELECT x FROM UNNEST([TRUE, FALSE]) AS x WHERE x"),
    ("date_add_day", "SELECT DATE_ADD(DATE '2024-01-01', INTERVAL 1 DAY) AS a"),
    ("date_trunc_month", "SELECT DATE_TRUNC(DATE '2024-01-01', MONTH) AS a"),
    ("timestamp_trunc_hour", "SELECT TIMESTAMP_TRUNC(TIMESTAMP '2024-01-01 10:30:00+00', HOUR) AS a"),
    ("timestamp_add_day", "SELECT TIMESTAMP_ADD(TIMESTAMP '2020-01-31 00:00:00+00', INTERVAL 1 DAY) AS t"),
    ("length_string_and_bytes", "SELECT LENGTH('abc') AS a, LENGTH(b'ab') AS b"),
    ("mod_ints", "SELECT MOD(7, 2) AS a"),
    ("row_number_no_order", "SELECT ROW_NUMBER() OVER () AS r FROM UNNEST([1]) AS x"),
    ("alias_in_order_and_group", f"SELECT instance_size AS s, COUNT(*) AS n FROM {T} GROUP BY s HAVING n > 0 ORDER BY s LIMIT 1"),
    ("distinct_order_selected", f"SELECT DISTINCT(Modality) FROM {T} ORDER BY Modality"),
    ("safe_cast", "SELECT SAFE_CAST('x' AS INT64) AS a, * EXCEPT (b) FROM (SELECT 1 AS b, 2 AS c) LIMIT 0x1"),
    ("distinct_names_through_stars", "SELECT r.*, s.* FROM (SELECT 1 AS x) AS r JOIN (SELECT 2 AS y) AS s ON TRUE"),
    ("unknown_types_pass", "SELECT LAX_INT64(JSON '1') = 1 AS a"),
    ("timestamp_diff_day", "SELECT TIMESTAMP_DIFF(TIMESTAMP '2024-01-14', TIMESTAMP '2024-01-01', DAY) AS a"),
    ("bool_casts", "SELECT CAST(TRUE AS INT64) AS a, CAST(TRUE AS STRING) AS b, SAFE_CAST(x AS BOOL) AS c FROM UNNEST([TRUE]) AS x"),
    ("array_of_structs_of_arrays", "SELECT [STRUCT([1] AS a)] AS x, ARRAY(SELECT 1) AS y"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "sql", "words"), REFUSED, ids=[r[0] for r in REFUSED])
def test_refused_alone_and_by_googlesql(name, sql, words, gsql_engine):
    _, problems = check(sql, googlesql=False)
    assert problems, f"{name}: the strict layer let it through"
    first = str(problems[0])
    assert words in first, first
    assert first.startswith("<sql>:"), first  # where (file:line:col when sqlglot kept it)
    with pytest.raises(IdcbqError):
        gsql_engine.execute(gsql_engine.prepare(sql, ()))


@pytest.mark.parametrize(("name", "sql"), ACCEPTED, ids=[a[0] for a in ACCEPTED])
def test_near_misses_pass_and_googlesql_answers(name, sql, gsql_engine):
    _, problems = check(sql, googlesql=False)
    assert problems == [], [str(p) for p in problems]
    gsql_engine.execute(gsql_engine.prepare(sql, ()))


def test_parameters_follow_their_declared_type():
    sql = f"SELECT COUNT(*) AS n FROM {T} WHERE instance_size = @n AND StudyDate > @d"
    good = [BoundParameter.of("n", "INT64", 1), BoundParameter.of("d", "STRING", "2020-01-01")]
    assert check(sql, params=good, googlesql=False)[1] == []
    bad = [BoundParameter.of("n", "STRING", "1"), BoundParameter.of("d", "STRING", "2020-01-01")]
    problems = check(sql, params=bad, googlesql=False)[1]
    assert "for argument types: INT64, STRING" in str(problems[0])
