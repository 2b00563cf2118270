"""Remote export at full width: cold direct query vs `idcbq mirror` vs warm footer cache.

A synthetic ``dicom_all`` of the real width (:mod:`idcbq.testing.wide_export`: every
reference column plus DICOM sequences, 4,000 leaf columns, mostly NULL) is served by
moto S3 behind a :class:`~idcbq.testing.counting_proxy.CountingProxy`. One 3-column
query filtered on one collection is run, side by side in one process:

1. ``direct, cold``: a fresh engine over ``s3://``, empty footer cache;
2. ``mirror``: ``idcbq mirror`` with the template preset (time, bytes through the
   proxy, chunk bytes kept, size on disk), then the query on the mirror;
3. ``direct, warm``: a fresh engine over ``s3://`` with the footer cache filled by 1.

Each query runs in a fresh engine (no DuckDB in-memory caches carried over); the
interpreter's imports are warmed first so they are not timed.

    python -m bench mirror            # 2,000 files (full variant)
    python -m bench mirror --quick    # 60 files

``--footers`` measures only the footer-bound part, against a baseline revision in the
same run: ``idcbq mirror`` of a local wide export (no network, so the time is reading
and parsing footers, the column chunks and writing the copies), in child processes that
alternate this checkout and the baseline's code (``--baseline REV``, extracted with
``git archive``); the figure is the mirror call's own seconds (imports excluded), median
of ``--repeats``, and the ratio baseline / this checkout.

    python -m bench mirror --footers --quick
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from bench._util import OUT, format_table, human_bytes

#: Takes --quick (see bench/__main__.py).
QUICK = True
BUCKET = "idcbq-bench-wide"
SQL = "SELECT SeriesInstanceUID, Modality, instance_size FROM dicom_all WHERE collection_id = $c"


def _warm_imports() -> None:
    from idcbq.engines.duckdb import DuckDBEngine
    from idcbq.testing.mini_export import write_mini_export

    root = write_mini_export(tempfile.mkdtemp(prefix="idcbq-bench-"))
    with DuckDBEngine.from_options(source=root, idc_version="v25") as eng:
        eng.sql("SELECT count(*) FROM dicom_all WHERE collection_id = $c", {"c": "x"})


def _direct(endpoint: str, collection: str) -> dict[str, Any]:
    from idcbq.engines.duckdb import DuckDBEngine
    from idcbq.testing.counting_proxy import CountingProxy

    with CountingProxy(endpoint) as proxy:
        started = time.perf_counter()
        with DuckDBEngine.from_options(
            source=f"s3://{BUCKET}/export", idc_version="v25", s3_endpoint=proxy.url
        ) as eng:
            rows = eng.sql(SQL, {"c": collection}).num_rows
        return {
            "seconds": time.perf_counter() - started,
            "bytes": proxy.bytes_in,
            "requests": len(proxy.requests),
            "rows": rows,
        }


def _local_query(dest: Path, collection: str) -> dict[str, Any]:
    from idcbq.engines.duckdb import DuckDBEngine

    started = time.perf_counter()
    with DuckDBEngine.from_options(source=dest, idc_version="v25") as eng:
        rows = eng.sql(SQL, {"c": collection}).num_rows
    return {"seconds": time.perf_counter() - started, "rows": rows}


def _disk(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*.parquet"))


def run(spec: Any, work: Path) -> list[dict[str, Any]]:
    from idcbq.sources.mirror import mirror
    from idcbq.sources.sample.seed import upload_objects
    from idcbq.testing.counting_proxy import CountingProxy
    from idcbq.testing.servers import MotoS3Server
    from idcbq.testing.wide_export import collection_name, footer_stats, objects, write_encodings

    encodings = write_encodings(OUT / f"wide-{spec.key}", spec)
    facts = footer_stats(encodings[0])
    print(
        f"export: {spec.files} files x {human_bytes(facts['file_bytes'])} "
        f"({facts['rows']} rows, {facts['row_groups']} row group(s)), "
        f"{facts['top_level_columns']} top-level / {facts['leaf_columns']} leaf columns, "
        f"footer {human_bytes(facts['footer_bytes'])} per file "
        f"({human_bytes(facts['footer_bytes'] * spec.files)} of footers in all)",
        flush=True,
    )
    collection = collection_name(spec.collections // 2)
    _warm_imports()
    with MotoS3Server() as s3:
        s3.client().create_bucket(Bucket=BUCKET)
        started = time.perf_counter()
        upload_objects(
            "aws",
            s3.url,
            [(BUCKET, k, b) for k, b in objects(spec, encodings, "export")],
            workers=8,
        )
        print(f"uploaded to moto in {time.perf_counter() - started:.1f} s", flush=True)
        cold = _direct(s3.url, collection)
        print(f"cold direct: {cold['seconds']:.1f} s", flush=True)
        dest = work / "mirror"
        with CountingProxy(s3.url) as proxy:
            started = time.perf_counter()
            report = mirror(f"s3://{BUCKET}/export", dest, idc_version="v25",
                            columns="templates", s3_endpoint=proxy.url, progress=False)  # fmt: skip
            mirror_s = time.perf_counter() - started
            mirror_bytes = proxy.bytes_in
        print(f"mirror: {report.summary()}", flush=True)
        on_mirror = _local_query(dest, collection)
        warm = _direct(s3.url, collection)
    ncols = len(report.columns["dicom_all"])
    return [
        {"run": "direct, cold footer cache", **cold},
        {
            "run": f"idcbq mirror (templates: {ncols} columns)",
            "seconds": mirror_s,
            "bytes": mirror_bytes,
            "kept": report.kept_bytes,
            "disk": _disk(dest),
        },
        {"run": "query on the mirror", **on_mirror},
        {"run": "direct, warm footer cache", **warm},
    ]


_MIRROR_CHILD = """
import os, sys, tempfile, time
from pathlib import Path
from idcbq.sources.mirror import mirror
src, workers = sys.argv[1], int(sys.argv[2])
with tempfile.TemporaryDirectory(prefix="idcbq-bench-m-") as tmp:
    os.environ["IDCBQ_FOOTER_CACHE"] = str(Path(tmp) / "footers")
    started, cpu = time.perf_counter(), time.process_time()
    report = mirror(src, Path(tmp) / "m", idc_version="v25", workers=workers, progress=False)
    print(time.perf_counter() - started, time.process_time() - cpu, report.files)
