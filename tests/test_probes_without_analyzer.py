"""Probe families again without GoogleSQL's analyzer (the strict layer alone).

A user without zetasql (a plain ``pip install idcbq``) gets only the strict layer and
the types sqlglot infers. The probe corpus runs with the analyzer
(``tests/probes/test_probes.py``); the families below hold classes that were silent or
answered only on the strict path, so here the same comparison runs with
``googlesql_analysis = False``: a silent difference of that path fails.

- ``strict34``: FLOAT64 literals among NUMERIC values, top-level and nested
  SELECT AS STRUCT, text literals that are no valid date, casts to INTERVAL.
- ``calcite34``: ``PARSE_TIMESTAMP`` is a TIMESTAMP, ``CURRENT_DATE()`` beside a
  ``current_date`` column, STRING literals as date/time arguments.
"""

from __future__ import annotations

import pytest

from idcbq.errors import IdcbqError
from tests.cross_engine_support import compare, order_keys
from tests.probes.test_probes import PROBES, T

pytest.importorskip("zetasql")  # the googlesql engine is the judge

FAMILIES = ("strict34", "calcite34")
STRICT_ONLY = [p for family, p in PROBES if family in FAMILIES]


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
    marks = [pytest.mark.slow] if "{T}" in probe["sql"] else []
    if probe.get("xfail"):
        marks.append(pytest.mark.xfail(strict=True, reason=probe["xfail"]))
    return pytest.param(probe, id=probe["name"], marks=marks)


def test_every_family_has_probes():
    for family in FAMILIES:
        assert sum(f == family for f, _ in PROBES) >= 20, family


@pytest.mark.parametrize("probe", [_param(p) for p in STRICT_ONLY])
def test_probe_without_analyzer(strict_client, gsql_engine, probe):
    sql = probe["sql"].replace("{T}", T)
    if probe.get("error"):
        with pytest.raises(IdcbqError):
            gsql_engine.execute(gsql_engine.prepare(sql, ()))
        with pytest.raises(IdcbqError):
            strict_client.sql(sql)
        return
    oracle = gsql_engine.execute(gsql_engine.prepare(sql, ()))
    duck = strict_client.sql(sql).table
    compare(oracle, duck, ordered=order_keys(sql), types=True)
