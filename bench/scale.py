"""Scale: the template catalog on DuckDB at growing export sizes, plus 1M-row manifests.

Sizes come from ONE full-size derived export (``idcbq sample build --full``, cached under
``bench/out/full-cap<N>``; at the default 8 instances per series: 1,044,191 series,
3,748,871 ``dicom_all`` rows in 8 files, 3.2 GB on disk, ~22 min on 2 shared cores): smaller sizes are export roots whose per-instance tables
hold the first k Parquet files of the full one (symlinks, so they cost no disk and
no build time), like reading the first k files of IDC's multi-file export.

Per size, a fresh child process opens the DuckDB engine on that root and runs every
library template with its first example (median of ``--repeats`` after a warm-up);
the child reports per-template peak RSS (``VmHWM`` reset before each template) and
the parent reads the child's whole peak RSS from ``os.wait4``.

Manifest generation: ``--manifest-rows`` instance rows of the export, given to a fresh
child two ways: as an in-memory Arrow table (loaded untimed; its pages count in the peak
RSS) and as a Parquet results file streamed batch by batch (the ``idcbq manifest`` path).
The child times ``write_manifest`` to jsonl / s5cmd / parquet and the parent reads its
peak RSS (targets: < 3 s, < 500 MB).

    python -m bench scale                  # all sizes of the cached full export
    python -m bench scale --quick          # the embedded sample only, 1 repeat, 100k manifest
    python -m bench.scale --build          # build the full export first (long; run once)
    python -m bench.scale --sizes 1000000,2000000 --repeats 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from bench._util import OUT, dir_bytes, format_table, human_bytes, python_child

#: Instance rows per series in the cached full build (the CLI's ``--full`` default).
#: Takes --quick (see bench/__main__.py).
QUICK = True
FULL_CAP = int(os.environ.get("IDCBQ_BENCH_FULL_CAP", "8"))
FULL_ROOT = OUT / f"full-cap{FULL_CAP}"
#: Slices below the full size; at 8 instances/series the full export has 3,748,871 rows
#: (for ~5M+ rows build with a higher cap: ``IDCBQ_BENCH_FULL_CAP=16 ... --build``).
DEFAULT_SIZES = (1_000_000, 2_000_000)
PER_INSTANCE = (
    "dicom_all",
    "auxiliary_metadata",
    "dicom_metadata",
    "dicom_metadata_curated",
    "dicom_metadata_curated_series_level",
)
MANIFEST_FORMATS = ("jsonl", "s5cmd", "parquet")


# --- building and slicing exports -------------------------------------------------------


def build_full(root: Path = FULL_ROOT, cap: int = FULL_CAP) -> Path:
    """Build (or reuse) the full-size export; minutes of CPU on 2 cores."""
    from idcbq.sources.sample import build_sample

    started = time.perf_counter()
    build_sample(root, full=True, max_instances_per_series=cap)
    print(f"full export at {root} ({time.perf_counter() - started:.0f} s)", flush=True)
    return root


def _files(root: Path, table: str) -> list[Path]:
    return sorted((root / "bigquery_export" / "idc_v25" / table).glob("*.parquet"))


def _rows(files: list[Path]) -> int:
    import pyarrow.parquet as pq

    return sum(pq.ParquetFile(f).metadata.num_rows for f in files)


def _complete(f: Path) -> int | None:
    """Rows of a finished Parquet file; None while it is still being written (no footer)."""
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(f).metadata.num_rows
    except Exception:
        return None


def _link(src: Path, dst: Path) -> None:
    # Hard links survive the build's final rename of its temp dir; symlinks as a fallback.
    try:
        os.link(src, dst)
    except OSError:
        dst.symlink_to(src.resolve())


def sliced_root(full: Path, rows: int, small_from: Path | None = None) -> tuple[Path, int]:
    """An export root with the first files of ``full`` holding about ``rows`` instance rows.

    Returns the root and its exact ``dicom_all`` row count. The other per-instance tables
    get the same number of leading files (they are written chunk by chunk alongside it);
    the small tables and clinical datasets are linked whole, from ``small_from`` if given
    (used while the full build is still running: only its finished files are taken).
    """
    files = _files(full, "dicom_all")
    counts = [_complete(f) for f in files]
    k, total = 0, 0
    while k < len(files) and counts[k] is not None and total < rows:
        total += counts[k] or 0
        k += 1
    tag = "partial" if small_from else full.name
    root = OUT / f"scale-{tag}-{k}files"
    export = root / "bigquery_export"
    if not (root / ".complete").exists():
        src = full / "bigquery_export"
        small = (small_from or full) / "bigquery_export"
        main = export / "idc_v25"
        main.mkdir(parents=True, exist_ok=True)
        for table_dir in sorted((src / "idc_v25").iterdir()):
            if table_dir.name not in PER_INSTANCE:
                continue
            target = main / table_dir.name
            target.mkdir(exist_ok=True)
            for f in sorted(table_dir.glob("*.parquet"))[:k]:
                if _complete(f) is not None and not (target / f.name).exists():
                    _link(f, target / f.name)
        for table_dir in sorted((small / "idc_v25").iterdir()):
            target = main / table_dir.name
            if table_dir.name not in PER_INSTANCE and not target.exists():
                target.symlink_to(table_dir.resolve(), target_is_directory=True)
        for name, link in (
            ("idc_v25_clinical", (small / "idc_v25_clinical").resolve()),
            ("idc_current", Path("idc_v25")),
            ("idc_current_clinical", Path("idc_v25_clinical")),
        ):
            if not (export / name).is_symlink():
                (export / name).symlink_to(link, target_is_directory=True)
        (root / ".complete").write_text(str(total))
    return root, total


# --- the child: template catalog on one root ---------------------------------------------


def _child_templates(root: str, repeats: int) -> dict[str, Any]:
    import idcbq
    from bench._util import median_ms, peak_rss_mb, reset_peak_rss

    out: dict[str, Any] = {"templates": {}}
    started = time.perf_counter()
    with idcbq.connect(engine="duckdb", source=root, idc_version="v25") as client:
        out["open_ms"] = (time.perf_counter() - started) * 1000
        names = sorted(client.templates.templates)
        for name in names:
            template = client.template(name)
            examples = template.header.examples
            params = dict(next(iter(examples.values()))) if examples else {}
            reset_peak_rss()
            try:
                rows = client.query(name, **params).to_arrow().num_rows
                # The call above was the warm-up.
                ms = median_ms(
                    lambda n=name, p=params: client.query(n, **p), repeats=repeats, warmup=False
                )
                out["templates"][name] = {"ms": ms, "rows": rows, "rss_mb": peak_rss_mb()}
            except Exception as exc:  # a failing template is reported, not fatal
                out["templates"][name] = {"error": f"{type(exc).__name__}: {exc}"[:200]}
    return out


def measure_size(root: Path, repeats: int) -> dict[str, Any]:
    child = python_child("bench.scale", "--child", str(root), "--repeats", str(repeats))
    child.check(f"template run on {root}")
    result = json.loads(child.stdout.strip().splitlines()[-1])
    # The child resets VmHWM per template, which also resets what wait4 reports: take the max.
    per_template = [t.get("rss_mb", 0.0) for t in result["templates"].values()]
    result["peak_rss_mb"] = max([child.peak_rss_mb, *per_template])
    result["wall_s"] = child.seconds
    return result


# --- the child: manifest generation --------------------------------------------------------


def manifest_input(root: Path, rows: int) -> Path:
    """``rows`` manifest-ready instance rows of ``root`` as an Arrow IPC file (cached).

    The child memory-maps it, so its peak RSS is the manifest writer's plus the pages of
    the table it touches, not a Parquet decoder's leftovers.
    """
    import pyarrow as pa
    import pyarrow.dataset as ds

    from idcbq.manifest.model import DICOM_ALL_COLUMNS

    path = OUT / "manifests" / f"input-{root.name}-{rows}.arrow"
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    dataset = ds.dataset(str(root / "bigquery_export/idc_v25/dicom_all"), format="parquet")
    columns = [c for c in DICOM_ALL_COLUMNS if c in dataset.schema.names]
    table = pa.Table.from_batches(list(_head(dataset.to_batches(columns=columns), rows)))
    if table.num_rows < rows:  # a small export (--quick): tile it, with fresh instance uuids
        import uuid

        copies = -(-rows // table.num_rows)
        table = pa.concat_tables([table] * copies)
        fresh = [str(uuid.uuid5(uuid.NAMESPACE_OID, f"bench/{i}")) for i in range(table.num_rows)]
        at = table.schema.get_field_index("crdc_instance_uuid")
        table = table.set_column(at, "crdc_instance_uuid", pa.array(fresh))
    table = table.slice(0, rows).combine_chunks()
    tmp = path.with_suffix(".tmp")
    with pa.OSFile(str(tmp), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table, max_chunksize=65_536)
    tmp.replace(path)
    return path


def _current_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _child_manifest(source: str, fmt: str, dest: str) -> dict[str, Any]:
    """Time one manifest write in this (fresh) process.

    ``source`` ending in ``.arrow`` is memory-mapped as a whole table first (the Python
    API on a result already in memory); ``.parquet`` is a results file streamed batch by
    batch, as ``idcbq manifest results.parquet`` reads it.
    """
    import pyarrow as pa

    from idcbq.manifest import write_manifest

    if source.endswith(".parquet"):
        from idcbq.manifest.readers import read_table

        schema, batches, _ = read_table(source)
        data: Any = pa.RecordBatchReader.from_batches(schema, batches)
        table_mb = 0.0
    else:
        data = pa.ipc.open_file(pa.memory_map(source)).read_all()
        table_mb = data.nbytes / 2**20
    base = _current_rss_mb()
    started = time.perf_counter()
    prov = write_manifest(data, dest, format=fmt, provider="aws")
    seconds = time.perf_counter() - started
    return {
        "rows": prov["instances"],
        "seconds": seconds,
        "table_mb": table_mb,
        "before_mb": base,
        "bytes": os.path.getsize(dest),
    }


def results_file(arrow_input: Path) -> Path:
    """The same rows as a zstd Parquet results file (like ``idcbq query --out``), cached."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = arrow_input.with_suffix(".parquet")
    if not path.exists():
        table = pa.ipc.open_file(pa.memory_map(str(arrow_input))).read_all()
        tmp = path.with_suffix(".tmp")
        pq.write_table(table, tmp, compression="zstd", row_group_size=65_536)
        tmp.replace(path)
    return path


