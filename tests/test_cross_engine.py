"""Every library template, every example, on DuckDB and on GoogleSQL over the same data.

DuckDB runs over the sample export through idcbq's transpiler; the oracle is the
GoogleSQL reference implementation (``gsql_engine``, tests/fixtures/googlesql.py) over
the same Parquet files. Results must have equal column names, BigQuery types and rows,
in order when the template orders its output, otherwise as multisets (see
cross_engine_support). A known divergence is a strict xfail naming its cause.
The BigQuery emulator is kept for API behaviour (jobs, dry runs, parameters, cost
guard) in the test_bigquery_* / test_cost_guard modules, not for result equality: it is
sqlglot + DuckDB underneath and shares DuckDB's mistakes.
"""

from __future__ import annotations

import pytest

from idcbq.templates import Template, bind_params, builtin_dir, render
from tests.cross_engine_support import compare, order_keys, rows

TEMPLATES = [Template.from_path(p, builtin=True) for p in sorted(builtin_dir().glob("*.sql"))]

#: (template, example) -> (exception type, cause). Strict: they must keep failing.
#: (The googlesql engine runs ANY_VALUE skipping NULLs, as BigQuery does: no entry left.)
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
    query = render(
        template, params, idc_version=engine.idc_version, data_project=engine.data_project
    )
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
def test_same_result_on_both_engines(gsql_engine, duck_engine, template, example):
    sql, duck = run(duck_engine, template, example)
    _, oracle = run(gsql_engine, template, example)
    compare(oracle, duck, ordered=order_keys(sql), types=True)
    assert rows(duck) == rows(duck)  # normalisation is deterministic


# -- our rewrites, on both engines over the sample rows ---------------------------------

T = "`bigquery-public-data.idc_current.dicom_all`"
W = "WHERE collection_id IN ('qin_lung_ct', 'qin_prostate_repeatability')"
REWRITE_QUERIES = {
    "subscripts": f"SELECT SOPInstanceUID, PixelSpacing[SAFE_OFFSET(1)] AS a, "
    f"ImageType[SAFE_ORDINAL(3)] AS b, ImageType[SAFE_OFFSET(9)] AS c, "
    f"CASE WHEN ARRAY_LENGTH(ImageType) > 0 THEN ImageType[OFFSET(0)] END AS d, "
    f"SegmentSequence[SAFE_OFFSET(0)].SegmentedPropertyTypeCodeSequence[SAFE_OFFSET(0)].CodeMeaning AS e "
    f"FROM {T} {W}",
    "column_index": f"SELECT SOPInstanceUID, ImageType[SAFE_OFFSET(ARRAY_LENGTH(ImageType) - 1)] AS last "
    f"FROM {T} {W}",
    "unnest_offset": f"SELECT SOPInstanceUID, t, pos AS position FROM {T}, "
    f"UNNEST(ImageType) AS t WITH OFFSET AS pos {W}",
    "unnest_offset_unaliased": f"SELECT SOPInstanceUID, t, pos FROM {T}, "
    f"UNNEST(ImageType) AS t WITH OFFSET AS pos {W}",
    "array_agg_limit": f"SELECT SeriesInstanceUID, ARRAY_AGG(SOPInstanceUID IGNORE NULLS "
    f"ORDER BY SOPInstanceUID DESC LIMIT 2) AS last_two FROM {T} {W} GROUP BY SeriesInstanceUID",
    "string_agg_distinct": f"SELECT PatientID, STRING_AGG(DISTINCT Modality, ',' ORDER BY Modality) AS m "
    f"FROM {T} {W} GROUP BY PatientID",
    "regexp": f"SELECT SOPInstanceUID, REGEXP_EXTRACT(SOPInstanceUID, r'\\.(\\d+)$') AS tail, "
    f"REGEXP_CONTAINS(SeriesDescription, r'(?i)ax') AS ax FROM {T} {W}",
    "safe_cast": f"SELECT SOPInstanceUID, SAFE_CAST(InstanceNumber AS INT64) AS n, "
    f"SAFE_CAST(SliceThickness AS FLOAT64) AS st, 2.5 * 2 AS f FROM {T} {W}",
    "format": f"SELECT SOPInstanceUID, FORMAT('%s/%d', Modality, instance_size) AS s FROM {T} {W}",
    # UNNEST joins that DuckDB runs as select-list UNNESTs (idcbq/transpile/unnest_joins.py)
    "unnest_chain": f"SELECT d.SOPInstanceUID, seg.SegmentNumber, code.CodeMeaning FROM {T} AS d "
    "CROSS JOIN UNNEST(d.SegmentSequence) AS seg "
    f"CROSS JOIN UNNEST(seg.SegmentedPropertyTypeCodeSequence) AS code {W} AND d.Modality = 'SEG'",
    "unnest_grouped": f"SELECT t AS image_type, COUNT(*) AS n FROM {T}, UNNEST(ImageType) AS t {W} "
    "GROUP BY t",
}
REWRITE_DIVERGENCES: dict[str, tuple[type[BaseException], str]] = {}


@pytest.mark.slow
@pytest.mark.parametrize(
    "name",
    [
        pytest.param(
            n,
            marks=[pytest.mark.xfail(strict=True, raises=d[0], reason=d[1])]
            if (d := REWRITE_DIVERGENCES.get(n))
            else [],
        )
        for n in REWRITE_QUERIES
    ],
)
def test_rewrites_same_on_both_engines(gsql_engine, duck_engine, name):
    sql = REWRITE_QUERIES[name]
    results = [e.execute(e.prepare(sql, ())) for e in (gsql_engine, duck_engine)]
    assert results[1].num_rows > 0
    compare(results[0], results[1], ordered=order_keys(sql), types=True)
