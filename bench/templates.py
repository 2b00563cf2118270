"""Template pipeline speed: render, validate, transpile per template; query overhead.

Two measurements, both in this run:

1. Per library template (first example): median time to render, validate and
   transpile to DuckDB, once with the compiled ``sqlglotc`` modules and once with
   pure-Python sqlglot (a child process whose import hook skips sqlglot's compiled
   extension modules, so the ``.py`` sources load instead).
2. ``idcbq query`` overhead: ``Client.query(name, **params)`` (render + validate +
   transpile + execute + result wrapping) against executing the final DuckDB SQL
   directly on the same DuckDB connection, run in turn; the median of the pairs' ratios
   (goal <= 1.10x, issue 21 §3). The client runs each template once first, as a session
   that queries again would have (what it keeps: idcbq.validate.kept, the engine's memos).
   Last, the fixed cost per query in ms: ``Client.sql("SELECT 1 AS x")`` minus the same
   statement run directly (a query DuckDB answers at once shows the client's own cost).

Run: ``.venv/bin/python -m bench templates`` (or ``make bench``).
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from bench._util import median_ms

REPEATS = int(os.environ.get("IDCBQ_BENCH_REPEATS", "15"))
QUERY_TEMPLATES = (
    "summary.collections",
    "cohort.series_by_modality",
    "seg.series_with_referenced",
    "sr.measurements",
    "manifest.instances_of_collection_modality",
)


class _PureSqlglotFinder(importlib.abc.MetaPathFinder):
    """Find ``sqlglot.*`` modules from ``.py`` sources only (ignores sqlglotc's ``.so`` files)."""

    def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
        if name != "sqlglot" and not name.startswith("sqlglot."):
            return None
        loader = (importlib.machinery.SourceFileLoader, importlib.machinery.SOURCE_SUFFIXES)
        for entry in path or sys.path:
            spec = importlib.machinery.FileFinder(entry or ".", loader).find_spec(name)
            if spec is not None:
                return spec
        return None


def _median_ms(fn: Callable[[], Any]) -> float:
    # the warm-up run warms caches (schema JSON, Jinja environment, sqlglot dialect tables)
    return median_ms(fn, repeats=REPEATS, warmup=True)


def measure_pipeline() -> dict[str, Any]:
    """Median render / validate / transpile milliseconds per template (this process)."""
    import sqlglot.tokens

    import idcbq
    from idcbq.engines.analyzed_spans import spans_for
    from idcbq.templates import Template, bind_params, builtin_dir, render
    from idcbq.transpile import to_duckdb
    from idcbq.validate import validate

    out: dict[str, Any] = {"compiled": sqlglot.tokens.SQLGLOTC_INSTALLED, "templates": {}}
    # The tables' column types, as the engine gives them to the transpiler (a clinical
    # template's CAST needs its column's type).
    engine = idcbq.connect(engine="duckdb", idc_version="v25").engine
    for path in sorted(builtin_dir().glob("*.sql")):
        template = Template.from_path(path, builtin=True)
        example = next(iter(template.header.examples.values()))
        params = bind_params(template, example)
        query = render(template, params, idc_version="v25")
        schema = engine.sqlglot_schema(query.sql)
        out["templates"][template.name] = {
            "render": _median_ms(lambda t=template, p=params: render(t, p, idc_version="v25")),
            "validate": _median_ms(
                lambda q=query: validate(q.sql, params=q.params, idc_version="v25")
            ),
            # as the engine translates: GoogleSQL's expression types if validate analyzed
            "transpile": _median_ms(
                lambda q=query, s=schema: to_duckdb(
                    q.sql,
                    schema=s,
                    params=q.params,
                    dataset="idc_v25",
                    expression_types=spans_for(q.sql, q.params),
                    strict_types=spans_for(q.sql, q.params) is not None,
                )
            ),
        }
    return out


def _once(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def measure_query_overhead() -> list[dict[str, Any]]:
    """``Client.query`` vs the same final SQL executed directly on the engine's DuckDB."""
    import idcbq
    from idcbq.engines.duckdb.statements import bind_params  # the engine's own binding

    rows = []
    with idcbq.connect(engine="duckdb", idc_version="v25") as client:
        con = client.engine.con
        for name in QUERY_TEMPLATES:
            template = client.template(name)
            example = next(iter(template.header.examples.values()))
            result = client.query(name, **example)
            sql = result.sql
            import duckdb

            names = duckdb.extract_statements(sql)[0].named_parameters
            bind = bind_params(names, result.params)
            # Alternate the two (A B A B ...) and take each pair's ratio: a machine whose
            # speed drifts (other work on it) then moves both sides of a ratio alike.
            client.query(name, **example)  # warm: what the client keeps is in place
            con.execute(sql, bind).to_arrow_table()
            fulls, directs = [], []
            for _ in range(REPEATS):
                fulls.append(_once(lambda n=name, e=example: client.query(n, **e)))
                directs.append(_once(lambda s=sql, b=bind: con.execute(s, b).to_arrow_table()))
            rows.append(
                {
                    "template": name,
                    "rows": result.to_arrow().num_rows,
                    "query_ms": statistics.median(fulls) * 1000,
                    "direct_ms": statistics.median(directs) * 1000,
                    "ratio": statistics.median(f / d for f, d in zip(fulls, directs, strict=True)),
                }
            )
    return rows


def measure_fixed_cost(repeats: int = 200) -> float:
    """Milliseconds ``Client.sql`` adds to a query DuckDB answers at once (``SELECT 1``):
    the per-query cost of the client (verdict and translation look-ups, the worker thread,
    views, result checks), the median of ``repeats`` pairs run in turn."""
    import idcbq

    sql = "SELECT 1 AS x"
    with idcbq.connect(engine="duckdb", idc_version="v25") as client:
        con = client.engine.con
        client.sql(sql)  # warm: validated and translated once, as a session has
        diffs = []
        for _ in range(repeats):
            full = _once(lambda: client.sql(sql))
            diffs.append(full - _once(lambda: con.execute(sql).to_arrow_table()))
    return statistics.median(diffs) * 1000


def _child(pure: bool) -> dict[str, Any]:
    args = [sys.executable, "-m", "bench.templates", "--child"] + (["--pure"] if pure else [])
    done = subprocess.run(args, capture_output=True, text=True, check=True, cwd=_repo())
    return json.loads(done.stdout.strip().splitlines()[-1])


def _repo() -> str:
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _print_pipeline(compiled: dict[str, Any], pure: dict[str, Any]) -> None:
    print(
        f"render / validate / transpile, median of {REPEATS} (ms); "
        f"sqlglotc compiled modules loaded: {compiled['compiled']} (fast run), {pure['compiled']} (pure run)"
    )
    head = f"{'template':45} {'render':>7} {'valid.':>7} {'transp.':>7} {'total':>7} {'pure tot':>9} {'speedup':>8}"
    print(head)
    print("-" * len(head))
    totals_c, totals_p = [], []
    for name, c in compiled["templates"].items():
        p = pure["templates"][name]
        tc = c["render"] + c["validate"] + c["transpile"]
        tp = p["render"] + p["validate"] + p["transpile"]
        totals_c.append(tc)
        totals_p.append(tp)
        print(
            f"{name:45} {c['render']:7.2f} {c['validate']:7.2f} {c['transpile']:7.2f} "
            f"{tc:7.2f} {tp:9.2f} {tp / tc:7.2f}x"
        )
    mc, mp = statistics.median(totals_c), statistics.median(totals_p)
    tr_c = statistics.median(c["transpile"] for c in compiled["templates"].values())
    tr_p = statistics.median(p["transpile"] for p in pure["templates"].values())
    print(
        f"\nmedian over {len(totals_c)} templates: render+validate+transpile {mc:.2f} ms with "
        f"sqlglotc, {mp:.2f} ms pure Python ({mp / mc:.2f}x); transpile alone {tr_c:.2f} ms vs "
        f"{tr_p:.2f} ms"
    )


def _print_overhead(rows: list[dict[str, Any]]) -> None:
    print(
        f"\nidcbq query (Client.query) vs the final SQL run directly on DuckDB, in turn,"
        f" median of {REPEATS} pairs"
    )
    head = f"{'template':45} {'rows':>6} {'query ms':>9} {'direct ms':>10} {'ratio':>7}"
    print(head)
    print("-" * len(head))
    for r in rows:
        print(
            f"{r['template']:45} {r['rows']:6d} {r['query_ms']:9.2f} {r['direct_ms']:10.2f} "
            f"{r['ratio']:6.2f}x"
        )
    print(
        f"median overhead ratio: {statistics.median(r['ratio'] for r in rows):.2f}x (goal <= 1.10x);"
        f" load average now {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores"
    )


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--child" in argv:
        if "--pure" in argv:
            sys.meta_path.insert(0, _PureSqlglotFinder())
        print(json.dumps(measure_pipeline()))
        return 0
    compiled, pure = _child(pure=False), _child(pure=True)
    if compiled["compiled"] == pure["compiled"]:
        print("warning: sqlglotc is not installed; both columns are pure Python")
    _print_pipeline(compiled, pure)
    _print_overhead(measure_query_overhead())
    print(f"fixed cost per query: {measure_fixed_cost():.2f} ms (Client.sql of SELECT 1 vs DuckDB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
