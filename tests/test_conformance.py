"""The conformance runner (tests/conformance) classifies cases correctly.

A corpus built here holds one case of each verdict (the expected results are written
to force the verdict: e.g. the silent one expects ``3`` from ``1 + 1``); the real
corpus (``../shared/zetasql-compliance``, read in place) runs a few cases end to end.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("zetasql")

ROOT = Path(__file__).resolve().parents[1]
#: The shared corpus beside the checkout (CI), or where IDCBQ_CONFORMANCE_CORPUS points.
REAL = Path(
    os.environ.get("IDCBQ_CONFORMANCE_CORPUS") or ROOT.parent / "shared" / "zetasql-compliance"
)

CORPUS = """\
[prepare_database]
CREATE TABLE Numbers AS
SELECT 1 AS id, 'a' AS s UNION ALL SELECT 2, 'b'
--
ARRAY<STRUCT<id INT64, s STRING>>[{1, "a"}, {2, "b"}]
==
[name=equal_rows]
SELECT id, s FROM Numbers ORDER BY id
--
ARRAY<STRUCT<id INT64, s STRING>>[known order:{1, "a"}, {2, "b"}]
==
[name=equal_anonymous]
SELECT COALESCE(1, NULL), 2.5
--
ARRAY<STRUCT<INT64, DOUBLE>>[{1, 2.5}]
==
[name=silent_value]
SELECT 1 + 1 AS x
--
ARRAY<STRUCT<x INT64>>[{3}]
==
[name=silent_name]
SELECT 1 AS y
--
ARRAY<STRUCT<x INT64>>[{1}]
==
[name=loud_table]
SELECT * FROM NoSuchTable
--
ARRAY<STRUCT<x INT64>>[{1}]
==
[name=invalid_accepted_answer]
SELECT 1 AS x
--
ERROR: generic::invalid_argument: made up for the test
==
[name=equal_both_error]
SELECT 1 / 0 AS x
--
ERROR: generic::out_of_range: division by zero: 1 / 0
==
[name=out_of_scope_feature]
[required_features=UUID_TYPE]
SELECT CAST('9d3da323-4c20-460f-8d9b-ec54feec54f0' AS UUID)
--
ARRAY<STRUCT<UUID>>[{9d3da323-4c20-460f-8d9b-ec54feec54f0}]
"""

GAPS = """\
[[gap]]
case = "tiny.test:silent_value"
verdict = "silent"
cause = "made up: the expected result is wrong on purpose"

[[gap]]
case = "tiny.test:silent_name"
verdict = "silent"
cause = "made up: the expected name is wrong on purpose"

[[gap]]
case = "tiny.test:invalid_accepted_answer"
verdict = "invalid_accepted"
cause = "made up: GoogleSQL accepts SELECT 1"
"""


def _run(tmp: Path, *args: str) -> tuple[int, str]:
    out, err = tmp / "stdout.txt", tmp / "stderr.txt"
    with out.open("w") as fo, err.open("w") as fe:
        rc = subprocess.call(
            [sys.executable, "-m", "tests.conformance", *args],
            cwd=ROOT,
            stdout=fo,
            stderr=fe,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
    return rc, out.read_text() + err.read_text()


def test_runner_classifies_each_verdict(tmp_path: Path):
    from tests.conformance.runner import run_file

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "tiny.test").write_text(CORPUS)
    verdicts = {r.id.split(":", 1)[1]: r.verdict for r in run_file(corpus / "tiny.test")}
    assert verdicts == {
        "equal_rows": "equal",
        "equal_anonymous": "equal",
        "silent_value": "silent",
        "silent_name": "silent",
        "loud_table": "loud",
        "invalid_accepted_answer": "invalid_accepted",
        "equal_both_error": "equal",
        "out_of_scope_feature": "out_of_scope",
    }


def test_cli_fails_on_unlisted_gaps_and_on_fixed_ones(tmp_path: Path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "tiny.test").write_text(CORPUS)
    rc, text = _run(tmp_path, str(corpus), "--gaps", str(tmp_path / "none.toml"))
    assert rc == 1, text
    last = text.strip().splitlines()[-1]
    assert last == ("files=1 cases=8 equal=3 loud=1 silent=2 invalid_accepted=1 out_of_scope=1"), (
        text
    )
    assert "SILENT tiny.test:silent_value" in text
    assert "INVALID_ACCEPTED tiny.test:invalid_accepted_answer" in text

    gaps = tmp_path / "gaps.toml"
    gaps.write_text(GAPS)
    rc, text = _run(tmp_path, str(corpus), "--gaps", str(gaps))
    assert rc == 0, text

    (corpus / "tiny.test").write_text(CORPUS.replace("[{3}]", "[{2}]"))  # now equal
    rc, text = _run(tmp_path, str(corpus), "--gaps", str(gaps))
    assert rc == 1, text
    assert "FIXED tiny.test:silent_value" in text


def test_missing_corpus_is_one_line_exit_2(tmp_path: Path):
    rc, text = _run(tmp_path, str(tmp_path / "nowhere"))
    assert rc == 2
    assert text.strip() == f"conformance: no .test files in {tmp_path / 'nowhere'}"


#: Cases of Google's corpus that idcbq once answered differently (issue 18 §4), by file.
FIXED = {
    "case_statement_queries.test": {"coalesce_1": "equal"},  # named f0_, not 1
    "civil_time.test": {"extract_from_time": "equal"},  # MILLISECOND 999, not 56999
    "bytes.test": {"to_bytes_to_string_3": "equal"},  # CHAR_LENGTH of decoded UTF-8
    "arithmetic_functions.test": {"arithmetic_functions_14_safe_divide": "equal"},
    "strings.test": {
        "strings_function_lpad_mem_error": "equal",  # both raise: output over 1MB
        "strings_function_repeat_mem_error": "equal",
        "strings_function_left_error": "equal",  # LEFT(s, -1) raises
        "strings_function_right_error": "equal",
    },
    "array_functions.test": {  # GENERATE_DATE/TIMESTAMP_ARRAY step 0 raises
        "generate_date_array_literal_zero_step": "equal",
        "generate_timestamp_array_parameterized_zero_step": "equal",
    },
    "limit_queries.test": {"param_limit_null": "equal", "param_offset_null": "equal"},
    "analytic_window_frames.test": {"range_window_null_offset_1": "equal"},  # NULL offset
    "analytic_lag.test": {"lag_null_offset": "equal", "lag_negative_offset": "equal"},
    "analytic_nth_value.test": {"nth_value_zero_n": "equal"},
    "analytic_ntile.test": {"ntile_null_bucket_count": "equal"},
}


@pytest.mark.skipif(not REAL.is_dir(), reason=f"{REAL} (the shared compliance corpus) is missing")
@pytest.mark.parametrize("name", sorted(FIXED))
def test_real_corpus_cases(name: str):
    """A few cases of Google's corpus, read in place: the fixes they found hold."""
    from tests.conformance.runner import run_file

    want = FIXED[name]
    results = run_file(REAL / name, {f"{name}:{case}" for case in want})
    got = {r.id.split(":", 1)[1]: (r.verdict, r.detail) for r in results}
    assert {k: v[0] for k, v in got.items()} == want, got
