"""BIGNUMERIC in an export (Parquet DECIMAL(76, 38)): typed BIGNUMERIC, refused on DuckDB.

DuckDB reads such a column as DOUBLE; computing with it would round every value.
"""

from __future__ import annotations

import decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from idcbq.errors import IdcbqError
from tests.tiny_export import write_tiny_export

WIDE = pa.decimal256(76, 38)


@pytest.fixture
def client(tmp_path: Path):
    from idcbq.api import Client
    from idcbq.engines.duckdb import DuckDBEngine

    write_tiny_export(tmp_path)
    folder = tmp_path / "bigquery_export" / "idc_current" / "wide"
    folder.mkdir(parents=True)
    big = decimal.Decimal("1.12345678901234567890123456789012345678")
    table = pa.table(
        {
            "id": pa.array([1, 2]),
            "v": pa.array([big, None], WIDE),
            "s": pa.array(
                [{"w": big, "f": 1.5}, None], pa.struct([("w", WIDE), ("f", pa.float64())])
            ),
            "l": pa.array([[big], []], pa.list_(WIDE)),
            "f": pa.array([0.5, 1.5]),
        }
    )
    pq.write_table(table, folder / "0.parquet")
    engine = DuckDBEngine.from_options(source=tmp_path, idc_version="current", check_schema=False)
    engine.bare_tables = ("wide", "dicom_all")
    c = Client(engine)
    c.googlesql_analysis = True  # GoogleSQL's output types are checked (issue 18 §3)
    yield c
    c.close()


def test_schema_says_bignumeric(client):
    fields = {f.name: f for f in client.engine.table_fields("idc_current", "wide")}
    assert fields["v"].bigquery_type == "BIGNUMERIC"
    assert fields["s"].bigquery_type == "STRUCT<w BIGNUMERIC, f FLOAT64>"
    assert fields["l"].bigquery_type == "ARRAY<BIGNUMERIC>"
    assert fields["f"].bigquery_type == "FLOAT64"


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT v FROM wide",
        "SELECT * FROM wide",
        "SELECT CAST(v AS STRING) FROM wide",
        "SELECT id FROM wide WHERE v > 1",
        "SELECT AVG(v) FROM wide",
        "SELECT s.w FROM wide",
        "SELECT COUNT(DISTINCT v) FROM wide",
    ],
)
def test_bignumeric_values_are_refused(client, sql):
    with pytest.raises(IdcbqError, match="BIGNUMERIC"):
        client.sql(sql)


def test_reading_no_bignumeric_value_runs(client):
    got = client.sql("SELECT id, f, COUNT(v) OVER () AS n FROM wide ORDER BY id").table
    assert got.to_pylist() == [{"id": 1, "f": 0.5, "n": 1}, {"id": 2, "f": 1.5, "n": 1}]
