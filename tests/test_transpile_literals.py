"""INT64 constants DuckDB would store as INTEGER are cast to BIGINT (transpile/literals.py).

``int_constants`` finds its candidates in one walk of the tree; the replacements must still
happen in the order of one search per node kind (literals first), or a constant nested in
the CASE condition of another constant loses its cast (the outer one is replaced by a cast
of its copy, taking the inner node out of the tree before it is replaced).
"""

from __future__ import annotations

import sqlglot

from idcbq.transpile.literals import int_constants


def _duck(sql: str) -> str:
    return int_constants(sqlglot.parse_one(sql, read="bigquery")).sql("duckdb")


def test_stored_constants_cast_to_bigint():
    out = _duck("SELECT STRUCT(50000 + 50000 AS a, -(3) AS b) AS s, [100000] AS arr")
    assert out == (
        "SELECT {'a': CAST(50000 + 50000 AS BIGINT), 'b': CAST(-(3) AS BIGINT)} AS s, "
        "[CAST(100000 AS BIGINT)] AS arr"
    )


def test_constant_in_a_case_condition_keeps_its_cast():
    out = _duck("SELECT CASE WHEN EXISTS(SELECT [5] AS a) THEN 1 ELSE 2 END AS x")
    assert "[CAST(5 AS BIGINT)]" in out
    assert out.startswith("SELECT CAST(CASE WHEN") and out.endswith("AS BIGINT) AS x")


def test_nested_constants_in_arithmetic_and_arrays():
    out = _duck(
        "SELECT 1 + CASE WHEN (SELECT ARRAY_LENGTH([7, 8])) > 0 THEN 3 ELSE 4 END AS y, "
        "[CASE WHEN EXISTS(SELECT 9 AS z) THEN 1 END] AS w"
    )
    assert "[CAST(7 AS BIGINT), CAST(8 AS BIGINT)]" in out
    assert "SELECT CAST(9 AS BIGINT) AS z" in out
    assert out.startswith("SELECT CAST(1 + CASE")
