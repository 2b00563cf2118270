"""The probes of ``tests/probes/calcite34.yaml`` without GoogleSQL's analyzer.

Two of the classes found on Calcite's big-query.iq were silent only where zetasql is
missing (the strict layer alone): the translation itself must give GoogleSQL's types
(``PARSE_TIMESTAMP`` a TIMESTAMP, ``CURRENT_DATE()`` beside a ``current_date`` column a
DATE). The probe harness runs with the analyzer; this runs the same probes without it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from idcbq.errors import IdcbqError
from tests.cross_engine_support import compare, order_keys

pytest.importorskip("zetasql")  # the googlesql engine is the judge

PROBES = yaml.safe_load((Path(__file__).parent / "probes" / "calcite34.yaml").read_text())


@pytest.fixture(scope="module")
def strict_client(sample_root):
    from idcbq.api import Client
    from idcbq.engines.duckdb import DuckDBEngine

    engine = DuckDBEngine.from_options(source=sample_root, idc_version="current")
    client = Client(engine)
    client.googlesql_analysis = False
    client.explain_empty = False
    yield client
    engine.close()


def _param(probe: dict):
    marks = [pytest.mark.xfail(strict=True, reason=probe["xfail"])] if probe.get("xfail") else []
    return pytest.param(probe, id=probe["name"], marks=marks)


@pytest.mark.parametrize("probe", [_param(p) for p in PROBES])
def test_probe_same_without_analyzer(strict_client, gsql_engine, probe):
    sql = probe["sql"]
    if probe.get("error"):
        with pytest.raises(IdcbqError):
            gsql_engine.execute(gsql_engine.prepare(sql, ()))
        with pytest.raises(IdcbqError):
            strict_client.sql(sql)
        return
    oracle = gsql_engine.execute(gsql_engine.prepare(sql, ()))
    answer = strict_client.sql(sql).table
    compare(oracle, answer, ordered=order_keys(sql), types=True)
