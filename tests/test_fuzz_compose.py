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
import re

import pytest

from tests.cross_engine_support import disagreement
from tests.fuzz import compose
from tests.fuzz.__main__ import CACHE, _order_keys
from tests.fuzz.signatures import load_or_discover

#: A call as an argument of a call (``CAST`` of a literal does not count).
NESTED_CALL = re.compile(r"\b[A-Z][A-Z0-9_]*\((?:[^()]|\([^()]*\))*?\b[A-Z][A-Z0-9_]*\(")
SEED = 33
COUNT = 200
BY_SHAPE: dict[str, list[str]] = collections.defaultdict(list)
for _shape, _sql in compose.queries(compose.load_returns(load_or_discover(CACHE)), SEED, COUNT):
    BY_SHAPE[_shape].append(_sql)


def test_every_shape_is_generated():
    assert set(BY_SHAPE) == set(compose.SHAPES)
    composer = compose.Composer(compose.load_returns(load_or_discover(CACHE)), SEED)
    calls = [composer.expr("STRING", 3) for _ in range(40)]
    nested = [e for e in calls if NESTED_CALL.search(e.replace("CAST(", "CAST_("))]
    assert len(nested) >= 10, calls


@pytest.mark.parametrize("shape", sorted(compose.SHAPES))
def test_shape_same_on_duckdb_and_googlesql(analyzed_duck, gsql_engine, shape):
    found = (
        disagreement(gsql_engine, analyzed_duck, sql, _order_keys(sql)) for sql in BY_SHAPE[shape]
    )
    problems = [p for p in found if p is not None]
    assert not problems, "\n\n".join(problems)