"""


def footers_vs_baseline(spec: Any, baseline: str, repeats: int, workers: int) -> int:
    """Mirror of a local wide export: this checkout vs ``baseline``, alternating children."""
    import statistics
    import sys

    from bench._util import REPO, checkout, run_child
    from idcbq.testing.wide_export import write_wide_export

    source = OUT / f"wide-local-{spec.key}"
    if not (source / "bigquery_export").is_dir():
        write_wide_export(source, spec)
    old = checkout(baseline)
    times: dict[str, list[float]] = {"baseline": [], "now": []}
    cpus: dict[str, list[float]] = {"baseline": [], "now": []}
    for _ in range(repeats):
        for label, path in (("baseline", old), ("now", REPO)):
            env = {**os.environ, "PYTHONPATH": str(path)}
            cmd = [sys.executable, "-c", _MIRROR_CHILD, str(source), str(workers)]
            out = run_child(cmd, env=env, cwd=path).check(f"mirror ({label})")
            seconds, cpu, files = out.stdout.split()
            assert int(files) == spec.files
            times[label].append(float(seconds))
            cpus[label].append(float(cpu))
    med = {k: statistics.median(v) for k, v in times.items()}
    cpu_med = {k: statistics.median(v) for k, v in cpus.items()}
    print(
        format_table(
            ["code", "wall s (median)", "min", "max", "CPU s (median)", "CPU ms per file"],
            [
                [f"{k} ({baseline if k == 'baseline' else 'this checkout'})", f"{med[k]:.2f}",
                 f"{min(v):.2f}", f"{max(v):.2f}", f"{cpu_med[k]:.2f}",
                 f"{1000 * cpu_med[k] / spec.files:.0f}"]
                for k, v in times.items()
            ],
        )
    )  # fmt: skip
    print(
        f"\n{spec.files} files x {spec.leaf_columns} leaf columns, {workers} worker(s), "
        f"{repeats} runs each: baseline / now = {med['baseline'] / med['now']:.2f}x wall, "
        f"{cpu_med['baseline'] / cpu_med['now']:.2f}x CPU"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    from bench._util import BASELINE_REV

    ap = argparse.ArgumentParser(prog="python -m bench mirror")
    ap.add_argument("--quick", action="store_true", help="60 files instead of 2,000")
    ap.add_argument("--footers", action="store_true", help="only the local mirror vs a baseline")
    ap.add_argument("--baseline", default=BASELINE_REV, help="git revision to compare against")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args(argv)
    from idcbq.testing.wide_export import WideSpec

    spec = WideSpec.quick() if args.quick else WideSpec.full()
    if args.footers:
        return footers_vs_baseline(spec, args.baseline, args.repeats, args.workers)
    with tempfile.TemporaryDirectory(prefix="idcbq-bench-mirror-") as tmp:
        os.environ["IDCBQ_FOOTER_CACHE"] = str(Path(tmp) / "footers")
        try:
            rows = run(spec, Path(tmp))
        finally:
            os.environ.pop("IDCBQ_FOOTER_CACHE", None)
    table = [
        [r["run"], f"{r['seconds']:.2f}", r.get("rows", ""),
         human_bytes(r["bytes"]) if "bytes" in r else "", r.get("requests", ""),
         human_bytes(r["kept"]) if "kept" in r else "", human_bytes(r["disk"]) if "disk" in r else ""]
        for r in rows
    ]  # fmt: skip
    print()
    print(
        format_table(
            ["run", "seconds", "rows", "bytes read", "requests", "chunks kept", "on disk"], table
        )
    )
    cold, mir, local, warm = rows
    print()
    print(
        f"mirror query vs cold direct: {cold['seconds'] / local['seconds']:.0f}x faster (goal >= 50x)"
    )
    print(
        f"mirror bytes fetched / chunk bytes kept: {mir['bytes'] / max(mir['kept'], 1):.2f} (goal <= 1.5)"
    )
    print(
        f"warm footer cache vs cold direct: {warm['seconds'] / cold['seconds']:.2f} of the time (goal <= 0.5)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
