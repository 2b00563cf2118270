"""The strict layer's shape, token and value classes (strict_shapes, strict_tokens,
type_functions; issue 18 §1).

Without GoogleSQL's analyzer, each class below is refused by the strict layer, and
GoogleSQL's reference implementation (``gsql_engine``) refuses it too; each near miss
passes the strict layer and GoogleSQL answers it.
"""

from __future__ import annotations

import pytest

from idcbq.errors import IdcbqError
from idcbq.validate import check

T = "`bigquery-public-data.idc_current.dicom_all`"
U = "UNNEST([1, 2]) AS x"

#: (class, query, words of the refusal)
REFUSED = [
    # aggregates and analytic functions where they cannot stand
    ("aggregate_in_where", f"SELECT x FROM {U} WHERE SUM(x) > 1", "Aggregate function SUM not allowed in WHERE"),
    ("count_star_in_where", f"SELECT Modality FROM {T} WHERE COUNT(*) > 1 GROUP BY Modality", "COUNT(*) not allowed in WHERE"),
    ("aggregate_in_join_on", f"SELECT 1 AS a FROM {U} JOIN UNNEST([1]) AS y ON MAX(y) = 1", "JOIN ON"),
    ("window_in_where", f"SELECT x FROM {U} WHERE ROW_NUMBER() OVER () = 1", "Analytic function not allowed in WHERE"),
    ("order_by_in_sum", f"SELECT SUM(x ORDER BY x) AS s FROM {U}", "does not support ORDER BY"),
    ("order_by_in_windowed_aggregate", "SELECT STRING_AGG(x ORDER BY x) OVER () AS a FROM UNNEST(['a', 'b']) AS x", "not supported on analytic functions"),
    ("lag_without_window_order", f"SELECT LAG(x) OVER (PARTITION BY x) AS a FROM {U}", "Window ORDER BY is required"),
    ("first_value_without_window_order", f"SELECT FIRST_VALUE(x) OVER () AS a FROM {U}", "Window ORDER BY is required"),
    ("duplicate_unnest_alias", "SELECT 1 AS a FROM UNNEST([1]) AS x, UNNEST([2]) AS x", "Duplicate table alias"),
    ("aggregate_in_recursive_term", "WITH RECURSIVE t AS (SELECT 1 AS n UNION ALL SELECT MAX(n) + 1 FROM t WHERE n < 5) SELECT * FROM t", "recursive term"),
    ("window_in_having", f"SELECT x FROM {U} GROUP BY x HAVING RANK() OVER (ORDER BY x) = 1", "Analytic function not allowed in HAVING"),
    ("nested_aggregate", f"SELECT MAX(COUNT(*)) AS m FROM {U} GROUP BY x", "Aggregations of aggregations"),
    ("window_in_aggregate", f"SELECT SUM(ROW_NUMBER() OVER ()) AS s FROM {U}", "cannot be arguments to aggregate"),
    ("window_in_window", f"SELECT SUM(ROW_NUMBER() OVER (ORDER BY x)) OVER () AS s FROM {U}", "argument of another analytic"),
    ("group_by_ordinal_aggregate", f"SELECT x, COUNT(*) AS n FROM {U} GROUP BY 1, 2", "Column 2 contains an aggregation"),
    ("group_by_ordinal_window", f"SELECT ROW_NUMBER() OVER () AS r FROM {U} GROUP BY 1", "Column 1 contains an analytic"),
    ("group_by_ordinal_range", f"SELECT x FROM {U} GROUP BY 2", "GROUP BY is out of SELECT column number range: 2"),
    ("order_by_ordinal_range", f"SELECT x FROM {U} ORDER BY 0", "ORDER BY is out of SELECT column number range: 0"),
    ("having_without_grouping", f"SELECT x FROM {U} HAVING x > 0", "HAVING clause requires GROUP BY"),
    ("order_by_aggregate_ungrouped", f"SELECT x FROM {U} ORDER BY COUNT(*)", "ORDER BY clause only allows aggregation"),
    ("qualify_without_window", f"SELECT x FROM {U} WHERE TRUE QUALIFY x > 1", "QUALIFY clause requires analytic function"),
    # grouped SELECTs
    ("ungrouped_column", f"SELECT Modality, PatientID, COUNT(*) AS n FROM {T} GROUP BY Modality", "references PatientID which is neither grouped nor aggregated"),
    ("ungrouped_implicit", f"SELECT x, COUNT(*) AS n FROM {U}", "references x which is neither"),
    ("ungrouped_in_having", f"SELECT COUNT(*) AS n FROM {U} GROUP BY x + 1 HAVING x + 1 > 0", "HAVING clause expression references x"),
    ("ungrouped_in_order_by", f"SELECT SUM(x) AS s FROM {U} ORDER BY x", "ORDER BY clause expression references x"),
    ("expression_key_inside_item", f"SELECT (x + 1) * 2 AS f FROM {U} GROUP BY x + 1", "references x"),
    ("subscript_key_inside_item", "SELECT SAFE_CAST(a[SAFE_OFFSET(0)] AS FLOAT64) * 2 AS f FROM UNNEST([STRUCT([1] AS a)]) GROUP BY a[SAFE_OFFSET(0)]", "references a which"),
    ("ungrouped_in_cte", f"WITH c AS (SELECT x, COUNT(*) AS n FROM {U} GROUP BY 2 + 0) SELECT * FROM c", "references x"),
    # subqueries used as values
    ("scalar_subquery_two_columns", "SELECT (SELECT 1, 2) AS a", "Scalar subquery cannot have more than one column"),
    ("array_subquery_two_columns", "SELECT ARRAY(SELECT 1 AS a, 2 AS b) AS arr", "ARRAY subquery cannot have more than one column"),
    ("in_subquery_two_columns", f"SELECT x FROM {U} WHERE x IN (SELECT 1, 2)", "Subquery of type IN must have only one output column"),
    ("set_operation_column_count", "SELECT 1 AS a, 2 AS b UNION ALL SELECT 3", "mismatched column count: 2 and 1"),
    # tokens sqlglot forgives
    ("mixed_set_operations", "SELECT 1 AS a UNION ALL SELECT 2 INTERSECT DISTINCT SELECT 1", "Different set operations"),
    ("union_all_then_distinct", "SELECT 1 AS a UNION ALL SELECT 2 UNION DISTINCT SELECT 3", "Different set operations"),
    ("interval_string_with_part_inside", "SELECT DATE '2024-01-01' + INTERVAL '1 day' AS a", "INTERVAL literal names its date part"),
    ("from_first_then_select", "FROM UNNEST([1, 2]) AS x SELECT x", "starts with FROM"),
    ("alias_in_same_select_no_from", "SELECT 1 AS a, a + 1 AS b", "a SELECT alias cannot be used in the same SELECT list"),
    # values no signature takes
    ("null_operand_plus", "SELECT 1 + NULL AS a", "Operands of + cannot be literal NULL"),
    ("null_operand_not", "SELECT NOT NULL AS a", "Operands of NOT cannot be literal NULL"),
    ("null_operand_negation", "SELECT -NULL AS a", "Operands of - cannot be literal NULL"),
    ("bool_plus_int", "SELECT TRUE + 1 AS a", "operator + for argument types: BOOL, INT64"),
    ("string_times_int", "SELECT 'ab' * 2 AS a", "operator * for argument types: STRING, INT64"),
    ("string_column_plus", f"SELECT Modality + 'x' AS m FROM {T} LIMIT 1", "operator +"),
    ("sum_of_string", "SELECT SUM(s) AS a FROM UNNEST(['1', '2']) AS s", "aggregate function SUM for argument types: STRING"),
    ("avg_of_date", f"SELECT AVG(StudyDate) AS a FROM {T}", "aggregate function AVG for argument types: DATE"),
    ("sum_of_comparison", f"SELECT SUM(x > 1) AS s FROM {U}", "argument types: BOOL"),
    ("unnest_of_string", "SELECT x FROM UNNEST('abc') AS x", "Values referenced in UNNEST must be arrays"),
    ("array_length_of_string", f"SELECT ARRAY_LENGTH(Modality) AS a FROM {T} LIMIT 1", "function ARRAY_LENGTH"),
    ("lpad_of_int", "SELECT LPAD(7, 3, '0') AS a", "function LPAD for argument types: INT64"),
    ("substr_of_date", f"SELECT SUBSTR(StudyDate, 1, 4) AS y FROM {T} LIMIT 1", "function SUBSTR for argument types: DATE"),
    ("regexp_contains_int_pattern", f"SELECT REGEXP_CONTAINS(Modality, 1) AS a FROM {T}", "function REGEXP_CONTAINS"),
    # SELECT without FROM
    ("no_from_where", "SELECT 1 AS a WHERE TRUE", "Query without FROM clause cannot have a WHERE clause"),
    ("no_from_order_by_in_subquery", "SELECT (SELECT 1 AS a ORDER BY a) AS b", "cannot have an ORDER BY clause"),
    ("no_from_distinct", "SELECT DISTINCT 1 AS a", "cannot use SELECT DISTINCT"),
    ("no_from_aggregate", "SELECT COUNT(*) AS n", "not allowed in SELECT without FROM"),
    ("no_from_window", "SELECT ROW_NUMBER() OVER () AS r", "Analytic function not allowed in SELECT without FROM"),
    ("no_from_star", "SELECT *", "SELECT * must have a FROM clause"),
    # more tokens
    ("order_by_in_union_branch", "SELECT 1 AS a ORDER BY a UNION ALL SELECT 2", "ORDER BY before UNION needs parentheses"),
    ("array_slice", "SELECT [1, 2, 3][1:2] AS a", "array slices"),
    ("with_ordinality", "SELECT * FROM UNNEST([1, 2]) WITH ORDINALITY", "WITH ORDINALITY"),
    # aggregate arguments
    ("distinct_order_by_other", "SELECT ARRAY_AGG(DISTINCT x ORDER BY y) AS a FROM UNNEST([STRUCT(1 AS x, 2 AS y)])", "both DISTINCT and ORDER BY"),
    ("grouping_not_grouped", "SELECT x, GROUPING(y) AS g FROM UNNEST([STRUCT('a' AS x, 1 AS y)]) GROUP BY ROLLUP(x)", "GROUPING must have an argument"),
    ("grouping_without_group_by", f"SELECT GROUPING(x) AS g FROM {U}", "GROUPING must have an argument"),
    ("non_date_text_plus_int", "SELECT 'a' + 1 AS a", "operator + for argument types: STRING, INT64"),
    ("string_subscript", "SELECT 'abc'[1] AS a", "Subscript access is not supported on values of type STRING"),
    ("array_position_string", f"SELECT ImageType['a'] AS x FROM {T}", "Array position in [] must be coercible to INT64"),
    # literals
    ("date_literal_day", "SELECT DATE '2023-02-29' AS a", "Invalid DATE literal"),
    ("date_literal_year", "SELECT DATE '10000-01-01' AS a", "Invalid DATE literal"),
    ("timestamp_literal_hour", "SELECT TIMESTAMP '2024-01-01 25:00:00' AS a", "Invalid TIMESTAMP literal"),
    ("int64_literal_overflow", "SELECT 9223372036854775808 AS a", "Invalid integer literal"),
    ("numeric_literal_overflow", "SELECT NUMERIC '1e30' AS a", "Invalid NUMERIC literal"),
    # window frames and analytic arguments
    ("ntile_zero", f"SELECT NTILE(0) OVER (ORDER BY x) AS a FROM {U}", "NTILE must be at least 1"),
    ("nth_value_zero", f"SELECT NTH_VALUE(x, 0) OVER (ORDER BY x) AS a FROM {U}", "NTH_VALUE must be at least 1"),
    ("frame_current_to_preceding", f"SELECT SUM(x) OVER (ORDER BY x ROWS BETWEEN CURRENT ROW AND 1 PRECEDING) AS s FROM {U}", "cannot be CURRENT ROW"),
    ("frame_single_following", f"SELECT SUM(x) OVER (ORDER BY x ROWS 1 FOLLOWING) AS s FROM {U}", "cannot be OFFSET FOLLOWING"),
    ("range_offset_without_order", f"SELECT SUM(x) OVER (RANGE BETWEEN 1 PRECEDING AND CURRENT ROW) AS s FROM {U}", "exactly one ORDER BY key"),
    ("range_offset_two_keys", f"SELECT SUM(x) OVER (ORDER BY x, x RANGE 1 PRECEDING) AS s FROM {U}", "exactly one ORDER BY key"),
    ("range_offset_date_key", "SELECT COUNT(*) OVER (ORDER BY d RANGE BETWEEN 1 PRECEDING AND CURRENT ROW) AS n FROM UNNEST([DATE '2024-01-01']) AS d", "ORDER BY key must be numeric"),
    # function arguments (strict_calls)
    ("count_distinct_star", f"SELECT COUNT(DISTINCT *) AS n FROM {T}", "COUNT(*) cannot be used with DISTINCT"),
    ("in_unnest_element_type", f"SELECT COUNT(*) AS n FROM {T} WHERE `Rows` IN UNNEST(['1'])", "operator IN UNNEST"),
    ("bit_and_float", "SELECT BIT_AND(x) AS a FROM UNNEST([1.5]) AS x", "aggregate function BIT_AND"),
    ("date_of_int", "SELECT DATE(20200101) AS a", "function DATE for argument types: INT64"),
    ("timestamp_array_by_month", "SELECT GENERATE_TIMESTAMP_ARRAY(TIMESTAMP '2024-01-01 00:00:00+00', TIMESTAMP '2024-06-01 00:00:00+00', INTERVAL 1 MONTH) AS a", "does not support the MONTH date part"),
    ("extract_datetime_at_time_zone", "SELECT EXTRACT(YEAR FROM d AT TIME ZONE 'Asia/Tokyo') AS y FROM UNNEST([DATETIME '2020-01-01 00:00:00']) AS d", "EXTRACT from DATETIME does not support AT TIME ZONE"),
    ("string_agg_null_separator", "SELECT STRING_AGG(x, CAST(NULL AS STRING)) AS s FROM UNNEST(['a', 'b']) AS x", "must be non-NULL"),
    ("array_is_distinct_json", "SELECT ARRAY_IS_DISTINCT([JSON '1', JSON '1']) AS a", "ARRAY_IS_DISTINCT cannot be used"),
    ("number_plus_interval", "SELECT 1 + INTERVAL 1 DAY AS x", "argument types: INT64, INTERVAL"),
    ("date_diff_part_first", "SELECT DATE_DIFF(DAY, DATE '2020-01-01', DATE '2020-02-01') AS d", "Unrecognized name: DAY"),
    ("date_trunc_quoted_part_first", f"SELECT DATE_TRUNC('month', StudyDate) AS m FROM {T} LIMIT 1", "A valid date part name is required"),
    # implicit casts DuckDB makes and GoogleSQL does not (strict_signatures)
    ("date_vs_timestamp", "SELECT DATE '2020-01-01' < TIMESTAMP '2020-01-01' AS a", "operator < for argument types: DATE, TIMESTAMP"),
    ("datetime_vs_timestamp", "SELECT DATETIME '2020-01-01 00:00:00' = TIMESTAMP '2020-01-01' AS a", "operator ="),
    ("like_of_int", f"SELECT x LIKE '1%' AS a FROM {U}", "operator LIKE"),
    ("round_of_string", "SELECT ROUND('1.5') AS a", "function ROUND for argument types: STRING"),
    ("abs_of_string_column", "SELECT ABS(s) AS a FROM UNNEST(['1']) AS s", "function ABS"),
    ("sqrt_of_bool", "SELECT SQRT(TRUE) AS a", "function SQRT"),
    ("cast_float_to_bool", "SELECT CAST(1.5 AS BOOL) AS a", "Invalid CAST from FLOAT64 to BOOL"),
    ("cast_int_to_date", "SELECT CAST(1 AS DATE) AS a", "Invalid CAST from INT64 to DATE"),
    ("cast_timestamp_to_int", "SELECT SAFE_CAST(TIMESTAMP '2020-01-01' AS INT64) AS a", "Invalid SAFE_CAST from TIMESTAMP to INT64"),
    ("cast_time_to_date", "SELECT CAST(TIME '10:00:00' AS DATE) AS a", "Invalid CAST from TIME to DATE"),
    ("strpos_of_int", "SELECT STRPOS(123, '1') AS a", "function STRPOS"),
    ("trim_of_int", "SELECT TRIM(123) AS a", "function TRIM"),
    ("regexp_extract_of_int", f"SELECT REGEXP_EXTRACT(`Rows`, r'1') AS a FROM {T}", "function REGEXP_EXTRACT"),
    ("date_add_of_string_column", "SELECT DATE_ADD(s, INTERVAL 1 DAY) AS a FROM UNNEST(['2020-01-01']) AS s", "function DATE_ADD"),
    ("extract_of_string_column", "SELECT EXTRACT(YEAR FROM s) AS a FROM UNNEST(['2020-01-01']) AS s", "function EXTRACT"),
    ("format_date_of_string_column", "SELECT FORMAT_DATE('%Y', s) AS a FROM UNNEST(['2020-01-01']) AS s", "FORMAT_DATE"),
    ("limit_offset_comma", f"SELECT x FROM {U} LIMIT 1, 2", "LIMIT offset, count"),
    ("similar_to", "SELECT x FROM UNNEST(['a']) AS x WHERE x SIMILAR TO 'a'", "SIMILAR TO"),
    ("regexp_operator", "SELECT x FROM UNNEST(['a']) AS x WHERE x REGEXP 'a'", "REGEXP is not BigQuery"),
    ("in_subquery_types", f"SELECT x FROM {U} WHERE x IN (SELECT s FROM UNNEST(['1']) AS s)", "uncomparable types INT64 and STRING"),
    ("group_by_aggregate_alias", f"SELECT COUNT(*) AS n FROM {U} GROUP BY n", "Column n contains an aggregation"),
    ("analytic_without_over", f"SELECT LAG(x) AS l FROM {U}", "Analytic function LAG cannot be called without an OVER clause"),
    ("row_number_without_over", f"SELECT ROW_NUMBER() AS r FROM {U}", "cannot be called without an OVER clause"),
    ("lag_named_window_frame", f"SELECT LAG(x) OVER w AS l FROM {U} WINDOW w AS (ORDER BY x ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING)", "framing clause is not allowed for analytic function LAG"),
]  # fmt: skip

