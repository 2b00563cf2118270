"""An UNNESTed STRUCT array's fields are columns (BigQuery's value table) on DuckDB too.

The queries run on DuckDB over the small table of ``test_transpile_rewrites``; the
GoogleSQL comparison of the same class is in ``tests/probes/fresh.yaml``.
"""

from __future__ import annotations

import pytest

from idcbq.errors import TranspileError
from idcbq.transpile import to_duckdb
from tests.test_transpile_rewrites import T
from tests.test_transpile_unnest_joins import SCHEMA


def rows(small_con, sql: str) -> list[tuple]:
    return small_con.execute(to_duckdb(sql, schema=SCHEMA)).fetchall()


def test_unaliased_struct_literal_with_tuples_exposes_its_fields(small_con):
    sql = "SELECT i, v FROM UNNEST([STRUCT(1 AS i, 10 AS v), (2, NULL), (3, 30)]) ORDER BY i"
    assert rows(small_con, sql) == [(1, 10), (2, None), (3, 30)]


def test_aliased_struct_literal_field_named_without_the_alias(small_con):
    sql = (
        "SELECT id, v FROM UNNEST([STRUCT(1 AS id, [10, 20] AS vs), (2, ARRAY<INT64>[])]) AS r "
        "LEFT JOIN UNNEST(r.vs) AS v ORDER BY id, v"
    )
    assert rows(small_con, sql) == [(1, 10), (1, 20), (2, None)]


def test_unaliased_struct_column_of_the_schema(small_con):
    sql = f"SELECT id, CodeMeaning FROM {T}, UNNEST(SegmentSequence) ORDER BY id"
    assert rows(small_con, sql) == [(1, "Liver")]


def test_aliased_struct_column_field_without_qualifier(small_con):
    sql = f"SELECT d.id, CodeMeaning FROM {T} AS d, UNNEST(d.SegmentSequence) AS s ORDER BY d.id"
    assert rows(small_con, sql) == [(1, "Liver")]


def test_whole_row_named_keeps_the_struct_column(small_con):
    # ``s`` itself is used: exploding would make a NULL element a row of NULLs.
    sql = f"SELECT s.CodeMeaning AS m, s IS NULL AS n FROM {T} AS d, UNNEST(d.SegmentSequence) AS s"
    assert "max_depth" not in to_duckdb(sql, schema=SCHEMA)
    assert rows(small_con, sql) == [("Liver", False)]


def test_struct_array_of_qualified_fields_only_stays_a_join(small_con):
    sql = f"SELECT d.id, s.CodeMeaning FROM {T} AS d, UNNEST(d.SegmentSequence) AS s"
    assert "max_depth" not in to_duckdb(sql, schema=SCHEMA)
    assert rows(small_con, sql) == [(1, "Liver")]


def test_date_bucket_width_must_be_a_literal_date_part():
    with pytest.raises(TranspileError, match="DATE_BUCKET width"):
        to_duckdb("SELECT DATE_BUCKET(DATE '2024-01-01', INTERVAL 1 HOUR) AS b")
    with pytest.raises(TranspileError, match="DATE_BUCKET width"):
        to_duckdb("SELECT DATE_BUCKET(DATE '2024-01-01', INTERVAL 0 DAY) AS b")


def test_time_diff_by_day_is_refused():
    with pytest.raises(TranspileError, match="TIME_DIFF by DAY"):
        to_duckdb("SELECT TIME_DIFF(TIME '10:00:00', TIME '09:00:00', DAY) AS d")
