"""Cost of the query gate (strict layer + GoogleSQL analyzer), against no analysis.

All figures in one run, each against its baseline measured in the same run:

1. A CLI query on the sample (``idcbq sql ... --source <sample>``) in a fresh process:
   no analysis (``IDCBQ_GOOGLESQL_ANALYSIS=0``, the baseline); a query seen before
   (its verdict cached); a new query (new SQL text: the analyzer starts in the process).
2. In a long-lived process: a seen query's gate (verdict cache hit) and a warm analysis
   of each library template (cache off), against the strict-only gate of the same SQL.

Run: ``.venv/bin/python -m bench gate`` (``--quick``: 3 repeats, 4 templates).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
import uuid

from bench._util import format_table, median_ms, python_child

QUICK = True
SQL = "SELECT Modality, COUNT(*) AS n FROM dicom_all GROUP BY Modality ORDER BY n DESC"


def _cli(sql: str, analysis: bool, sample: str, helper: bool = False) -> float:
    env = {**os.environ, "IDCBQ_GOOGLESQL_ANALYSIS": "1" if analysis else "0"}
    env["IDCBQ_GOOGLESQL_HELPER"] = "1" if helper else "0"
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(_repo()), env.get("PYTHONPATH")) if p)
    res = python_child("idcbq", "sql", sql, "--source", sample, "--format", "json", env=env)
    if res.returncode != 0:
        raise SystemExit(f"idcbq sql failed: {res.stderr.strip()[-400:]}")
    return res.seconds


def _repo() -> str:
    from bench._util import REPO

    return str(REPO)


def measure_cli(repeats: int, sample: str) -> list[list[object]]:
    _cli(SQL, True, sample)  # the verdict of SQL is now cached
    base = [_cli(SQL, False, sample) for _ in range(repeats)]
    seen = [_cli(SQL, True, sample) for _ in range(repeats)]
    new = [_cli(f"{SQL} -- {uuid.uuid4().hex}", True, sample) for _ in range(repeats)]
    helped = _with_helper(repeats, sample)
    b = statistics.median(base)
    rows = [["CLI query, no analysis (baseline)", b, 0.0]]
    for label, runs in (("CLI query seen before (verdict cached)", seen),
                        ("CLI query new, no helper (analyzer starts)", new),
                        ("CLI query new, warm helper", helped)):  # fmt: skip
        m = statistics.median(runs)
        rows.append([label, m, (m - b) * 1000])
    return rows


def _with_helper(repeats: int, sample: str) -> list[float]:
    """New queries answered by the warm helper (started by the first CLI run, then stopped)."""
    from idcbq.engines.googlesql import helper

    _cli(f"{SQL} -- {uuid.uuid4().hex}", True, sample, helper=True)  # starts the helper
    for _ in range(600):
        if helper.ask({"sql": "SELECT 1", "params": [], "tables": {}}) is not None:
            break
        time.sleep(0.5)
    try:
        return [_cli(f"{SQL} -- {uuid.uuid4().hex}", True, sample, True) for _ in range(repeats)]
    finally:
        helper.ask({"shutdown": True})


def measure_in_process(repeats: int, quick: bool) -> list[list[object]]:
    from bench.googlesql import _examples
    from idcbq.validate import check
    from idcbq.validate.googlesql import analyze_sql

    examples = _examples(quick)
    rows: list[list[object]] = []
    hits, strict, warm = [], [], []
    for _template, q in examples:
        kw = {"params": q.params, "idc_version": "current"}
        check(q.sql, googlesql=True, **kw)  # starts the analyzer, caches the verdict
        strict.append(median_ms(lambda q=q, kw=kw: check(q.sql, googlesql=False, **kw), repeats))
        hits.append(median_ms(lambda q=q, kw=kw: check(q.sql, googlesql=True, **kw), repeats))
        warm.append(
            median_ms(lambda q=q, kw=kw: analyze_sql(q.sql, use_cache=False, **kw), repeats)
        )
    n = len(examples)
    rows.append([f"gate, strict only ({n} templates, median ms)", statistics.median(strict), ""])
    rows.append(["gate, seen query (verdict cache hit)", statistics.median(hits), ""])
    rows.append(["warm analysis per template (no cache)", statistics.median(warm), ""])
    return rows


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    quick = "--quick" in argv
    repeats = 3 if quick else 7
    from idcbq.sources.sample.paths import default_sample_root

    sample = str(default_sample_root())
    started = time.perf_counter()
    rows = measure_cli(repeats, sample)
    print(format_table(["fresh CLI process", "median s", "added ms"], rows))
    print()
    rows = measure_in_process(repeats, quick)
    print(format_table(["long-lived process", "median ms", ""], rows))
    print(f"\n(gate bench: {time.perf_counter() - started:.0f} s, {repeats} repeats)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
