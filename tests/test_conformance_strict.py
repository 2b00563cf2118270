"""Google's compliance cases that were silent without GoogleSQL's analyzer stay equal.

Where ``zetasql`` is missing (a Colab runtime) idcbq has no analyzer result types: the
translation alone must give GoogleSQL's types. These cases (issue 18) once answered
FLOAT64 for NUMERIC (a FLOAT64 literal beside NUMERIC operands), INT64 or DATE for STRING
(``LPAD(NULL, ...)``, ``CONCAT(date)``), DATE for DATETIME (``DATE_TRUNC(dt, WEEK)``),
``unnest`` for ``f0_``, STRUCTs with unnamed fields, STRING for BYTES (``STRING_AGG``); they
run here with the analyzer switched off, read in place.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest.importorskip("zetasql")  # the googlesql engine is the judge

ROOT = Path(__file__).resolve().parents[1]
REAL = Path(
    os.environ.get("IDCBQ_CONFORMANCE_CORPUS") or ROOT.parent / "shared" / "zetasql-compliance"
)

#: file -> cases that must be ``equal`` with the analyzer off.
STRICT_FIXED = {
    "analytic_any_value.test": ["analytic_any_value_numeric"],
    "analytic_lag.test": ["lag__numeric"],
    "analytic_min_max.test": ["analytic_min_numeric_3", "analytic_max_numeric_2"],
    "analytic_sum.test": ["analytic_sum_distinct_no_overflow_numeric_2"],
    "unnest_queries.test": ["unnest_numeric"],
    "strings.test": [
        "strings_function_lpad_nulls",
        "strings_function_rpad_nulls",
        "strings_function_repeat_nulls",
    ],
    "concat_function.test": ["concat_date", "concat_timestamp", "concat_numeric"],
    "civil_time.test": ["datetime_in_date_trunc", "timestamp_in_datetime_trunc"],
    "pipe_syntax.test": ["from_unnest", "from_subquery_value_table_scalar"],
    "in_queries.test": ["in_struct_unnest"],
    "groupby_queries.test": ["groupby_array_struct", "groupby_zeroes"],
    "aggregation_distinct_queries.test": ["aggregation_distinct_string_agg_5"],
    # strict34: a UNION of SELECT AS STRUCT was one STRUCT column; IEEE_DIVIDE untyped
    "union_distinct_queries.test": ["union_distinct_datatype_struct"],
    "select_distinct.test": ["distinct_empty", "distinct_zeros"],
}


@pytest.mark.skipif(not REAL.is_dir(), reason=f"{REAL} (the shared compliance corpus) is missing")
@pytest.mark.parametrize("name", sorted(STRICT_FIXED))
def test_strict_only_cases_are_equal(name: str, monkeypatch: pytest.MonkeyPatch):
    """Each case's verdict is ``equal`` without the analyzer (a type slip is ``silent``)."""
    from tests.conformance.runner import run_file

    monkeypatch.setenv("IDCBQ_GOOGLESQL_ANALYSIS", "0")
    want = {f"{name}:{case}" for case in STRICT_FIXED[name]}
    results = run_file(REAL / name, want)
    got = {r.id: (r.verdict, r.detail) for r in results}
    assert set(got) == want
    assert {k: v[0] for k, v in got.items()} == dict.fromkeys(want, "equal"), got
