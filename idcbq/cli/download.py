"""``idcbq download``: fetch the files of a manifest, verified, into a folder."""

from __future__ import annotations

import click

from idcbq.cli.dicomweb_options import dicomweb_options
from idcbq.manifest.model import PROVIDERS


@click.command("download")
@dicomweb_options
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
              help="Also write the run report (JSON) here; with --dry-run, the plan "
                   "(planned_files, planned_bytes). `idcbq report` sums shards' reports.")  # fmt: skip
@click.option("--shard", default=None, metavar="I/N|auto",
              help="Fetch only shard I of N (0-based; series are never split), or 'auto': the "
                   "task index and count of Cloud Batch, Cloud Run jobs or a Kubernetes indexed Job.")  # fmt: skip
@click.option("--shard-count", default=None, type=click.IntRange(1), metavar="N",
              help="Number of shards for --shard auto under Kubernetes, which sets only "
                   "JOB_COMPLETION_INDEX [default: $IDCBQ_SHARD_COUNT].")  # fmt: skip
@click.option("--state-dir", default=None, type=click.Path(file_okay=False),
              help="Keep the lock and resume state here (a local disk) instead of in --dest; "
                   "required when --dest is a network or FUSE mount (gcsfuse, NFS, SMB).")  # fmt: skip
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
@click.option("--timeout", default=30.0, show_default=True, type=click.FloatRange(0.1, 86400),
              help="Seconds without a byte (or a connection) before an attempt is given up; each "
                   "attempt also ends after this plus the file's size at --min-rate.")  # fmt: skip
@click.option("--min-rate", default="32K", show_default=True, metavar="BYTES/S",
              help="Slowest acceptable transfer rate per file (suffix K, M; 0: no limit).")  # fmt: skip
@click.pass_context
def download(ctx: click.Context, manifest: str, dest: str, workers: int, dir_template: str | None,
             dry_run: bool, anonymous: bool, project: str | None, endpoint: str | None,
             provider: str | None, quiet: bool, report_path: str | None, shard: str | None,
             shard_count: int | None, state_dir: str | None, allow_buckets: tuple[str, ...],
             no_fsync: bool, retries: int, timeout: float, min_rate: str) -> None:  # fmt: skip
    """Download every file of MANIFEST into --dest; exit 0 only if all are verified.

    MANIFEST is an idcbq manifest (parquet/jsonl/csv), an IDC portal / idc-index
    s5cmd file, a gs:// / s3:// URL list, or a query results file; it may itself be
    at a gs:// or s3:// URL (read with this machine's credentials, else anonymously;
    endpoints from STORAGE_EMULATOR_HOST / AWS_ENDPOINT_URL). A manifest that lists no
    files (empty, or only a header or comments) is a no-op that exits 0.

    With --shard I/N several machines split one manifest by series: shards may share
    --dest (each keeps its own lock and resume state). On gcsfuse, NFS or other
    network/FUSE mounts, locks and SQLite are unreliable: give --state-dir on a local
    disk (without it such a --dest is refused).

    Exit codes: 0 all files verified; 2 bad input (e.g. --shard auto outside a batch
    task); 5 some failed (or the endpoint was unreachable); 7 another download is
    using --dest (or the same shard of it); 8 --dest cannot be written (no space,
    read-only, permission denied, not a directory).

    \b
    Examples:
      idcbq download ct.parquet --dest data/ --workers 64
      idcbq download portal.s5cmd --dest data/ --provider aws
      idcbq download ct.parquet --dest data/ --dry-run
      idcbq download gs://my-bucket/ct.parquet --dest /mnt/disks/data --shard auto
      idcbq download ct.parquet --dest data/ --shard 2/8 --report shard-2.json
    """
    from idcbq.download import DryRun
    from idcbq.download import download as run
    from idcbq.download.shard import resolve_shard
    from idcbq.errors import DownloadError, LocalFileError

    quiet = quiet or bool((ctx.obj or {}).get("quiet"))
    part = resolve_shard(shard, count=shard_count)
    result = run(
        manifest, dest, workers=workers, template=dir_template, provider=provider, endpoint=endpoint,
        anonymous=anonymous and project is None, project=project, quiet=quiet, dry_run=dry_run,
        attempts=retries, fsync=not no_fsync, allow_buckets=allow_buckets, timeout=timeout,
        min_rate=_rate(min_rate), shard=part, state_dir=state_dir,
    )  # fmt: skip
    if report_path:
        write_report(report_path, result.to_json())
    if isinstance(result, DryRun):
        click.echo(result.summary())
        if not result.fits:
            raise DownloadError(
                f"not enough free space in {dest} for {result.plan.total_bytes} bytes"
            )
        return
    click.echo(result.summary(), err=not result.ok)
    if not result.ok:
        if result.abort_kind == "local":
            raise LocalFileError(
                f"download into {dest} stopped: {result.aborted}",
                hint="free some space or make the destination writable, then re-run the same command",
            )
        if result.abort_kind == "unreachable":
            raise DownloadError(f"download stopped: {result.aborted}",
                                hint="check --endpoint and the network, then re-run the same command")  # fmt: skip
        raise DownloadError(
            f"{len(result.failed)} of {result.planned} files failed or could not be verified"
        )


def write_report(path: str, text: str) -> None:
    """Write a report file whole (temp file, then rename): a reader never sees half of it."""
    import os
    import tempfile
    from pathlib import Path

    from idcbq.io.localfs import check_output_file, fs_error, publish

    target = Path(check_output_file(path))
    try:
        target.parent.mkdir(parents=True, exist_ok=True)  # e.g. reports/ on a shared mount
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent or ".")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text + "\n")
            publish(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise fs_error(exc, path) from exc


def _rate(text: str) -> float:
    """``32K`` -> 32768.0 bytes/s; ``0`` turns the minimum-rate rule off."""
    from idcbq.errors import UsageError

    value = text.strip().upper().removesuffix("/S").removesuffix("B")
    scale = {"K": 1024, "M": 1024**2, "G": 1024**3}.get(value[-1:], 1)
    try:
        rate = float(value[:-1] if scale > 1 else value) * scale
    except ValueError:
        rate = -1.0
    if rate < 0 or rate != rate:
        raise UsageError(
            f"--min-rate {text!r} is not a rate", hint="bytes per second, e.g. 32K or 1M"
        )
    return rate
