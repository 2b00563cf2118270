"""``idcbq mirror``: a local, query-ready copy of the part of IDC's export you need."""

from __future__ import annotations

import json

import click


@click.command("mirror")
@click.option("--source", default="s3://idc-open-metadata", show_default=True,
              help="Export root: s3://bucket[/prefix], gs://bucket[/prefix] or a local directory.")  # fmt: skip
@click.option("--idc-version", default="current", show_default=True,
              help="vNN, or current (the newest idc_vNN in the source).")  # fmt: skip
@click.option("--tables", default="dicom_all", show_default=True,
              help="Comma-separated tables of the release; clinical.NAME for a table of "
                   "its clinical dataset.")  # fmt: skip
@click.option("--columns", default="templates", show_default=True,
              help="templates | idc-index | all | comma-separated column names "
                   "(for wide tables; narrow tables are copied whole).")  # fmt: skip
@click.option("--collections", default=None,
              help="Comma-separated collection_id values: keep only their rows "
                   "(only row groups that can hold them are fetched).")  # fmt: skip
@click.option("--dest", "-d", required=True, type=click.Path(file_okay=False),
              help="Mirror directory (becomes an export root for --source).")  # fmt: skip
@click.option("--workers", "-w", default=8, show_default=True, type=click.IntRange(1, 128),
              help="Files fetched in parallel.")  # fmt: skip
@click.option("--endpoint", default=None,
              help="Storage endpoint URL (S3 or GCS emulator); default: the provider's.")  # fmt: skip
@click.option("--no-footer-cache", is_flag=True, help="Neither use nor fill the footer cache.")
@click.option("--json", "as_json", is_flag=True, help="Print the run report as JSON.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def mirror(
    source: str,
    idc_version: str,
    tables: str,
    columns: str,
    collections: str | None,
    dest: str,
    workers: int,
    endpoint: str | None,
    no_footer_cache: bool,
    as_json: bool,
    quiet: bool,
) -> None:
    """Copy the needed columns/row groups of IDC's Parquet export to DEST.

    Only the chosen columns' chunks (and, with --collections, the row groups whose
    statistics admit them) are fetched, and with --collections only those collections'
    rows are kept. The mirror answers --idc-version current as the release it holds. Rerunning resumes an interrupted mirror, fetches
    a new release's changed files only, and fetches only newly added columns. Then run
    any template with --source DEST: no Google account, no network.

    \b
    Examples:
      idcbq mirror --dest ~/idc-mirror
      idcbq mirror --dest ~/idc-mirror --columns idc-index --collections nlst,tcga_luad
      idcbq query cohort.series_by_modality -p modalities=CT --source ~/idc-mirror
    """
    from idcbq.sources.mirror import mirror as run_mirror

    s3 = endpoint if endpoint and source.startswith("s3://") else None
    gcs = endpoint if endpoint and source.startswith(("gs://", "gcs://")) else None
    report = run_mirror(
        source,
        dest,
        idc_version=idc_version,
        tables=[t.strip() for t in tables.split(",") if t.strip()],
        columns=columns,
        collections=[c.strip() for c in collections.split(",")] if collections else None,
        workers=workers,
        s3_endpoint=s3,
        gcs_endpoint=gcs,
        progress=False if quiet or as_json else None,
        footer_cache=not no_footer_cache,
    )
    if as_json:
        out = {k: v for k, v in vars(report).items() if k != "dest"}
        click.echo(json.dumps({"dest": str(report.dest), **out}, indent=2))
    else:
        click.echo(report.summary())
        click.echo(f"query it: idcbq query <template> --source {report.dest}")
