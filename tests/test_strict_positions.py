"""The strict layer's per-position signature check (:mod:`idcbq.validate.strict_positions`).

Each refused call is one GoogleSQL's analyzer rejects too, and each near miss one it
accepts; the fuzzer's calls (valid and mistyped) are never refused where the analyzer
accepts them (a false refusal is as bad as a silent answer).
"""

from __future__ import annotations

import pytest

from idcbq.validate import check
from idcbq.validate.googlesql import analyze_sql
from tests.fuzz.__main__ import CACHE, queries, wrong_type_queries
from tests.fuzz.signatures import load_or_discover

T = "`bigquery-public-data.idc_current.dicom_all`"

REFUSED = [
    "SELECT STRPOS('abc', b'b') AS v",  # STRING and BYTES: no one signature
    "SELECT STARTS_WITH(b'ab', 'a') AS v",
    "SELECT SAFE.ENDS_WITH('ab', b'b') AS v",
    "SELECT LPAD('a', 3, b'x') AS v",
    "SELECT CONCAT('a', b'b') AS v",
    "SELECT CONCAT(b'a', 1) AS v",
    f"SELECT STRPOS(Modality, b'M') AS v FROM {T}",
    "SELECT UNIX_SECONDS(DATE '2020-01-01') AS v",  # DATE is not TIMESTAMP
    "SELECT UNIX_MICROS(DATETIME '2020-01-01 00:00:00') AS v",
    "SELECT DIV(7, 2.0) AS v",  # FLOAT64 is not INT64 (nor NUMERIC beside an INT64)
    "SELECT TIMESTAMP_SECONDS(1.5) AS v",
    "SELECT DATE_FROM_UNIX_DATE(NUMERIC '1') AS v",
    "SELECT STRING('abc') AS v",  # a text with no date in it is no DATE
    "SELECT STRING(64) AS v",  # a call, not the type STRING(64)
]

#: Comparisons, supertypes and casts (strict_types, type_rules, strict_signatures).
REFUSED_OTHER = [
    "SELECT b'a' = 'a' AS v",
    f"SELECT SeriesInstanceUID = b'a' AS v FROM {T}",
    "SELECT 'a' IN ('a', b'b') AS v",  # the list has no supertype
    "SELECT IF(TRUE, b'a', 'a') AS v",
    "SELECT IFNULL(DATE '2024-01-01', 'x') AS v",  # 'x' is no DATE
    "SELECT DATE '2024-01-01' = 'x' AS v",
    f"SELECT 1 AS v FROM {T} WHERE StudyDate > ''",
    "SELECT TIME '10:00:00' = 'noon' AS v",
    "SELECT SAFE_CAST('1' AS ARRAY<INT64>) AS v",  # no scalar <-> ARRAY/STRUCT cast
    "SELECT CAST(1 AS STRUCT<a INT64>) AS v",
    "SELECT CAST([1] AS STRING) AS v",
    "SELECT FORMAT('%d', 1.5) AS v",  # FORMAT's pattern against its arguments
    "SELECT FORMAT('%s', 1) AS v",
    "SELECT FORMAT('%f', 1) AS v",
    "SELECT FORMAT('%*d', 3.0, 1) AS v",
    "SELECT FORMAT('%d') AS v",
    "SELECT FORMAT('%d', 1, 2) AS v",
    f"SELECT FORMAT('%d', Modality) AS v FROM {T}",
    "SELECT JSON '1'['a'] = 'a' AS v",
    f"SELECT * FROM {T} GROUP BY Modality",  # the star reads ungrouped columns
    f"SELECT d.* EXCEPT (collection_name) FROM {T} AS d GROUP BY Modality",
    f"SELECT Modality FROM {T} a JOIN {T} b ON a.SeriesInstanceUID = b.SeriesInstanceUID",
    f"SELECT COUNT(*) AS n FROM {T} a CROSS JOIN {T} b WHERE Modality = 'CT'",
    "SELECT 1 AS a UNION ALL CORRESPONDING SELECT 2 AS b",  # set operations by name
    "SELECT 1 AS a, 2 AS a UNION ALL CORRESPONDING SELECT 2 AS a",
    "SELECT 1 AS a UNION ALL CORRESPONDING BY (z) SELECT 3 AS a",
    "SELECT 1, 2 AS b UNION ALL BY NAME SELECT 3 AS b",
    "SELECT 1 AS a UNION ALL BY NAME SELECT 2 AS b",
    "SELECT 1 AS a UNION ALL BY NAME SELECT 'x' AS a",
    "SELECT 1 AS a, 2 AS b UNION ALL CORRESPONDING BY (a, a) SELECT 3 AS a",
    "SELECT 1 AS a LEFT UNION ALL CORRESPONDING BY (z) SELECT 3 AS a",
]

