"""Runtime errors BigQuery raises are errors on DuckDB too (issue 18 §1).

Each query runs on DuckDB through idcbq (what a user runs) and on GoogleSQL's reference
implementation (the oracle): both must raise. Each has a neighbour that must answer
the same value on both (the guard must not fire where BigQuery answers).
"""

from __future__ import annotations

import math

import pytest

from idcbq.errors import IdcbqError

RAISES = [
    ("exp_overflow", "SELECT EXP(1000) AS x"),
    ("pow_overflow", "SELECT POW(10, 400) AS x"),
    ("power_float_overflow", "SELECT POWER(10.0, 400) AS x"),
    ("multiply_overflow", "SELECT 1e308 * 10 AS x"),
    ("add_overflow", "SELECT 1e308 + 1e308 AS x"),
    ("left_negative", "SELECT LEFT('abc', -1) AS x"),
    ("right_negative", "SELECT RIGHT('abc', -1) AS x"),
    ("lead_negative", "SELECT LEAD(x, -1) OVER (ORDER BY x) AS y FROM UNNEST([1, 2]) AS x"),
    ("lag_negative", "SELECT LAG(x, -1) OVER (ORDER BY x) AS y FROM UNNEST([1, 2]) AS x"),
    ("translate_repeated", "SELECT TRANSLATE('abc', 'aa', 'xy') AS x"),
    ("json_query_wildcard", """SELECT JSON_QUERY('{"a": [1, 2]}', '$.a[*]') AS x"""),
    ("json_value_wildcard", """SELECT JSON_VALUE('{"a": [1, 2]}', '$.a[*]') AS x"""),
]

ANSWERS = [
    ("exp_finite", "SELECT EXP(1) AS x", math.e),
    ("exp_of_inf_is_inf", "SELECT EXP(CAST('inf' AS FLOAT64)) AS x", math.inf),
    ("pow_finite", "SELECT POW(10, 2) AS x", 100.0),
    ("multiply_finite", "SELECT 1e300 * 10 AS x", 1e301),
    ("multiply_inf_input", "SELECT CAST('inf' AS FLOAT64) * 2 AS x", math.inf),
    ("left_positive", "SELECT LEFT('abc', 2) AS x", "ab"),
    ("left_null", "SELECT LEFT('abc', NULL) AS x", None),
    ("lead_positive", "SELECT LEAD(x, 1) OVER (ORDER BY x) AS y FROM UNNEST([1]) AS x", None),
    ("translate_distinct", "SELECT TRANSLATE('abc', 'ab', 'xy') AS x", "xyc"),
    ("json_index", """SELECT JSON_VALUE('{"a": [1, 2]}', '$.a[1]') AS x""", "2"),
]


@pytest.fixture(scope="module")
def duck(sample_root):
    from idcbq.api import Client
    from idcbq.engines.duckdb import DuckDBEngine

    engine = DuckDBEngine.from_options(source=sample_root, idc_version="current")
    yield Client(engine)
    engine.close()


@pytest.mark.parametrize("name,sql", RAISES, ids=[c[0] for c in RAISES])
def test_bigquery_runtime_error_is_an_error_on_duckdb(duck, gsql_engine, name, sql):
    with pytest.raises(IdcbqError):
        gsql_engine.execute(gsql_engine.prepare(sql, ()))
    with pytest.raises(IdcbqError):
        duck.sql(sql)


@pytest.mark.parametrize("name,sql,value", ANSWERS, ids=[c[0] for c in ANSWERS])
def test_the_guard_does_not_fire_where_bigquery_answers(duck, gsql_engine, name, sql, value):
    oracle = gsql_engine.execute(gsql_engine.prepare(sql, ())).column(0).to_pylist()
    got = duck.sql(sql).table.column(0).to_pylist()
    assert oracle[0] == pytest.approx(value) if isinstance(value, float) else oracle[0] == value
    assert got == oracle
