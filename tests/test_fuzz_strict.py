"""Mistyped calls of BigQuery's functions, without GoogleSQL's analyzer (the strict layer).

The calls come from :func:`tests.fuzz.__main__.wrong_type_queries` with a fixed seed:
every signature of ``tests/fuzz/signatures.json`` with one argument of another type.
GoogleSQL's analyzer says which of them BigQuery rejects; for each of those, idcbq
without the analyzer (``googlesql_analysis = False``, as where zetasql is not installed)
must refuse it or fail on DuckDB, never answer. Known gaps are strict xfails naming the
check the strict layer lacks.
"""

from __future__ import annotations

import collections

import pytest

from idcbq.errors import IdcbqError
from idcbq.validate.googlesql import analyze_sql
from tests.fuzz.__main__ import CACHE, wrong_type_queries
from tests.fuzz.signatures import load_or_discover

SEED = 30
BY_FUNCTION: dict[str, list[str]] = collections.defaultdict(list)
for _function, _sql in wrong_type_queries(load_or_discover(CACHE), SEED, per_signature=1):
    BY_FUNCTION[_function].append(_sql)

#: function -> the check the strict layer lacks (run as strict xfails).
KNOWN: dict[str, str] = {}


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


def _param(name: str):
    marks = [pytest.mark.xfail(strict=True, reason=KNOWN[name])] if name in KNOWN else []
    return pytest.param(name, id=name, marks=marks)


def test_corpus_has_mistyped_calls():
    assert sum(len(v) for v in BY_FUNCTION.values()) >= 150


@pytest.mark.parametrize("function", [_param(n) for n in sorted(BY_FUNCTION)])
def test_mistyped_call_never_answered(strict_client, function):
    answered = []
    for sql in BY_FUNCTION[function]:
        if not analyze_sql(sql, use_cache=False):
            continue  # GoogleSQL accepts this one (a coercion): not a mistyped call
        try:
            strict_client.sql(sql)
        except IdcbqError:
            continue
        answered.append(sql)
    assert not answered, "\n".join(answered)
