"""GoogleSQL costs: analysis per template (cold start, warm) and the googlesql engine.

Measured in this run, each against a baseline measured in the same run:

1. Cold start: a fresh process (compiled-module cache present) that starts the
   ZetaSQL module and analyzes one template; the module start alone is also shown.
2. Warm analysis per library template (first example): median ms of the GoogleSQL
   analysis (:func:`idcbq.validate.googlesql.analyze_sql`) against idcbq's sqlglot
   validation (:func:`idcbq.validate.validate`) of the same rendered SQL.
3. The googlesql engine on the sample: first run (loads and encodes the columns the
   query reads) and warm median, against the DuckDB engine's warm median, same SQL.

Run: ``.venv/bin/python -m bench googlesql`` (``--quick``: 4 templates, 3 repeats).
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from typing import Any

from bench._util import median_ms, python_child
from idcbq.errors import IdcbqError

QUICK = True
QUICK_TEMPLATES = (
    "summary.collections",
    "cohort.series_by_modality",
    "cohort.series_by_geometry",
    "manifest.instances_of_series",
)


def _examples(quick: bool) -> list[tuple[Any, Any]]:
    from idcbq.templates import TemplateCatalog, bind_params, render

    catalog = TemplateCatalog.discover(use_env=False)
    out = []
    for template in catalog:
        if quick and template.name not in QUICK_TEMPLATES:
            continue
        example = next(iter(template.header.examples.values()), template.header.example_params())
        params = bind_params(template, example)
        out.append((template, render(template, params, idc_version="current")))
    return out


def measure_cold() -> dict[str, float]:
    """In a fresh process: module start, then the first analysis of one template."""
    started = time.perf_counter()
    from idcbq.engines.googlesql.runtime import runtime

    rt = runtime()
    after_start = time.perf_counter()
    from idcbq.validate.googlesql import analyze_sql

    (_, rendered) = _examples(quick=True)[0]
    t0 = time.perf_counter()
    problems = analyze_sql(rendered.sql, params=rendered.params, idc_version="current")
    first = time.perf_counter() - t0
    return {
        "module_start_s": rt.start_seconds,
        "compiled": float(rt.compiled),
        "import_and_start_s": after_start - started,
        "first_analysis_s": first,
        "total_s": time.perf_counter() - started,
        "problems": float(len(problems)),
    }


def measure_analysis(quick: bool, repeats: int) -> list[dict[str, Any]]:
    from idcbq.validate import validate
    from idcbq.validate.googlesql import analyze_sql

    rows = []
    for template, q in _examples(quick):
        if analyze_sql(q.sql, params=q.params, idc_version="current"):
            print(f"skipped {template.name}: GoogleSQL rejects it")
            continue
        gsql = median_ms(
            lambda q=q: analyze_sql(q.sql, params=q.params, idc_version="current"),
            repeats=repeats,
        )
        base = median_ms(
            lambda q=q: validate(q.sql, params=q.params, idc_version="current"), repeats=repeats
        )
        cpu = time.process_time()
        for _ in range(repeats):
            analyze_sql(q.sql, params=q.params, idc_version="current")
        cpu_ms = (time.process_time() - cpu) * 1000 / repeats
        rows.append(
            {"template": template.name, "gsql_ms": gsql, "gsql_cpu_ms": cpu_ms, "sqlglot_ms": base}
        )
    return rows


def measure_engine(quick: bool, repeats: int) -> list[dict[str, Any]]:
    from idcbq.engines.duckdb import DuckDBEngine
    from idcbq.engines.googlesql import GoogleSQLEngine
    from idcbq.sources.sample import ensure_sample

    source = ensure_sample()
    gsql = GoogleSQLEngine.from_options(source=source, idc_version="current")
    duck = DuckDBEngine.from_options(source=source, idc_version="current")
    rows = []
    for template, q in _examples(quick):
        gp = gsql.prepare(q.sql, q.params, template=template.name)
        t0 = time.perf_counter()
        try:
            dp = duck.prepare(q.sql, q.params, template=template.name)
            n = gsql.execute(gp).num_rows
        except IdcbqError as exc:  # e.g. a table the sample lacks: reported, not timed
            print(f"skipped {template.name}: {str(exc).splitlines()[0]}")
            continue
        first = (time.perf_counter() - t0) * 1000
        warm = median_ms(lambda p=gp: gsql.execute(p), repeats=repeats, warmup=False)
        base = median_ms(lambda p=dp: duck.execute(p), repeats=repeats)
        rows.append(
            {
                "template": template.name,
                "rows": n,
                "first_ms": first,
                "gsql_ms": warm,
                "duckdb_ms": base,
            }
        )
    duck.close()
    return rows


def _print(
    cold: dict[str, float],
    analysis: list[dict[str, Any]],
    engine: list[dict[str, Any]],
    repeats: int,
) -> None:
    print(
        f"cold start (fresh process, compiled-module cache "
        f"{'MISSING: compiled now' if cold['compiled'] else 'present'}): "
        f"module start {cold['module_start_s']:.2f} s, import+start {cold['import_and_start_s']:.2f} s, "
        f"first analysis {cold['first_analysis_s']:.2f} s, total {cold['total_s']:.2f} s"
    )
    print(f"\nGoogleSQL analysis vs sqlglot validation, warm, median of {repeats} (ms)")
    head = f"{'template':45} {'gsql':>8} {'gsql cpu':>9} {'sqlglot':>8} {'ratio':>7}"
    print(head)
    print("-" * len(head))
    for r in analysis:
        print(
            f"{r['template']:45} {r['gsql_ms']:8.1f} {r['gsql_cpu_ms']:9.1f} {r['sqlglot_ms']:8.1f} "
            f"{r['gsql_ms'] / r['sqlglot_ms']:6.2f}x"
        )
    g = statistics.median(r["gsql_ms"] for r in analysis)
    s = statistics.median(r["sqlglot_ms"] for r in analysis)
    c = statistics.median(r["gsql_cpu_ms"] for r in analysis)
    print(
        f"median: GoogleSQL analysis {g:.1f} ms/query wall ({c:.1f} ms CPU), "
        f"sqlglot validation {s:.1f} ms ({g / s:.2f}x)"
    )
    print(f"\ngooglesql engine vs DuckDB engine on the sample, median of {repeats} (ms)")
    head = f"{'template':45} {'rows':>6} {'first':>9} {'gsql':>9} {'duckdb':>8} {'ratio':>8}"
    print(head)
    print("-" * len(head))
    for r in engine:
        print(
            f"{r['template']:45} {r['rows']:6d} {r['first_ms']:9.0f} {r['gsql_ms']:9.0f} "
            f"{r['duckdb_ms']:8.1f} {r['gsql_ms'] / r['duckdb_ms']:7.1f}x"
        )
    g = statistics.median(r["gsql_ms"] for r in engine)
    d = statistics.median(r["duckdb_ms"] for r in engine)
    print(f"median: googlesql {g:.0f} ms/query warm, DuckDB {d:.1f} ms ({g / d:.1f}x)")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--child-cold" in argv:
        print(json.dumps(measure_cold()))
        return 0
    from idcbq.engines.googlesql.runtime import runtime, zetasql_available

    if not zetasql_available():
        print("zetasql is not installed (pip install 'idcbq[googlesql]'): skipped")
        return 0
    quick = "--quick" in argv
    repeats = 3 if quick else int(os.environ.get("IDCBQ_BENCH_REPEATS", "7"))
    runtime()  # makes sure the compiled-module cache exists before the cold child
    child = python_child("bench.googlesql", "--child-cold").check("cold start")
    cold = json.loads(child.stdout.strip().splitlines()[-1])
    analysis = measure_analysis(quick, repeats)
    engine = measure_engine(quick, repeats)
    _print(cold, analysis, engine, repeats)
    return 0


if __name__ == "__main__":
    sys.exit(main())
