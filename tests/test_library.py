"""The built-in template library (``sql/``): every template, every example parameter set.

For each (template, example): the header parses, the body renders, the BigQuery SQL
passes validation, transpiles with ``to_duckdb`` and runs on DuckDB, first over empty
reference-schema tables (binding check, fast) and then over the sample export, where
the result's columns must be exactly the header's ``output`` with those types.
"""

from __future__ import annotations

import pyarrow as pa
import pytest

from idcbq.sources.schema import fields_from_arrow
from idcbq.templates import bind_params, builtin_dir, render
from idcbq.transpile import to_duckdb
from idcbq.validate import validate

LIBRARY = builtin_dir()


def _templates():
    from idcbq.templates import Template

    return [Template.from_path(p, builtin=True) for p in sorted(LIBRARY.glob("*.sql"))]


TEMPLATES = _templates()
CASES = [pytest.param(t, ex, id=f"{t.name}[{ex}]") for t in TEMPLATES for ex in t.header.examples]


def test_library_size_and_names():
    assert len(TEMPLATES) >= 20
    for t in TEMPLATES:
        assert t.path.name == f"{t.name}.sql"
        assert t.header.examples, f"{t.name} has no examples"
        assert t.header.output, f"{t.name} declares no output columns"


def rendered(template, example: str, idc_version: str = "v25"):
    values = template.header.examples[example]
    params = bind_params(template, values)
    return render(template, params, idc_version=idc_version)


def _output_types(template) -> dict[str, str]:
    return dict(template.header.output)


def assert_output(template, result: pa.Table) -> None:
    declared = _output_types(template)
    assert result.column_names == list(declared), "columns differ from the header's output"
    got = {f.name: f.bigquery_type for f in fields_from_arrow(result.schema)}
    for name, bq_type in declared.items():
        if pa.types.is_null(result.schema.field(name).type):
            continue
        assert got[name] == bq_type, f"{name}: header says {bq_type}, result is {got[name]}"


@pytest.mark.parametrize(("template", "example"), CASES)
def test_example_validates_and_binds(ref_con, template, example):
    query = rendered(template, example)
    validate(query.sql, params=query.params, idc_version="v25")
    if any(t.startswith("clinical.") for t in query.tables):
        return  # clinical tables are per-collection (no reference types); the sample run covers them
    duck_sql = to_duckdb(query.sql, params=query.params)
    import duckdb

    from idcbq.engines.duckdb.statements import narrow_hugeints  # what the engine returns

    used = duckdb.extract_statements(duck_sql)[0].named_parameters
    bind = {k: v for k, v in query.param_dict.items() if k in used}
    result = narrow_hugeints(ref_con.execute(duck_sql, bind).to_arrow_table())
    assert_output(template, result)


@pytest.mark.slow
@pytest.mark.parametrize(("template", "example"), CASES)
def test_example_runs_on_sample(sample_engine, template, example):
    query = rendered(template, example)
    prepared = sample_engine.prepare(query.sql, query.params, template=template.name)
    result = sample_engine.execute(prepared)
    assert_output(template, result)
