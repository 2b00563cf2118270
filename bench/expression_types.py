"""What GoogleSQL's expression types cost (issue 18 §3): analysis, collection, translation.

For three idc-index-data queries (large, nested, many STRUCT columns), in this run:

- the analyzer with and without parse locations recorded (alternating, median of 7);
- collecting the expression types from the resolved statement, and their JSON size
  (what the verdict cache and the helper carry);
- ``to_duckdb`` without them (the per-query rule) and with them (filled, per-node rule),
  alternating, median of 5.

Run: ``.venv/bin/python -m bench expression_types``.
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

QUERIES = ("idc_index.sql", "seg_index.sql", "sm_index.sql")


def _ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:.0f}"


def measure(name: str) -> dict[str, str]:
    """One query's figures (milliseconds, bytes)."""
    import idc_index_data
    from zetasql.wasi._pb2.zetasql.local_service import local_service_pb2 as ls

    from idcbq.engines.googlesql import analysis, compat
    from idcbq.engines.googlesql.expression_types import expression_types
    from idcbq.sources.releases import IdcVersion
    from idcbq.transpile import split_declare_script, to_duckdb
    from idcbq.validate.columns import reference_schema
    from idcbq.validate.googlesql import make_resolver

    text = (Path(idc_index_data.__file__).parent / name).read_text()
    query, params = split_declare_script(text)
    resolver = make_resolver(reference_schema, IdcVersion.parse("v25"))
    found = {}

    def resolve(parts):
        hit = resolver(parts)
        if hit is not None:
            found[hit[0]] = hit
        return None if hit is None else hit[0]

    fixed = compat.apply(query)
    rewritten, _unknown = analysis.rewrite(fixed.sql, resolve)
    tables = {analysis.flat_name(k): fields for k, (_k, fields) in found.items()}
    catalog, _ids = analysis.catalog_proto(analysis.narrow_tables(tables, rewritten.columns))
    times: dict[int, list[float]] = {0: [], 1: []}
    resolved = None
    for _ in range(7):
        for mode in (0, 1):  # PARSE_LOCATION_RECORD_NONE, FULL_NODE_SCOPE
            options = analysis.analyzer_options(analysis.param_types(params))
            options.parse_location_record_type = mode
            request = ls.AnalyzeRequest(options=options, sql_statement=rewritten.sql)
            request.simple_catalog.CopyFrom(catalog)
            start = time.perf_counter()
            reply = analysis.runtime().call("Analyze", request, ls.AnalyzeResponse)
            times[mode].append(time.perf_counter() - start)
            resolved = reply.resolved_statement
    collect = []
    for _ in range(7):
        start = time.perf_counter()
        typed = expression_types(resolved, rewritten.edits, fixed.sql, fixed.edits)
        collect.append(time.perf_counter() - start)
    translate: dict[bool, list[float]] = {False: [], True: []}
    for _ in range(5):
        for with_types in (False, True):
            start = time.perf_counter()
            to_duckdb(
                query,
                params=params,
                expression_types=typed if with_types else None,
                strict_types=with_types,
            )
            translate[with_types].append(time.perf_counter() - start)
    return {
        "query": name,
        "analyze ms (no locations)": _ms(times[0]),
        "analyze ms (locations)": _ms(times[1]),
        "collect ms": f"{statistics.median(collect) * 1000:.1f}",
        "JSON bytes": str(len(json.dumps(typed))),
        "spans": str(len(typed["spans"])),
        "to_duckdb ms (without)": _ms(translate[False]),
        "to_duckdb ms (with)": _ms(translate[True]),
    }


def main(argv: list[str] | None = None) -> int:
    rows = [measure(name) for name in QUERIES]
    keys = list(rows[0])
    print(" | ".join(keys))
    for row in rows:
        print(" | ".join(row[k] for k in keys))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