def _head(batches: Any, rows: int) -> Any:
    seen = 0
    for batch in batches:
        if seen >= rows:
            return
        yield batch
        seen += batch.num_rows


def measure_manifests(root: Path, rows: int) -> list[dict[str, Any]]:
    arrow_input = manifest_input(root, rows)
    inputs = {"in-memory table": arrow_input, "results file (streamed)": results_file(arrow_input)}
    out = []
    for source_label, source in inputs.items():
        for fmt in MANIFEST_FORMATS:
            dest = source.parent / f"m{rows}.{fmt}"
            child = python_child("bench.scale", "--manifest-child", str(source), fmt, str(dest))
            child.check(f"manifest {fmt} from {source_label}")
            r = json.loads(child.stdout.strip().splitlines()[-1])
            r.update(format=fmt, source=source_label, rss_mb=child.peak_rss_mb)
            out.append(r)
            dest.unlink(missing_ok=True)
    return out


# --- printing ----------------------------------------------------------------------------


def print_sizes(sizes: list[tuple[str, int, int, dict[str, Any]]], repeats: int) -> None:
    print(
        f"\nexports measured (DuckDB engine, local Parquet, fresh process per size; median of {repeats})"
    )
    print(
        format_table(
            [
                "size",
                "dicom_all rows",
                "files",
                "on disk",
                "engine open ms",
                "child peak RSS MB",
                "child wall s",
            ],
            [
                [
                    label,
                    rows,
                    nfiles,
                    human_bytes(disk),
                    r["open_ms"],
                    r["peak_rss_mb"],
                    r["wall_s"],
                ]
                for label, rows, (nfiles, disk), r in [(s[0], s[1], s[2], s[3]) for s in sizes]
            ],
        )
    )
    base_label = sizes[0][0]
    names = sorted({n for s in sizes for n in s[3]["templates"]})
    headers = ["template"]
    for label, *_ in sizes:
        headers += [f"{label} ms"]
    for label, *_ in sizes[1:]:
        headers += [f"{label}/{base_label}"]
    headers += [f"peak MB ({sizes[-1][0]})", f"rows ({sizes[-1][0]})"]
    table, ratios, errors = [], {label: [] for label, *_ in sizes[1:]}, []
    for name in names:
        cells: list[Any] = [name]
        base = sizes[0][3]["templates"].get(name, {})
        for _, _, _, r in sizes:
            t = r["templates"].get(name, {})
            cells.append(t.get("ms", float("nan")))
            if "error" in t:
                errors.append(f"{name}: {t['error']}")
        for label, _, _, r in sizes[1:]:
            t = r["templates"].get(name, {})
            if "ms" in t and "ms" in base and base["ms"] > 0:
                ratio = t["ms"] / base["ms"]
                ratios[label].append(ratio)
                cells.append(f"{ratio:.1f}x")
            else:
                cells.append("-")
        last = sizes[-1][3]["templates"].get(name, {})
        cells += [last.get("rss_mb", float("nan")), last.get("rows", "-")]
        table.append(cells)
    print("\ntemplate catalog on DuckDB: median ms per template by export size, ratio vs smallest")
    print(format_table(headers, table))
    row_ratio = {label: rows / sizes[0][1] for label, rows, *_ in sizes[1:]}
    for label, rs in ratios.items():
        if rs:
            print(
                f"{label}: rows x{row_ratio[label]:.1f} -> median time x{statistics.median(rs):.1f} "
                f"(max x{max(rs):.1f}) over {len(rs)} templates"
            )
    for e in sorted(set(errors)):
        print(f"  error: {e}")


