"""The strict layer's family check of call arguments (:mod:`idcbq.validate.strict_families`).

Each refused call is one GoogleSQL's analyzer rejects too, and each near miss one it
accepts: the strict layer (no analyzer) must agree with it on both.
"""

from __future__ import annotations

import pytest

from idcbq.validate import check
from idcbq.validate.googlesql import analyze_sql

T = "`bigquery-public-data.idc_current.dicom_all`"

REFUSED = [
    "SELECT SHA1(1.5) AS h",
    "SELECT STRING(TRUE) AS s",
    "SELECT JSON_VALUE(b'a') AS v",
    "SELECT SAFE.SHA1(DATE '2020-01-01') AS v",
    "SELECT REVERSE(JSON '\"x\"') AS v",
    "SELECT SAFE_SUBTRACT('a', 3.0) AS v",
    f"SELECT SHA256(instance_size) AS h FROM {T}",
    f"SELECT Modality FROM {T} WHERE STARTS_WITH(instance_size, '1')",
    "SELECT ASCII(JSON '[1]') AS v",
]

ACCEPTED = [
    "SELECT SHA1('abc') AS h, SHA1(b'abc') AS g",
    "SELECT CONCAT('a', 1, TRUE, DATE '2020-01-01') AS v",  # BigQuery's mixed-type CONCAT
    "SELECT FORMAT_DATE('%Y', '2020-01-01') AS v",  # a STRING literal coerces to DATE
    "SELECT SUBSTR('abc', 2) AS v, SUBSTR(b'abc', 2, 1) AS w",
    "SELECT CAST('abcde' AS STRING(5)) AS v, CAST(1.25 AS NUMERIC(3, 2)) AS w",
    f"SELECT SHA256(SeriesInstanceUID) AS h FROM {T}",
    "SELECT REGEXP_EXTRACT_ALL('abc', 'b') AS v",
    "SELECT STRING(TIMESTAMP '2020-01-01 00:00:00+00', 'UTC') AS v",
    "SELECT JSON_VALUE(JSON '{\"a\": 1}', '$.a') AS v",
]


def _refusals(sql: str) -> list[str]:
    result = check(sql, googlesql=False)
    return [str(e) for e in result[1]] if len(result) > 1 else []


@pytest.mark.parametrize("sql", REFUSED)
def test_mistyped_argument_refused_as_googlesql_does(sql):
    assert analyze_sql(sql, use_cache=False), "GoogleSQL accepts it: not a refusal case"
    problems = _refusals(sql)
    assert any("No matching signature" in p for p in problems), problems


@pytest.mark.parametrize("sql", ACCEPTED)
def test_near_miss_accepted_as_googlesql_does(sql):
    assert analyze_sql(sql, use_cache=False) == []
    assert _refusals(sql) == []
