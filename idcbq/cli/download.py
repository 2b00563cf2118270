"""``idcbq download``: fetch the files of a manifest, verified, into a folder."""

from __future__ import annotations

import click

from idcbq.manifest.model import PROVIDERS


@click.command("download")
@click.argument("manifest", type=click.Path(dir_okay=False))
@click.option(
    "--dest", "-d", required=True, type=click.Path(file_okay=False), help="Destination folder."
)
@click.option("--workers", "-w", default=64, show_default=True, type=click.IntRange(1, 512),
              help="Concurrent transfers.")  # fmt: skip
@click.option("--dir-template", default=None,
              help="Layout under --dest with %column placeholders "
                   "[default: %collection_id/%PatientID/%StudyInstanceUID/%Modality_%SeriesInstanceUID; "
                   "%crdc_series_uuid for s5cmd/URL lists].")  # fmt: skip
@click.option(
    "--dry-run", is_flag=True, help="Print the plan (files, bytes, free space, layout) only."
)
@click.option("--anonymous/--no-anonymous", default=True, show_default=True,
              help="Anonymous access to public buckets.")  # fmt: skip
@click.option(
    "--project",
    default=None,
    help="Use Google credentials, billed to this project (implies --no-anonymous).",
)
@click.option(
    "--endpoint",
    default=None,
    help="Storage endpoint URL (default: the provider's public endpoint).",
)
@click.option("--provider", type=click.Choice(PROVIDERS), default=None,
              help="Fetch from GCS or IDC's AWS buckets (default: the manifest's).")  # fmt: skip
@click.option("--quiet", "-q", is_flag=True, help="No progress bar; summary only.")
@click.option("--report", "report_path", type=click.Path(dir_okay=False), default=None,
              help="Also write the run report (JSON) here.")  # fmt: skip
@click.option(
    "--allow-bucket",
    "allow_buckets",
    multiple=True,
    metavar="NAME",
    help="Also fetch from this non-IDC bucket (repeatable); others are refused.",
)
@click.option(
    "--no-fsync",
    is_flag=True,
    help="Skip fsync before the atomic rename (faster on scratch disks; after a power cut the "
    "next run detects incomplete files and fetches them again).",
)
@click.option(
    "--retries", default=5, show_default=True, type=click.IntRange(1, 50), help="Attempts per file."
)
@click.pass_context
def download(ctx: click.Context, manifest: str, dest: str, workers: int, dir_template: str | None,
             dry_run: bool, anonymous: bool, project: str | None, endpoint: str | None,
             provider: str | None, quiet: bool, report_path: str | None, allow_buckets: tuple[str, ...], no_fsync: bool, retries: int) -> None:  # fmt: skip
    """Download every file of MANIFEST into --dest; exit 0 only if all are verified.

    MANIFEST is an idcbq manifest (parquet/jsonl/csv), an IDC portal / idc-index
    s5cmd file, a gs:// / s3:// URL list, or a query results file.

    \b
    Examples:
      idcbq download ct.parquet --dest data/ --workers 64
      idcbq download portal.s5cmd --dest data/ --provider aws
      idcbq download ct.parquet --dest data/ --dry-run
    """
    from pathlib import Path

    from idcbq.download import DryRun
    from idcbq.download import download as run
    from idcbq.errors import DownloadError

    quiet = quiet or bool((ctx.obj or {}).get("quiet"))
    result = run(
        manifest, dest, workers=workers, template=dir_template, provider=provider, endpoint=endpoint,
        anonymous=anonymous and project is None, project=project, quiet=quiet, dry_run=dry_run,
        attempts=retries, fsync=not no_fsync, allow_buckets=allow_buckets,
    )  # fmt: skip
    if isinstance(result, DryRun):
        click.echo(result.summary())
        if not result.fits:
            raise DownloadError(
                f"not enough free space in {dest} for {result.plan.total_bytes} bytes"
            )
        return
    if report_path:
        Path(report_path).write_text(result.to_json(), encoding="utf-8")
    click.echo(result.summary(), err=not result.ok)
    if not result.ok:
        raise DownloadError(
            f"{len(result.failed)} of {result.planned} files failed or could not be verified"
        )
