"""Every library template, every example, on both engines over the same data.

DuckDB runs over the sample export; BigQuery is the ``bqemulator`` loaded with the same
sample rows (``bq_engine``, tests/fixtures/bigquery.py). Results must be equal, in order
when the template orders its output, otherwise as multisets (see cross_engine_support).
A known divergence is a strict xfail naming its cause.
"""

from __future__ import annotations

import pytest

from idcbq.templates import Template, bind_params, builtin_dir, render
from tests.cross_engine_support import compare, is_ordered, rows

TEMPLATES = [Template.from_path(p, builtin=True) for p in sorted(builtin_dir().glob("*.sql"))]

#: (template, example) -> (exception type, cause). Strict: they must keep failing.
KNOWN_DIVERGENCES: dict[tuple[str, str], tuple[type[BaseException], str]] = {}


def _case(t: Template, example: str):
    known = KNOWN_DIVERGENCES.get((t.name, example))
    marks = []
    if known:
        marks.append(pytest.mark.xfail(strict=True, raises=known[0], reason=known[1]))
    return pytest.param(t, example, id=f"{t.name}[{example}]", marks=marks)


CASES = [_case(t, ex) for t in TEMPLATES for ex in t.header.examples]


@pytest.fixture(scope="module")
def duck_engine(sample_root):
    from idcbq.engines.duckdb import DuckDBEngine

    engine = DuckDBEngine.from_options(source=sample_root, idc_version="current")
    yield engine
    engine.close()


def run(engine, template: Template, example: str):
    params = bind_params(template, template.header.examples[example])
    query = render(template, params, idc_version=engine.idc_version, data_project=engine.data_project)
    prepared = engine.prepare(query.sql, query.params, template=template.name)
    return query.sql, engine.execute(prepared)


def test_examples_give_rows_on_duckdb(duck_engine):
    """Most examples must select something, else equality would prove little."""
    empty = []
    for t in TEMPLATES:
        for ex in t.header.examples:
            if run(duck_engine, t, ex)[1].num_rows == 0:
                empty.append(f"{t.name}[{ex}]")
    total = sum(len(t.header.examples) for t in TEMPLATES)
    assert len(empty) <= total // 5, f"too many empty examples: {empty}"


@pytest.mark.slow
@pytest.mark.parametrize(("template", "example"), CASES)
def test_same_result_on_both_engines(bq_engine, duck_engine, template, example):
    sql, duck = run(duck_engine, template, example)
    _, bq = run(bq_engine, template, example)
    compare(bq, duck, ordered=is_ordered(sql))
    assert rows(duck) == rows(duck)  # normalisation is deterministic
