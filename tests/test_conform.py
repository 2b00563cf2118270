"""GoogleSQL's output types conform DuckDB's result exactly (issue 18 §3)."""

from __future__ import annotations

import datetime as dt
import decimal

import pyarrow as pa
import pytest

from idcbq.engines.conform import VALUE_TABLE, conform, remember_types, types_for
from idcbq.errors import QueryError
from idcbq.params import BoundParameter


def test_exact_values_convert_to_googlesql_types():
    midnight = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    table = pa.table(
        {
            "d": pa.array([midnight, None]),
            "n": [0.1, 2.0],
            "i": [2.0, -3.0],
            "f": pa.array([decimal.Decimal("0.123456789"), None]),
            "a": [[1, 2], None],
            "s": pa.array([{"x": 1.0}, None]),
            "nan": [float("nan"), 1.0],
        }
    )
    out = conform(
        table,
        [
            ("d", "DATE"),
            ("n", "NUMERIC"),
            ("i", "INT64"),
            ("f", "DOUBLE"),
            ("a", ("ARRAY", "DOUBLE")),
            ("s", ("STRUCT", (("y", "INT64"),))),
            ("nan", "DOUBLE"),
        ],
    )
    assert out.column_names == table.column_names
    assert out.schema.field("d").type == pa.date32()
    assert out.schema.field("n").type == pa.decimal128(38, 9)
    assert out.schema.field("s").type == pa.struct([("y", pa.int64())])
    row = out.to_pylist()[0]
    assert row["d"] == dt.date(2020, 1, 1)
    assert row["n"] == decimal.Decimal("0.1")
    assert row["i"] == 2 and row["f"] == 0.123456789 and row["a"] == [1.0, 2.0]
    assert row["s"] == {"y": 1}
    assert out.to_pylist()[1]["s"] is None and out.to_pylist()[1]["a"] is None


@pytest.mark.parametrize(
    ("column", "spec", "message"),
    [
        (pa.array([dt.datetime(2020, 1, 1, 3, tzinfo=dt.UTC)]), "DATE", "GoogleSQL DATE"),
        (pa.array([2.5]), "INT64", "value 2.5"),
        (pa.array([0.30000000000000004]), "NUMERIC", "GoogleSQL NUMERIC"),
        (pa.array([float("nan")]), "NUMERIC", "GoogleSQL NUMERIC"),
        (pa.array([2**60 + 1]), "DOUBLE", "GoogleSQL FLOAT64"),
        (pa.array(["2020-01-01"]), "DATE", "string values"),
        (pa.array([True]), "INT64", "bool values"),
        (pa.array([{"a": 1}]), ("STRUCT", (("a", "INT64"), ("b", "INT64"))), "STRUCT<a INT64"),
    ],
)
def test_inexact_values_are_errors(column, spec, message):
    with pytest.raises(QueryError, match=message):
        conform(pa.table({"c": column}), [("c", spec)])


def test_column_count_differs_is_an_error():
    with pytest.raises(QueryError, match="2 columns"):
        conform(pa.table({"a": [1], "b": [2]}), [("a", "INT64")])


def test_anonymous_columns_take_bigquery_names():
    table = pa.table({"unnest": [1], "b": [2], "c": [3]})
    got = conform(table, [("$unnest1", "INT64"), ("b", "INT64"), ("$col3", "INT64")])
    assert got.column_names == ["f0_", "b", "f1_"]


def test_struct_value_table_is_its_fields():
    rows = pa.array([{"x": 1, "f0_": 2}, None], pa.struct([("x", pa.int32()), ("f0_", pa.int32())]))
    spec = ("STRUCT", (("x", "INT64"), ("", "INT64")))
    got = conform(pa.table({"v": rows}), [(VALUE_TABLE, spec)])
    assert got.column_names == ["x", "f0_"]
    assert got.schema.types == [pa.int64(), pa.int64()]
    assert got.to_pylist() == [{"x": 1, "f0_": 2}, {"x": None, "f0_": None}]


def test_struct_value_table_already_as_columns():
    spec = ("STRUCT", (("x", "INT64"), ("y", "STRING")))
    got = conform(pa.table({"x": [1], "y": ["a"]}), [(VALUE_TABLE, spec)])
    assert got.column_names == ["x", "y"]


