"""Remote Parquet: bytes DuckDB really reads from S3 (moto) and GCS (fake-gcs-server).

The export's ``dicom_all`` files are uploaded to both local servers; a
:class:`~idcbq.testing.counting_proxy.CountingProxy` sits between the DuckDB engine
and each server and counts response bytes. Two 3-column queries:

* ``projection``: ``SELECT SeriesInstanceUID, Modality, instance_size FROM dicom_all``
  (all rows): should read about the three columns' chunks, not the files;
* ``projection + pruning``: the same with ``WHERE collection_id = $c`` for one
  collection: the export is ordered by collection, so row groups whose
  ``collection_id`` min/max exclude ``c`` should not be fetched at all.

Floors come from the Parquet footers: the compressed size of the needed column
chunks (all row groups, or only those whose statistics admit ``c``).

    python -m bench remote_parquet              # the 1M-row slice of the full export
    python -m bench.remote_parquet --quick      # the embedded sample
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from bench._util import format_table, human_bytes

COLUMNS = ("SeriesInstanceUID", "Modality", "instance_size")
#: Takes --quick (see bench/__main__.py).
QUICK = True
BUCKET = "idcbq-bench-export"


def _files(root: Path) -> list[Path]:
    return sorted((root / "bigquery_export/idc_v25/dicom_all").glob("*.parquet"))


def footer_floors(files: list[Path], collection: str) -> dict[str, int]:
    """Total bytes, needed-chunk bytes, and needed-chunk bytes of row groups admitting ``collection``."""
    import pyarrow.parquet as pq

    total = chunks = pruned = 0
    groups = kept = 0
    need = set(COLUMNS) | {"collection_id"}
    for f in files:
        total += f.stat().st_size
        meta = pq.ParquetFile(f).metadata
        for g in range(meta.num_row_groups):
            rg = meta.row_group(g)
            groups += 1
            cols = {rg.column(c).path_in_schema: rg.column(c) for c in range(rg.num_columns)}
            size = sum(cols[c].total_compressed_size for c in COLUMNS)
            chunks += size
            st = cols["collection_id"].statistics
            if st is None or not st.has_min_max or st.min <= collection <= st.max:
                kept += 1
                pruned += sum(cols[c].total_compressed_size for c in need)
    return {"total": total, "chunks": chunks, "pruned": pruned, "groups": groups, "kept": kept}


def pick_collection(files: list[Path]) -> str:
    """A collection in the middle of the export (so pruning has row groups on both sides)."""
    import pyarrow.parquet as pq

    mid = files[len(files) // 2]
    table = pq.read_table(mid, columns=["collection_id"])
    return table.column(0)[table.num_rows // 2].as_py()


def measure(provider: str, endpoint: str, collection: str) -> list[dict[str, Any]]:
    from idcbq.engines.duckdb import DuckDBEngine
    from idcbq.testing.counting_proxy import CountingProxy

    scheme = "s3" if provider == "aws" else "gs"
    key = "s3_endpoint" if provider == "aws" else "gcs_endpoint"
    out = []
    cols = ", ".join(COLUMNS)
    queries = (
        ("projection", f"SELECT {cols} FROM dicom_all", {}),
        (
            "projection + pruning",
            f"SELECT {cols} FROM dicom_all WHERE collection_id = $c",
            {"c": collection},
        ),
    )
    for label, sql, params in queries:
        # A fresh engine per query: DuckDB caches remote bytes in memory between queries.
        with (
            CountingProxy(endpoint) as proxy,
            DuckDBEngine.from_options(
                source=f"{scheme}://{BUCKET}/export", idc_version="v25", **{key: proxy.url}
            ) as eng,
        ):
            opened = proxy.bytes_in
            proxy.reset()
            started = time.perf_counter()
            rows = eng.sql(sql, params).num_rows
            out.append(
                {
                    "provider": provider,
                    "query": label,
                    "rows": rows,
                    "bytes": proxy.bytes_in,
                    "requests": len(proxy.requests),
                    "seconds": time.perf_counter() - started,
                    "open_bytes": opened,
                }
            )
    return out


def upload(provider: str, endpoint: str, root: Path) -> None:
    from idcbq.sources.sample.seed import upload_objects

    rel = "export/bigquery_export/idc_v25/dicom_all"
    objects = [(BUCKET, f"{rel}/{f.name}", f.read_bytes()) for f in _files(root)]
    upload_objects(provider, endpoint, objects, workers=4)


def default_root() -> Path:
    """The smallest slice of the cached full export if any, else the embedded sample."""
    from bench._util import OUT

    slices = sorted(OUT.glob("scale-full-*files"), key=lambda p: int(p.name.split("-")[-1][:-5]))
    if slices:
        return slices[0]
    from idcbq.sources.sample import ensure_sample
    from idcbq.sources.sample.paths import default_sample_root

    return Path(ensure_sample(default_sample_root()))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench remote_parquet")
    ap.add_argument("--quick", action="store_true", help="the embedded sample")
    ap.add_argument("--root", type=Path, default=None, help="export root to upload")
    args = ap.parse_args(argv)
    if args.root:
        root = args.root
    elif args.quick:
        from idcbq.sources.sample import ensure_sample
        from idcbq.sources.sample.paths import default_sample_root

        root = Path(ensure_sample(default_sample_root()))
    else:
        root = default_root()
    from idcbq.testing.servers import FakeGcsServer, MotoS3Server

    files = _files(root)
    collection = pick_collection(files)
    floors = footer_floors(files, collection)
    rows: list[dict[str, Any]] = []
    with MotoS3Server() as s3, FakeGcsServer() as gcs:
        for provider, server in (("aws", s3), ("gcs", gcs)):
            upload(provider, server.url, root)
            rows += measure(provider, server.url, collection)
    print(
        f"export: {root} dicom_all, {len(files)} files, {human_bytes(floors['total'])}; "
        f"3 columns {', '.join(COLUMNS)}; filter collection_id = {collection!r} "
        f"({floors['kept']} of {floors['groups']} row groups admit it)"
    )
    table = []
    for r in rows:
        floor = floors["chunks"] if r["query"] == "projection" else floors["pruned"]
        table.append(
            [
                "S3 (moto)" if r["provider"] == "aws" else "GCS (fake-gcs)",
                r["query"],
                r["rows"],
                human_bytes(r["bytes"]),
                f"{r['bytes'] / floors['total']:.1%}",
                human_bytes(floor),
                f"{r['bytes'] / floor:.2f}x" if floor else "-",
                r["requests"],
                r["seconds"],
                human_bytes(r["open_bytes"]),
            ]
        )
    print(
        format_table(
            [
                "server",
                "query",
                "rows",
                "bytes read",
                "of export",
                "floor (chunks)",
                "read/floor",
                "requests",
                "seconds",
                "engine open",
            ],
            table,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