#: Valid near misses: the strict layer passes them and GoogleSQL answers each.
ACCEPTED = [
    ("order_by_in_array_agg", f"SELECT ARRAY_AGG(x ORDER BY x) AS s FROM {U}"),
    ("lag_over_named_ordered_window", f"SELECT LAG(x) OVER w AS a FROM {U} WINDOW w AS (ORDER BY x)"),
    ("row_number_without_window_order", f"SELECT ROW_NUMBER() OVER (PARTITION BY x) AS a FROM {U}"),
    ("self_join_with_aliases", f"SELECT a.Modality FROM {T} AS a JOIN {T} AS b USING (SOPInstanceUID) LIMIT 1"),
    ("recursive_term_without_aggregate", "WITH RECURSIVE t AS (SELECT 1 AS n UNION ALL SELECT n + 1 FROM t WHERE n < 5) SELECT COUNT(*) AS c FROM t"),
    ("aggregate_in_where_subquery", f"SELECT x FROM {U} WHERE x IN (SELECT COUNT(*) FROM UNNEST([2]))"),
    ("window_of_aggregate", f"SELECT SUM(COUNT(*)) OVER () AS f FROM {U}"),
    ("window_in_qualify", f"SELECT x FROM {U} WHERE TRUE QUALIFY ROW_NUMBER() OVER (ORDER BY x) = 1"),
    ("qualify_on_selected_window", f"SELECT x, ROW_NUMBER() OVER (ORDER BY x) AS r FROM {U} WHERE TRUE QUALIFY r = 1"),
    ("having_with_aggregate_only", f"SELECT COUNT(*) AS n FROM {U} HAVING COUNT(*) > 0"),
    ("order_by_aggregate_grouped", f"SELECT x FROM {U} GROUP BY x ORDER BY COUNT(*)"),
    ("group_by_ordinal", f"SELECT x, COUNT(*) AS n FROM {U} GROUP BY 1 ORDER BY 2"),
    ("expression_key_whole_item", f"SELECT x + 1 AS f, COUNT(*) AS n FROM {U} GROUP BY x + 1 ORDER BY x + 1"),
    ("expression_key_in_parens", f"SELECT (x + 1) AS f FROM {U} GROUP BY x + 1"),
    ("subscript_key_whole_item", "SELECT a[SAFE_OFFSET(0)] AS f FROM UNNEST([STRUCT([1] AS a)]) GROUP BY a[SAFE_OFFSET(0)]"),
    ("struct_key_field", "SELECT s.a + 1 AS f FROM UNNEST([STRUCT(1 AS a)]) AS s GROUP BY s"),
    ("group_by_alias", f"SELECT x AS y, COUNT(*) AS n FROM {U} GROUP BY y HAVING n > 0 ORDER BY y"),
    ("correlated_subquery_grouped", f"SELECT (SELECT COUNT(*) FROM UNNEST([2]) AS y WHERE y = x) AS c FROM {U} GROUP BY x"),
    ("exists_many_columns", "SELECT EXISTS(SELECT 1, 2) AS a, ARRAY(SELECT AS STRUCT 1, 2) AS b"),
    ("parenthesized_set_operations", "(SELECT 1 AS a UNION ALL SELECT 2) INTERSECT DISTINCT SELECT 1"),
    ("same_set_operations", "SELECT 1 AS a UNION ALL SELECT 2 UNION ALL SELECT 3"),
    ("star_except_then_union", "SELECT * EXCEPT (a) FROM (SELECT 1 AS a, 2 AS b) UNION ALL SELECT 3"),
    ("interval_literals", "SELECT DATE '2024-01-01' + INTERVAL '1' DAY AS a, INTERVAL '1:2' HOUR TO MINUTE AS b"),
    ("pipe_from_first", "FROM UNNEST([1, 2]) AS x |> SELECT x"),
    ("alias_from_source", "SELECT (SELECT a + 1) AS b FROM UNNEST([1]) AS a"),
    ("date_plus_int_literal", "SELECT '2020-01-01' + 1 AS a, DATE '2020-01-01' - DATE '2020-01-01' AS b"),
    ("arithmetic_of_numbers", f"SELECT -x AS a, x * 2.5 AS b, TIMESTAMP '2020-01-01' - INTERVAL 1 HOUR AS c FROM {U}"),
    ("sum_of_if", f"SELECT SUM(IF(x > 1, 1, 0)) AS s, AVG(x) AS a FROM {U}"),
    ("text_functions_of_text", "SELECT LPAD('7', 3, '0') AS a, SUBSTR(b'12345', 2) AS b, REPLACE('a', 'a', 'b') AS c, STARTS_WITH('ab', 'a') AS d"),
    ("no_from_limit", "SELECT 1 AS a LIMIT 1"),
    ("set_operation_then_order_by", "SELECT 1 AS a UNION ALL SELECT 2 ORDER BY a"),
    ("with_offset", f"SELECT x, o FROM {U} WITH OFFSET AS o"),
    ("distinct_order_by_argument", "SELECT ARRAY_AGG(DISTINCT x ORDER BY x DESC) AS a, STRING_AGG(DISTINCT s, ',' ORDER BY s) AS b FROM UNNEST([STRUCT(1 AS x, 'a' AS s)])"),
    ("grouping_of_rollup_key", f"SELECT x, GROUPING(x) AS g, COUNT(*) AS n FROM {U} GROUP BY ROLLUP(x)"),
    ("subscripts", "SELECT a[0] AS v, a[OFFSET(0)] AS w, j['k'] AS jj, j[0] AS j0 FROM UNNEST([STRUCT([1] AS a, JSON '{\"k\": 1}' AS j)])"),
    ("literals_in_range", "SELECT DATE '2020-02-29' AS a, TIMESTAMP '2024-01-01 23:59:59.123456+05:30' AS b, DATETIME '2024-1-1 1:2:3' AS c, SAFE_CAST('2023-02-29' AS DATE) AS d, -9223372036854775808 AS e, NUMERIC '99999999999999999999999999999.999999999' AS f"),
    ("analytic_arguments_one", f"SELECT NTILE(1) OVER (ORDER BY x) AS a, NTH_VALUE(x, 1) OVER (ORDER BY x) AS b FROM {U}"),
    ("frames", f"SELECT SUM(x) OVER (ORDER BY x ROWS BETWEEN 2 PRECEDING AND 1 PRECEDING) AS a, SUM(x) OVER (ORDER BY x RANGE BETWEEN 1 PRECEDING AND 1 FOLLOWING) AS b, SUM(x) OVER (ROWS 1 PRECEDING) AS c, SUM(x) OVER (ORDER BY x, x RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS d FROM {U}"),
    ("leap_second_literals", "SELECT TIMESTAMP '2015-11-06 23:59:60' AS a, DATETIME '2015-11-06 23:59:60' AS b"),
    ("pipe_where_window", "FROM UNNEST([1, 2]) AS x |> WHERE RANK() OVER (ORDER BY x) = 1"),
    ("corresponding_branch_count", "SELECT 1 AS a, 1 AS b EXCEPT ALL (SELECT 1 AS b, 2 AS c, 1 AS a UNION ALL CORRESPONDING BY (a, b) SELECT 1 AS a, 1 AS b, 2 AS c)"),
    ("count_distinct_column", f"SELECT COUNT(DISTINCT x) AS n, COUNT(*) AS m FROM {U}"),
    ("in_unnest_coercible", "SELECT d FROM UNNEST([DATE '2020-01-01']) AS d WHERE d IN UNNEST(['2020-01-01']) AND 1 IN UNNEST([1.5, 1.0])"),
    ("bit_aggregates_of_ints", "SELECT BIT_AND(x) AS a, BIT_OR(x) AS b, BIT_XOR(x) AS c FROM UNNEST([1, 3]) AS x"),
    ("date_constructors", "SELECT DATE(2020, 1, 1) AS a, DATE('2020-01-01') AS b, DATE(TIMESTAMP '2020-01-01') AS c"),
    ("timestamp_array_by_hours", "SELECT GENERATE_TIMESTAMP_ARRAY(TIMESTAMP '2024-01-01 00:00:00+00', TIMESTAMP '2024-01-02 00:00:00+00', INTERVAL 6 HOUR) AS a"),
    ("extract_timestamp_at_time_zone", "SELECT EXTRACT(YEAR FROM t AT TIME ZONE 'Asia/Tokyo') AS y FROM UNNEST([TIMESTAMP '2020-01-01 00:00:00+00']) AS t"),
    ("string_agg_separators", "SELECT STRING_AGG(x, '; ') AS s, STRING_AGG(x) AS t FROM UNNEST(['a', 'b']) AS x"),
    ("array_is_distinct_ints", "SELECT ARRAY_IS_DISTINCT([1, 1]) AS a"),
    ("date_plus_interval", "SELECT DATE '2020-01-01' + INTERVAL 1 DAY AS a, INTERVAL 1 DAY + DATE '2020-01-01' AS b"),
    ("date_trunc_of_text", "SELECT DATE_TRUNC('2020-01-15', MONTH) AS m, DATE_DIFF(DATE '2020-02-01', DATE '2020-01-01', DAY) AS d"),
    ("date_vs_datetime", "SELECT DATE '2020-01-01' < DATETIME '2020-01-01 00:00:00' AS a, StudyDate > '2020-01-01' AS b FROM {T} LIMIT 1".replace("{T}", T)),
    ("concat_of_number", "SELECT CONCAT('a', 1) AS a, 'a' || 1 AS b"),
    ("math_of_numbers", f"SELECT ROUND(x, 1) AS a, ABS(-x) AS b, SQRT(x) AS c, POW(x, 2) AS d, SAFE_DIVIDE(x, 0) AS e, LOG(x, 2) AS f FROM {U}"),
    ("scalar_casts", "SELECT CAST(1 AS BOOL) AS a, CAST(1.5 AS INT64) AS b, CAST(DATE '2020-01-01' AS TIMESTAMP) AS c, CAST(TIMESTAMP '2020-01-01' AS TIME) AS d, CAST(1 AS NUMERIC) AS e, CAST(1 AS STRING) AS f, CAST('1' AS INT64) AS g"),
    ("text_functions_of_strings", "SELECT STRPOS('123', '1') AS a, TRIM(' a ') AS b, SPLIT('a,b') AS c, REGEXP_EXTRACT('a1', r'1') AS d, INITCAP('ab') AS e"),
    ("date_functions_of_literals", "SELECT DATE_ADD('2020-01-01', INTERVAL 1 DAY) AS a, EXTRACT(YEAR FROM DATE '2020-01-01') AS b, FORMAT_DATE('%Y', '2020-01-01') AS c"),
    ("in_subquery_same_types", f"SELECT x FROM {U} WHERE x IN (SELECT CAST(y AS INT64) FROM UNNEST([1.0]) AS y) AND x IN (SELECT 1.5)"),
    ("limit_offset", f"SELECT x FROM {U} ORDER BY x LIMIT 1 OFFSET 1"),
    ("percentile_cont_aggregate", f"SELECT PERCENTILE_CONT(x, 0.5) AS m FROM {U}"),
    ("lag_named_window", f"SELECT LAG(x) OVER w AS l FROM {U} WINDOW w AS (ORDER BY x)"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "sql", "words"), REFUSED, ids=[r[0] for r in REFUSED])
def test_refused_alone_and_by_googlesql(name, sql, words, gsql_engine):
    _, problems = check(sql, googlesql=False)
    assert problems, f"{name}: the strict layer let it through"
    first = str(problems[0])
    assert words in first, first
    assert first.startswith("<sql>:"), first
    with pytest.raises(IdcbqError):
        gsql_engine.execute(gsql_engine.prepare(sql, ()))


@pytest.mark.parametrize(("name", "sql"), ACCEPTED, ids=[a[0] for a in ACCEPTED])
def test_near_misses_pass_and_googlesql_answers(name, sql, gsql_engine):
    _, problems = check(sql, googlesql=False)
    assert problems == [], [str(p) for p in problems]
    gsql_engine.execute(gsql_engine.prepare(sql, ()))
