"""Composed expressions in query shapes, idcbq on DuckDB against GoogleSQL.

The queries come from :mod:`tests.fuzz.compose` with a fixed seed: two or three calls
nested by GoogleSQL's own result types (``tests/fuzz/returns.json``), placed in SELECT,
WHERE, GROUP BY, HAVING, ORDER BY with LIMIT, a window, DISTINCT, UNION, a subquery, a
JOIN, an UNNEST and mixed-type CASE/COALESCE/IF branches over typed STRUCT rows. A
shape's test fails on a silent difference (names, types or values), on an answer where
GoogleSQL raises, or on an error that is not idcbq's; a loud refusal passes (the
command-line run ``python -m tests.fuzz --compose N`` counts those).
"""

from __future__ import annotations

import collections

import pytest

from idcbq.errors import IdcbqError
from tests.cross_engine_support import compare
from tests.fuzz import compose
from tests.fuzz.__main__ import CACHE, _order_keys
from tests.fuzz.signatures import load_or_discover

SEED = 33
COUNT = 120
BY_SHAPE: dict[str, list[str]] = collections.defaultdict(list)
for _shape, _sql in compose.queries(compose.load_returns(load_or_discover(CACHE)), SEED, COUNT):
    BY_SHAPE[_shape].append(_sql)


def test_every_shape_is_generated():
    assert set(BY_SHAPE) == set(compose.SHAPES)
    nested = [s for q in BY_SHAPE.values() for s in q if s.count("(") - s.count("CAST(") > 25]
    assert nested, "no query nests calls"


@pytest.mark.parametrize("shape", sorted(compose.SHAPES))
def test_shape_same_on_duckdb_and_googlesql(analyzed_duck, gsql_engine, shape):
    problems = []
    for sql in BY_SHAPE[shape]:
        try:
            oracle = gsql_engine.execute(gsql_engine.prepare(sql, ()))
        except IdcbqError:
            oracle = None
        try:
            duck = analyzed_duck.sql(sql).table
        except IdcbqError:
            continue  # loud (or both raise): never a wrong answer
        if oracle is None:
            problems.append(f"GoogleSQL raises, idcbq answers: {sql}")
            continue
        try:
            compare(oracle, duck, ordered=_order_keys(sql), types=True)
        except AssertionError as exc:
            problems.append(f"{sql}\n{exc}")
    assert not problems, "\n\n".join(problems)
