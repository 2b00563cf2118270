"""Time zones given as values, and ``%Z``/``%z`` in FORMAT_TIMESTAMP, on DuckDB.

GoogleSQL's answers for the same class are compared in ``tests/probes/fresh.yaml``
(``ts_zone_column``, ``ts_format_zone_elements``); these check the translation's choices.
"""

from __future__ import annotations

import duckdb
import pytest

from idcbq.errors import TranspileError
from idcbq.transpile import to_duckdb

ZONES = "UNNEST(['Asia/Kolkata', 'UTC']) AS z"


@pytest.fixture(scope="module")
def con():
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")  # as the DuckDB engine's connection
    yield con
    con.close()


def test_timestamp_of_a_wall_clock_in_a_zone_column(con):
    sql = f"SELECT UNIX_SECONDS(TIMESTAMP(DATETIME '2024-07-01 12:00:00', z)) AS s FROM {ZONES} ORDER BY z"
    assert con.execute(to_duckdb(sql)).fetchall() == [(1719815400,), (1719835200,)]


def test_datetime_of_a_timestamp_in_a_zone_column(con):
    sql = f"SELECT CAST(DATETIME(TIMESTAMP '2024-07-01 12:00:00+00', z) AS STRING) AS d FROM {ZONES} ORDER BY z"
    assert con.execute(to_duckdb(sql)).fetchall() == [
        ("2024-07-01 17:30:00",),
        ("2024-07-01 12:00:00",),
    ]


def test_datetime_whose_second_argument_has_no_known_type_is_refused():
    # refused by the first typed rewrite that asks the type of ``x.b`` (per node)
    with pytest.raises(TranspileError, match=r"x\.b.*not known here"):
        to_duckdb("SELECT DATETIME(x.a, x.b) AS d FROM (SELECT * FROM some_table) AS x")


def test_format_zone_elements_and_escaped_percent(con):
    sql = f"SELECT FORMAT_TIMESTAMP('%Z|%z|%%Z', TIMESTAMP '2024-07-01 12:00:00+00', z) AS f FROM {ZONES} ORDER BY z"
    assert con.execute(to_duckdb(sql)).fetchall() == [("UTC+0530|+0530|%Z",), ("UTC|+0000|%Z",)]
