"""Engine open time and a per-modality GROUP BY on the sample, vs raw DuckDB in the same run.

Run: ``.venv/bin/python bench/bench_duckdb_engine.py [EXPORT_ROOT]`` (default: the sample).
The baseline is a bare ``duckdb.connect()`` + ``read_parquet(glob)`` of the same files, so
the ratios show the engine's own overhead (listing, footer checks, views).
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

QUERY = "SELECT Modality, count(*) AS n, sum(instance_size) AS size FROM {t} GROUP BY 1 ORDER BY 1"


def timed(fn, repeat: int = 5) -> float:
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def main() -> None:
    import duckdb

    from idcbq.engines.duckdb import DuckDBEngine
    from idcbq.sources.releases import IdcVersion
    from idcbq.sources.sample import ensure_sample

    root = Path(sys.argv[1]) if len(sys.argv) > 1 else ensure_sample()
    dataset = IdcVersion.parse(None).dataset
    files = root / "bigquery_export" / dataset / "dicom_all"
    size = sum(p.stat().st_size for p in files.glob("*.parquet"))

    def engine_open() -> None:
        DuckDBEngine.from_options(source=root).close()

    def engine_first_query() -> None:
        with DuckDBEngine.from_options(source=root) as eng:
            eng.sql(QUERY.format(t="dicom_all"))

    def raw_first_query() -> None:
        con = duckdb.connect()
        con.execute(QUERY.format(t=f"read_parquet('{files}/*.parquet')")).to_arrow_table()
        con.close()

    eng = DuckDBEngine.from_options(source=root)
    eng.sql(QUERY.format(t="dicom_all"))
    con = duckdb.connect()
    raw = QUERY.format(t=f"read_parquet('{files}/*.parquet')")
    rows = con.execute(f"SELECT count(*) FROM read_parquet('{files}/*.parquet')").fetchone()[0]

    results = {
        "engine open": timed(engine_open),
        "open + first GROUP BY (engine)": timed(engine_first_query),
        "open + first GROUP BY (raw duckdb)": timed(raw_first_query),
        "warm GROUP BY (engine)": timed(lambda: eng.sql(QUERY.format(t="dicom_all"))),
        "warm GROUP BY (raw duckdb)": timed(lambda: con.execute(raw).to_arrow_table()),
    }
    print(f"export {root}: {dataset}.dicom_all {rows:,} rows, {size / 1e6:.1f} MB")
    for name, secs in results.items():
        print(f"  {name:38s} {secs * 1000:8.1f} ms")
    print(
        f"  ratio first query engine/raw: "
        f"{results['open + first GROUP BY (engine)'] / results['open + first GROUP BY (raw duckdb)']:.2f}; "
        f"warm: {results['warm GROUP BY (engine)'] / results['warm GROUP BY (raw duckdb)']:.2f}"
    )


if __name__ == "__main__":
    main()
