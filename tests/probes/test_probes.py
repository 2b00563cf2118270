"""The probe corpus: small BigQuery queries run on DuckDB (idcbq's pipeline) and on GoogleSQL.

Each ``tests/probes/<family>.yaml`` holds a list of probes::

    - name: float_to_string_integral
      sql: SELECT CAST(512.0 AS STRING) AS a      # {T} is the sample's dicom_all
      error: true        # optional: BigQuery raises; both engines must raise
      xfail: <cause>     # optional: a known gap, loud on DuckDB (strict xfail)

The DuckDB side is what a user runs: validation against the export's schema, the
transpiler, the DuckDB engine. The GoogleSQL side (``gsql_engine``, ZetaSQL's reference
implementation) is the oracle. Results must have equal column names, BigQuery types and
rows (the ORDER BY output columns in order; ties are not an order). An error probe passes when GoogleSQL
raises and DuckDB raises an idcbq error (never an answer).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from idcbq.errors import IdcbqError
from tests.cross_engine_support import compare, order_keys

HERE = Path(__file__).parent
T = "`bigquery-public-data.idc_current.dicom_all`"


def load() -> list[tuple[str, dict]]:
    """``(family, probe)`` for every probe, in file order."""
    out = []
    for path in sorted(HERE.glob("*.yaml")):
        for probe in yaml.safe_load(path.read_text()):
            out.append((path.stem, probe))
    return out


PROBES = load()


def _param(family: str, probe: dict):
    marks = []
    if "{T}" in probe["sql"]:
        marks.append(pytest.mark.slow)  # reads the sample table (GoogleSQL loads columns)
    if probe.get("xfail"):
        marks.append(pytest.mark.xfail(strict=True, reason=probe["xfail"]))
    return pytest.param(probe, id=f"{family}/{probe['name']}", marks=marks)


@pytest.fixture(scope="module")
def duck_client(analyzed_duck):
    return analyzed_duck


def test_corpus_size_and_names():
    names = [f"{family}/{p['name']}" for family, p in PROBES]
    assert len(names) >= 150
    assert len(set(names)) == len(names)
    for _, probe in PROBES:
        assert set(probe) <= {"name", "sql", "error", "xfail", "user_routine"}, probe["name"]


@pytest.mark.parametrize("probe", [_param(f, p) for f, p in PROBES])
def test_probe_same_on_duckdb_and_googlesql(duck_client, gsql_engine, probe):
    sql = probe["sql"].replace("{T}", T)
    if probe.get("error"):
        with pytest.raises(IdcbqError):
            gsql_engine.execute(gsql_engine.prepare(sql, ()))
        with pytest.raises(IdcbqError):
            duck_client.sql(sql)
        return
    oracle = gsql_engine.execute(gsql_engine.prepare(sql, ()))
    duck = duck_client.sql(sql).table
    compare(oracle, duck, ordered=order_keys(sql), types=True)