def test_scalar_value_table_is_one_anonymous_column():
    got = conform(pa.table({"x": pa.array([1], pa.int32())}), [(VALUE_TABLE, "INT64")])
    assert got.column_names == ["f0_"]
    assert got.schema.types == [pa.int64()]


def test_value_table_of_another_shape_is_an_error():
    spec = ("STRUCT", (("x", "INT64"), ("y", "INT64")))
    with pytest.raises(QueryError, match="value table"):
        conform(pa.table({"a": [1], "b": [2], "c": [3]}), [(VALUE_TABLE, spec)])


def test_interval_is_loud():
    with pytest.raises(QueryError, match="INTERVAL"):
        conform(pa.table({"a": ["x"]}), [("a", "INTERVAL")])


def test_remember_types_is_keyed_by_sql_and_parameter_types():
    sql = "SELECT @x AS x  -- test_conform"
    p_int = BoundParameter.of("x", "INT64", 1)
    p_str = BoundParameter.of("x", "STRING", "a")
    remember_types(sql, [("x", "INT64")], [p_int])
    assert types_for(sql, [p_int]) == (("x", "INT64"),)
    assert types_for(sql, [p_str]) is None
    remember_types(sql, None, [p_int])
    assert types_for(sql, [p_int]) is None


def test_duckdb_results_take_the_analyzed_types(sample_root, gsql_engine):
    from idcbq.api import Client
    from idcbq.engines.duckdb import DuckDBEngine

    # GoogleSQL: a FLOAT64 literal beside a NUMERIC is NUMERIC; DuckDB computes a DOUBLE
    sql = "SELECT COALESCE(x, 1.5) AS a, x AS b FROM UNNEST([NUMERIC '1', NUMERIC '2.25']) AS x"
    engine = DuckDBEngine.from_options(source=sample_root, idc_version="current")
    try:
        plain = Client(engine).sql(sql).table  # no analysis: DuckDB's own types
        client = Client(engine)
        client.googlesql_analysis = True
        typed = client.sql(sql).table
    finally:
        engine.close()
    assert types_for(sql) == (("a", "NUMERIC"), ("b", "NUMERIC"))
    # without the analysis numeric_supertypes writes the literal NUMERIC (it was a DOUBLE)
    assert plain.schema.field("a").type == pa.decimal128(38, 9)
    assert typed.schema.field("a").type == pa.decimal128(38, 9)
    oracle = gsql_engine.execute(gsql_engine.prepare(sql, ()))
    assert sorted(typed.to_pylist(), key=str) == sorted(oracle.to_pylist(), key=str)


def test_json_columns_take_googlesql_text():
    # DuckDB keeps a document's text as written; GoogleSQL sorts keys, keeps the first of
    # duplicates and normalizes numbers (1.50 -> 1.5, 1e2 -> 100.0, 1e15 -> 1e+15).
    table = pa.table(
        {
            "j": ['{"b": 1.50, "a": [1e2, "é"], "b": 0}', None],
            "a": pa.array([['{"z": 1e15, "y": 12345678901234567890}'], None]),
        }
    )
    out = conform(table, [("j", "JSON"), ("a", ("ARRAY", "JSON"))])
    assert out.column("j").to_pylist() == ['{"a":[100.0,"é"],"b":1.5}', None]
    assert out.column("a").to_pylist() == [['{"y":12345678901234567890,"z":1e+15}'], None]


def test_json_column_that_is_not_json_is_an_error():
    with pytest.raises(QueryError, match="text that is not JSON"):
        conform(pa.table({"j": ["{bad"]}), [("j", "JSON")])


def test_columns_that_come_in_another_order_take_googlesqls_order():
    # by position, `k` would be read as the INT64 and `v` as the STRING (or, with equal
    # types, swapped silently)
    table = pa.table({"k": ["a"], "v": [1], "w": [2]})
    out = conform(table, [("v", "INT64"), ("w", "INT64"), ("K", "STRING")])
    assert out.column_names == ["v", "w", "k"]
    assert out.to_pylist() == [{"v": 1, "w": 2, "k": "a"}]