def print_manifests(rows: list[dict[str, Any]]) -> None:
    print(
        "\nmanifest generation (write_manifest, provider aws, fresh child process); "
        "targets < 3 s and < 500 MB peak RSS"
    )
    print(
        format_table(
            [
                "input",
                "format",
                "rows",
                "seconds",
                "child peak RSS MB",
                "RSS before write MB",
                "table MB",
                "file MB",
                "target",
            ],
            [
                [
                    r["source"],
                    r["format"],
                    r["rows"],
                    r["seconds"],
                    r["rss_mb"],
                    r["before_mb"],
                    r["table_mb"],
                    r["bytes"] / 2**20,
                    "ok" if r["seconds"] < 3 and r["rss_mb"] < 500 else "MISSED",
                ]
                for r in rows
            ],
        )
    )


# --- entry point ---------------------------------------------------------------------------


def _label(rows: int) -> str:
    return f"{rows / 1e6:.1f}M" if rows >= 1_000_000 else f"{rows / 1e3:.0f}k"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench scale", description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="embedded sample only, 1 repeat")
    ap.add_argument("--build", action="store_true", help="build the full export if missing")
    ap.add_argument(
        "--partial",
        action="store_true",
        help="use the finished files of a full build still running (sizes from --sizes)",
    )
    ap.add_argument("--full-root", type=Path, default=FULL_ROOT)
    ap.add_argument("--sizes", default=None, help="comma-separated row counts (plus the full size)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--manifest-rows", type=int, default=None)
    ap.add_argument("--skip-templates", action="store_true")
    ap.add_argument("--skip-manifests", action="store_true")
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--manifest-child", nargs=3, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(_child_templates(args.child, args.repeats)))
        return 0
    if args.manifest_child:
        print(json.dumps(_child_manifest(*args.manifest_child)))
        return 0

    sizes: list[tuple[str, int, tuple[int, int], Path]] = []
    if args.quick:
        from idcbq.sources.sample import ensure_sample
        from idcbq.sources.sample.paths import default_sample_root

        root = Path(ensure_sample(default_sample_root()))
        files = _files(root, "dicom_all")
        sizes.append(
            (
                "sample",
                _rows(files),
                (len(files), dir_bytes(root / "bigquery_export/idc_v25")),
                root,
            )
        )
        repeats = 1
        manifest_root, manifest_rows = root, args.manifest_rows or 100_000
    else:
        full = args.full_root
        partial = None
        if (
            args.partial
        ):  # the full build still running: its finished files, small tables of the sample
            from idcbq.sources.sample import ensure_sample
            from idcbq.sources.sample.paths import default_sample_root

            partial = Path(ensure_sample(default_sample_root()))
            full = next(full.parent.glob(f".{full.name}.tmp-*"))
        elif not (full / "idcbq_sample.json").exists():
            if not args.build:
                print(
                    f"no full-size export at {full}: build it once with "
                    f"`python -m bench.scale --build` (~22 min on 2 shared cores), "
                    f"or use --quick; measuring the embedded sample instead"
                )
                return main(["--quick", *(argv or [])])
            build_full(full)
        wanted = [int(s) for s in args.sizes.split(",")] if args.sizes else list(DEFAULT_SIZES)
        full_files = _files(full, "dicom_all")
        full_rows = sum(_complete(f) or 0 for f in full_files)
        for rows in sorted(wanted):
            if rows <= full_rows:
                root, exact = sliced_root(full, rows, small_from=partial)
                sizes.append(
                    (
                        _label(exact),
                        exact,
                        (
                            len(_files(root, "dicom_all")),
                            dir_bytes(root / "bigquery_export/idc_v25"),
                        ),
                        root,
                    )
                )
        if not partial:
            sizes.append(
                (
                    f"full {_label(full_rows)}",
                    full_rows,
                    (len(full_files), dir_bytes(full / "bigquery_export/idc_v25")),
                    full,
                )
            )
        repeats = args.repeats
        manifest_root, manifest_rows = sizes[-1][3], args.manifest_rows or 1_000_000

    if not args.skip_templates:
        measured = []
        for label, rows, files, root in sizes:
            print(f"measuring {label} ({rows:,} rows) ...", flush=True)
            measured.append((label, rows, files, measure_size(root, repeats)))
        print_sizes(measured, repeats)
    if not args.skip_manifests:
        print_manifests(measure_manifests(manifest_root, manifest_rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
