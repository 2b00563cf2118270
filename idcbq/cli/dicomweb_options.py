"""``idcbq download --transport dicomweb [--dicomweb-url URL]``: the DICOMweb path.

A decorator for the ``download`` command: it adds the two options and, when
``--transport dicomweb`` is given, runs :func:`idcbq.download.dicomweb.download_dicomweb`
with the command's shared options (``--dest --workers --dir-template --dry-run --quiet
--report --no-fsync --retries --timeout``); otherwise the bucket download runs unchanged.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click

TRANSPORTS = ("bucket", "dicomweb")


def dicomweb_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``--transport`` and ``--dicomweb-url`` to the download command."""

    @functools.wraps(command)
    def wrapper(*args: Any, transport: str, dicomweb_url: str | None, **kwargs: Any) -> Any:
        if transport != "dicomweb":
            if dicomweb_url:
                raise click.UsageError("--dicomweb-url needs --transport dicomweb")
            return command(*args, **kwargs)
        if kwargs.get("shard") or kwargs.get("shard_count"):
            from idcbq.errors import UsageError

            raise UsageError(
                "--shard is for bucket downloads, not --transport dicomweb",
                hint="many machines through IDC's public DICOMweb proxy meet its per-IP quota; "
                "fetch the same manifest from IDC's buckets (the default --transport bucket)",
            )
        if kwargs.get("state_dir"):
            raise click.UsageError("--state-dir is for bucket downloads, not --transport dicomweb")
        ctx = click.get_current_context()
        return _run_dicomweb(ctx, dicomweb_url, **kwargs)

    wrapper = click.option(
        "--dicomweb-url",
        default=None,
        metavar="URL",
        help="DICOMweb base URL for --transport dicomweb [default: $IDCBQ_DICOMWEB_URL, else "
        "IDC's public proxy]; Google Healthcare stores use your Google credentials.",
    )(wrapper)
    wrapper = click.option(
        "--transport",
        type=click.Choice(TRANSPORTS),
        default="bucket",
        show_default=True,
        help="bucket: objects from IDC's GCS/S3 buckets; dicomweb: instances by WADO-RS.",
    )(wrapper)
    return wrapper


def _run_dicomweb(ctx: click.Context, dicomweb_url: str | None, **kw: Any) -> None:
    from pathlib import Path

    from idcbq.download.dicomweb import download_dicomweb
    from idcbq.download.remote_manifest import local_manifest
    from idcbq.errors import DownloadError

    quiet = bool(kw.get("quiet")) or bool((ctx.obj or {}).get("quiet"))
    with local_manifest(kw["manifest"]) as manifest:
        result = _fetch(download_dicomweb, manifest, ctx, dicomweb_url, quiet, kw)
    if not hasattr(result, "downloaded"):  # a dry run
        click.echo(result.summary())
        return
    if kw.get("report_path"):
        Path(kw["report_path"]).write_text(result.to_json(), encoding="utf-8")
    click.echo(result.summary(), err=not result.ok)
    if not result.ok:
        raise DownloadError(
            f"{len(result.failed)} of {result.planned} files failed or could not be verified"
        )


def _fetch(download_dicomweb: Any, manifest: str, ctx: click.Context, dicomweb_url: str | None,
           quiet: bool, kw: dict[str, Any]) -> Any:  # fmt: skip
    return download_dicomweb(
        manifest,
        kw["dest"],
        dicomweb_url=dicomweb_url,
        workers=_workers(ctx, kw.get("workers")),
        template=kw.get("dir_template"),
        quiet=quiet,
        dry_run=bool(kw.get("dry_run")),
        attempts=int(kw.get("retries") or 5),
        timeout=float(kw.get("timeout") or 120.0),
        fsync=not kw.get("no_fsync"),
    )


#: Threads for DICOMweb unless --workers is given: servers (IDC's proxy has a per-IP
#: quota) take fewer parallel requests than a bucket does.
DEFAULT_DICOMWEB_WORKERS = 16


def _workers(ctx: click.Context, given: Any) -> int:
    source = ctx.get_parameter_source("workers")
    if given is None or source in (None, click.core.ParameterSource.DEFAULT):
        return DEFAULT_DICOMWEB_WORKERS
    return max(1, min(int(given), 64))
