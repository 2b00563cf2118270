"""``idcbq sample``: build the derived IDC sample export, or seed a local GCS server with it."""

from __future__ import annotations

import importlib
import time
from pathlib import Path

import click

from idcbq.errors import UsageError

#: Per-series instance cap of ``--full``: 3,748,871 dicom_all rows, 3.2 GB, ~22 min on 2 shared cores (measured).
FULL_MAX_INSTANCES_PER_SERIES = 8


def _split(text: str | None) -> list[str] | None:
    if text is None:
        return None
    return [part.strip() for part in text.split(",") if part.strip()]


@click.group(
    name="sample",
    epilog="\b\nExamples:\n  idcbq sample build\n  idcbq sample seed --endpoint http://127.0.0.1:4443 --series 3",
)
def sample() -> None:
    """Build or seed the embedded IDC sample export (derived from idc-index-data)."""


@sample.command(
    name="build",
    epilog="\b\nExample:\n  idcbq sample build --dest /tmp/idc --collections qin_pet_phantom,mri_dir",
)
@click.option(
    "--dest",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Export root to write (default: the user cache's sample dir).",
)
@click.option(
    "--collections",
    default=None,
    metavar="A,B,...",
    help="Comma-separated IDC collection ids (default: the built-in selection).",
)
@click.option(
    "--max-instances-per-series",
    type=click.IntRange(min=1),
    default=None,
    help="Cap on instance rows per series (default: 32; 8 with --full).",
)
@click.option(
    "--full",
    is_flag=True,
    help="All 1,044,191 series of the index (large: 3.75M rows, 3.2 GB at 8 per series).",
)
@click.option("--force", is_flag=True, help="Rebuild even if DEST holds the same build.")
def build(
    dest: Path | None,
    collections: str | None,
    max_instances_per_series: int | None,
    full: bool,
    force: bool,
) -> None:
    """Build the derived sample export under DEST.

    Writes DEST/bigquery_export/{idc_v25,idc_current}[_clinical]/<table>/*.parquet,
    DEST/README.md and DEST/idcbq_sample.json.
    """
    from idcbq.sources.sample import build_sample
    from idcbq.sources.sample.paths import default_sample_root
    from idcbq.sources.sample.select import DEFAULT_MAX_INSTANCES_PER_SERIES

    root = dest or default_sample_root()
    wanted = _split(collections)
    if collections is not None and not wanted:
        raise UsageError(f"--collections {collections!r}: no collection ids given")
    cap = max_instances_per_series or (
        FULL_MAX_INSTANCES_PER_SERIES if full else DEFAULT_MAX_INSTANCES_PER_SERIES
    )
    started = time.perf_counter()
    build_sample(root, collections=wanted, max_instances_per_series=cap, full=full, force=force)
    elapsed = time.perf_counter() - started
    _report(Path(root), elapsed)


def _report(root: Path, elapsed: float) -> None:
    import json

    manifest = json.loads((root / "idcbq_sample.json").read_text())
    size = sum(p.stat().st_size for p in (root / "bigquery_export").rglob("*.parquet"))
    rows = manifest["counts"]["rows"]
    click.echo(f"sample: {root}")
    click.echo(
        f"  collections: {len(manifest['collections'])}  series: {manifest['counts']['series']}"
        f"  dicom_all rows: {rows['dicom_all']}"
    )
    for name, count in sorted(rows.items()):
        click.echo(f"  {name:<45} {count:>10}")
    click.echo(f"  seedable series: {len(manifest['seedable_series'])}")
    click.echo(
        f"  size on disk: {size / 1e6:.1f} MB (both idc_v25 and idc_current)  time: {elapsed:.1f} s"
    )


@sample.command(
    name="seed",
    epilog="\b\nExample:\n  idcbq sample seed --endpoint http://127.0.0.1:4443 --series 5",
)
@click.option("--endpoint", required=True, help="URL of a GCS-compatible server (fake-gcs-server).")
@click.option(
    "--series",
    "n_series",
    type=click.IntRange(min=1),
    default=None,
    help="Upload only the first N seedable series.",
)
@click.option("--collections", default=None, metavar="A,B,...", help="Only these collections.")
@click.option(
    "--source",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Sample export root (default: the built-in sample, built if missing).",
)
def seed(endpoint: str, n_series: int | None, collections: str | None, source: Path | None) -> None:
    """Upload generated DICOM files of the sample's seedable series to a GCS server."""
    from idcbq.sources.sample import ensure_sample

    try:
        module = importlib.import_module("idcbq.sources.sample.seed")
    except ModuleNotFoundError as exc:
        if exc.name == "idcbq.sources.sample.seed":
            raise UsageError(
                "'idcbq sample seed' is not available in this build "
                "(module idcbq.sources.sample.seed is missing)"
            ) from None
        raise
    root = ensure_sample(source) if source is None else source
    if not (Path(root) / "bigquery_export").is_dir():
        raise UsageError(f"{root}: not a sample export root (no bigquery_export/)")
    result = module.seed_gcs(root, endpoint, series=n_series, collections=_split(collections))
    if result is not None:
        summary = getattr(result, "summary", None)
        click.echo(summary() if callable(summary) else str(result))