ACCEPTED = [
    "SELECT DIV(NUMERIC '7', 2.0) AS v",  # the FLOAT64 literal becomes NUMERIC
    "SELECT FORMAT_TIMESTAMP('%Y', DATE '2020-01-01') AS v",  # DATE coerces to DATETIME
    "SELECT DATETIME_DIFF(DATE '2020-01-02', DATE '2020-01-01', DAY) AS v",
    "SELECT DATE_ADD(TIMESTAMP '2020-01-01 00:00:00+00', INTERVAL 1 DAY) AS v",
    "SELECT CONCAT('a', 1) AS v, CONCAT(b'a', b'b') AS w",
    "SELECT STRING('2020-01-01') AS v",
    "SELECT TIMESTAMP_SECONDS(5) AS v, LEFT('abc', 1) AS w",
    f"SELECT STRPOS(Modality, 'M') AS v FROM {T}",
    "SELECT b'a' = b'a' AS v, SHA1('a') = b'x' AS w",
    "SELECT IFNULL(DATE '2024-01-01', '2024-01-02') AS v",
    f"SELECT 1 AS v FROM {T} WHERE StudyDate > '2020-01-01'",
    "SELECT CAST([1] AS ARRAY<FLOAT64>) AS v, CAST(NULL AS ARRAY<INT64>) AS w",
    "SELECT CAST(STRUCT('a' AS x) AS STRUCT<x STRING(5)>) AS v",
    "SELECT CAST('abc' AS STRING(5)) AS v, CAST(1.25 AS NUMERIC(3, 2)) AS w",
    "SELECT FORMAT('%5.2f %% %-10s|%05d|%+.3e|%#x', 1.5, 'a', 5, 1.5, 255) AS v",
    "SELECT FORMAT('%*d %.*f %t %T %p', 3, 1, 2, NUMERIC '1.5', DATE '2020-01-01', [1], JSON '1') AS v",
    f"SELECT FORMAT('%s-%d', Modality, instance_size) AS v FROM {T}",
    "SELECT FORMAT('%d', NULL) AS v, FORMAT('100%%') AS w",
    f"SELECT * FROM {T} GROUP BY ALL",
    "SELECT 1 AS a, 2 AS b UNION ALL CORRESPONDING SELECT 2 AS b, 3 AS a",
    "SELECT 1 AS a, 2 AS b UNION ALL CORRESPONDING BY (a) SELECT 3 AS a, 4 AS c",
    "SELECT 1 AS a FULL UNION ALL CORRESPONDING SELECT 2 AS b",
    "SELECT 1 AS a UNION DISTINCT CORRESPONDING SELECT 2.5 AS a",
    "SELECT 1 AS a, 3 AS b UNION ALL BY NAME SELECT 2 AS b, 3 AS a",
    # a BY list ignores the other columns: anonymous or repeated ones are allowed
    "SELECT 2 AS a, 2 AS b, 2 AS b, 1 AS c FULL UNION ALL CORRESPONDING BY (c, d) "
    "SELECT 1 AS c, 2 AS a, 2 AS a, 1 AS d",
    "SELECT 1 AS a, 1 AS b, 2 FULL UNION ALL CORRESPONDING BY (b, a) SELECT 1 AS b, 2 AS c, 2",
    f"SELECT * FROM (SELECT Modality FROM {T}) GROUP BY Modality",
    f"SELECT SeriesInstanceUID FROM {T} a JOIN {T} b USING (SeriesInstanceUID)",
    f"SELECT a.Modality FROM {T} a, {T} b GROUP BY Modality ORDER BY Modality",
    "SELECT JSON '{\"a\": [10, 20]}'['a'][1] AS v",  # the JSON's subscript, not the text's
    # a star's EXCEPT list names a column of that table alone (IDC's RMS cookbook query)
    f"SELECT a.* EXCEPT (SeriesInstanceUID), b.SeriesInstanceUID AS s FROM {T} a "
    "JOIN {T} b ON a.SOPInstanceUID = b.SOPInstanceUID".replace("{T}", T),
]


def _refusals(sql: str) -> list[str]:
    return [str(e) for e in check(sql, googlesql=False)[1]]


@pytest.mark.parametrize("sql", REFUSED)
def test_no_signature_refused_as_googlesql_does(sql):
    assert analyze_sql(sql, use_cache=False), "GoogleSQL accepts it: not a refusal case"
    problems = _refusals(sql)
    assert any("No matching signature" in p for p in problems), problems


@pytest.mark.parametrize("sql", REFUSED_OTHER)
def test_mistyped_value_refused_as_googlesql_does(sql):
    assert analyze_sql(sql, use_cache=False), "GoogleSQL accepts it: not a refusal case"
    assert _refusals(sql)


@pytest.mark.parametrize("sql", ACCEPTED)
def test_near_miss_accepted_as_googlesql_does(sql):
    assert analyze_sql(sql, use_cache=False) == []
    assert _refusals(sql) == []


@pytest.mark.slow
def test_fuzzed_calls_never_falsely_refused():
    sigs = load_or_discover(CACHE)
    items = queries(sigs, 1, 1) + queries(sigs, 2, 1, as_columns=True)
    items += wrong_type_queries(sigs, 3, 1)
    false = [
        sql
        for _, sql in items
        if any("No matching signature" in p for p in _refusals(sql))
        and not analyze_sql(sql, use_cache=False)
    ]
    assert len(items) > 1000
    assert not false, "\n".join(false[:20])
