"""BigQuery's functions called with edge values, idcbq on DuckDB against GoogleSQL.

The queries come from :mod:`tests.fuzz` with a fixed seed: every function of
``tests/fuzz/signatures.json`` (GoogleSQL's analyzer's own signature lists), each
signature called twice with literals and twice with a row's fields (values DuckDB cannot
fold as constants) drawn from :mod:`tests.fuzz.values`. A function's
test fails on a silent difference, on an answer where GoogleSQL raises, or on an error
that is not idcbq's; a loud refusal passes (it is counted by ``python -m tests.fuzz``).

``GENERATE_*`` are left out here: their edge values ask for arrays of 10^8 elements,
a resource limit rather than a semantic question (the command-line run keeps them,
with a timeout).
"""

from __future__ import annotations

import collections

import pytest

from tests.cross_engine_support import disagreement
from tests.fuzz.__main__ import CACHE, queries
from tests.fuzz.signatures import load_or_discover

SEED = 30
SIGNATURES = {
    name: sigs for name, sigs in load_or_discover(CACHE).items() if not name.startswith("generate_")
}
BY_FUNCTION: dict[str, list[str]] = collections.defaultdict(list)
for _function, _sql in [
    *queries(SIGNATURES, SEED, per_signature=2),
    *queries(SIGNATURES, SEED + 1, per_signature=2, as_columns=True),  # not constants
]:
    BY_FUNCTION[_function].append(_sql)

#: Known gaps: function -> cause (run as strict xfails).
KNOWN: dict[str, str] = {}


def _param(name: str):
    marks = [pytest.mark.xfail(strict=True, reason=KNOWN[name])] if name in KNOWN else []
    return pytest.param(name, id=name, marks=marks)


def test_signatures_cover_the_everyday_functions():
    for name in ("substr", "regexp_extract", "round", "safe_divide", "json_value", "format_date"):
        assert name in SIGNATURES, name
    assert sum(len(v) for v in BY_FUNCTION.values()) >= 800


@pytest.mark.parametrize("function", [_param(n) for n in sorted(BY_FUNCTION)])
def test_function_same_on_duckdb_and_googlesql(analyzed_duck, gsql_engine, function):
    found = (disagreement(gsql_engine, analyzed_duck, sql, []) for sql in BY_FUNCTION[function])
    problems = [p for p in found if p is not None]
    assert not problems, "\n\n".join(problems)
