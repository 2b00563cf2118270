"""Translations that give GoogleSQL's result types and names without its analyzer (issue 18).

``to_duckdb`` without ``expression_types`` is the strict layer alone (no zetasql): the
DuckDB SQL itself must carry NUMERIC literal coercion, CONCAT's STRING, LPAD(NULL)'s
STRING, the truncations' types and the value-table column name ``f0_``.
"""

from __future__ import annotations

from decimal import Decimal

import duckdb
import pytest

from idcbq.errors import TranspileError
from idcbq.transpile import to_duckdb


def _types(sql: str) -> list[str]:
    rel = duckdb.sql(to_duckdb(sql))
    return [str(t) for t in rel.types]


def _names(sql: str) -> list[str]:
    return list(duckdb.sql(to_duckdb(sql)).columns)


def test_float_literal_beside_numeric_is_numeric():
    sql = "SELECT v FROM (SELECT CAST(NULL AS NUMERIC) AS v UNION ALL SELECT -1.230000001)"
    assert _types(sql) == ["DECIMAL(38,9)"]
    (value,) = duckdb.sql(to_duckdb(sql + " WHERE v IS NOT NULL")).fetchone()
    assert value == Decimal("-1.230000001")  # exact: no trip through DOUBLE
    assert _types("SELECT x FROM UNNEST([CAST(1 AS NUMERIC), 1.2345]) AS x") == ["DECIMAL(38,9)"]


def test_float_literal_beside_float_stays_double():
    assert _types("SELECT CAST(1 AS FLOAT64) AS v UNION ALL SELECT 0.5") == ["DOUBLE"]


def test_float_literal_beside_numeric_and_unknown_refuses_without_analyzer():
    sql = "SELECT CAST(NULL AS NUMERIC) AS v UNION ALL SELECT 0.5 UNION ALL SELECT x FROM t"
    with pytest.raises(TranspileError, match="FLOAT64 literal"):
        to_duckdb(sql, schema={"p": {"d": {"t": {"x": "INT64"}}}})


@pytest.mark.parametrize(
    ("sql", "kind"),
    [
        ("SELECT LPAD(NULL, 10, 'ab') AS a", "VARCHAR"),
        ("SELECT REPEAT(NULL, 2) AS a", "VARCHAR"),
        ("SELECT LPAD(NULL, 4, b'x') AS a", "BLOB"),
        ("SELECT CONCAT(d) AS a FROM UNNEST([DATE '2020-10-10']) AS d", "VARCHAR"),
        ("SELECT CONCAT(CAST('1.5' AS NUMERIC)) AS a", "VARCHAR"),
        ("SELECT DATE_TRUNC(DATETIME '1987-08-07 12:34:56', WEEK) AS a", "TIMESTAMP"),
        (
            "SELECT DATETIME_TRUNC(TIMESTAMP '2001-02-03 04:05:06', MONTH) AS a",
            "TIMESTAMP WITH TIME ZONE",
        ),
    ],
)
def test_result_types(sql: str, kind: str):
    assert _types(sql) == [kind]


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT DISTINCT * FROM UNNEST(ARRAY<INT64>[])",
        "FROM UNNEST([1, 2, 3])",
        "FROM (SELECT AS VALUE 1 x)",
        "SELECT AS VALUE 1 x",
    ],
)
def test_anonymous_value_column_is_f0(sql: str):
    assert _names(sql) == ["f0_"]


def test_named_struct_unnest_keeps_its_fields():
    assert _names("SELECT * FROM UNNEST([STRUCT(1 AS a)])") == ["a"]
    # a cast to STRUCT is no scalar: its UNNEST gives the fields as columns
    assert _names("SELECT * FROM UNNEST([CAST(NULL AS STRUCT<b INT64>)])") != ["f0_"]
