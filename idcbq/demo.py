"""``make demo``: the main job end to end on the embedded default, offline.

1. Build (or reuse) the embedded sample export: IDC's Parquet layout, derived from idc-index-data.
2. Answer a per-modality summary with DuckDB through a named template.
3. Start a local GCS server seeded with real DICOM files for some sample series.
4. Pick a cohort with a template, write manifests, download it, verify every file.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path

DEMO_DIR = Path("demo-output")


def _table(result: object, title: str) -> None:
    from rich.console import Console
    from rich.table import Table

    arrow = result.to_arrow()  # type: ignore[attr-defined]
    table = Table(title=title, title_justify="left")
    for name in arrow.column_names:
        table.add_column(
            name,
            justify="right"
            if arrow.schema.field(name).type.num_fields == 0
            and str(arrow.schema.field(name).type).startswith(("int", "double", "uint"))
            else "left",
        )
    for row in arrow.to_pylist():
        table.add_row(
            *("" if v is None else f"{v:,}" if isinstance(v, int) else str(v) for v in row.values())
        )
    Console().print(table)


def main() -> int:
    import idcbq
    from idcbq.sources.sample import ensure_sample
    from idcbq.sources.sample.seed import seed_gcs, seedable_series_uids
    from idcbq.testing.servers import FakeGcsServer

    started = time.perf_counter()
    root = ensure_sample()
    info = json.loads((root / "idcbq_sample.json").read_text(encoding="utf-8"))
    rows = info.get("counts", {}).get("rows", {})
    print(f"embedded sample: {root}")
    print(
        f"  IDC {info.get('idc_version')}: {len(info.get('collections', []))} collections, "
        f"{info.get('counts', {}).get('series', '?')} series, {rows.get('dicom_all', '?'):,} dicom_all rows"
    )
    print(
        "  (a derived sample built from the idc-index-data series index; not IDC's instance-level data)"
    )
    print(f"  ready in {time.perf_counter() - started:.1f} s\n")

    client = idcbq.connect(engine="duckdb", source=str(root))
    t0 = time.perf_counter()
    summary = client.query("summary.modalities")
    _table(
        summary,
        f"Per modality, computed by DuckDB over the sample ({(time.perf_counter() - t0) * 1000:.0f} ms)",
    )

    uids = seedable_series_uids(root)
    with FakeGcsServer() as gcs:
        seeded = seed_gcs(root, gcs.url)
        print(
            f"\nlocal GCS server at {gcs.url}: seeded {seeded.objects} real DICOM files "
            f"({seeded.bytes:,} bytes) of {len(seeded.series)} series into {', '.join(seeded.buckets)}"
        )
        cohort = client.query("manifest.instances_of_series", series_uids=uids[:12])
        print(
            f"cohort: {len(cohort)} instances of {len(set(cohort.to_arrow().column('SeriesInstanceUID').to_pylist()))} series"
        )

        from idcbq.download import download
        from idcbq.manifest import write_manifest

        if DEMO_DIR.exists():
            shutil.rmtree(DEMO_DIR)
        DEMO_DIR.mkdir()
        for fmt, name in (
            ("s5cmd", "cohort.s5cmd"),
            ("urls", "cohort.txt"),
            ("jsonl", "cohort.jsonl"),
        ):
            write_manifest(cohort, DEMO_DIR / name, format=fmt, provider="gcs")
        print(f"manifests: {', '.join(str(p) for p in sorted(DEMO_DIR.iterdir()))}")
        report = download(
            DEMO_DIR / "cohort.jsonl", DEMO_DIR / "files", endpoint=gcs.url, quiet=True
        )
        print("\n" + report.summary())
        again = download(
            DEMO_DIR / "cohort.jsonl", DEMO_DIR / "files", endpoint=gcs.url, quiet=True
        )
        print(
            f"re-run (resume check): {again.skipped} already present and verified, {again.downloaded} downloaded"
        )
    ok = report.ok and again.ok
    print(f"\ndemo {'finished' if ok else 'FAILED'} in {time.perf_counter() - started:.1f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
