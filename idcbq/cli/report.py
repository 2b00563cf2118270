"""``idcbq report FILE...``: sum the reports of a download split into shards."""

from __future__ import annotations

import click


@click.command("report")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the merged report as JSON.")
@click.option("--out", default=None, type=click.Path(dir_okay=False),
              help="Also write the merged report (JSON) here.")  # fmt: skip
def report(files: tuple[str, ...], as_json: bool, out: str | None) -> None:
    """Sum the reports of the shards of one download (written by idcbq download --report FILE).

    FILES are the shards' report files (or the run.json of sharded job runs), all
    runs or all dry runs (plans) of one split. Prints each shard's line, the totals
    (files, bytes, failures and the shard they belong to), and the shards that are
    missing from 0..N-1 or reported twice.

    Exit codes: 0 every shard is present once and verified; 2 bad input (not a report,
    reports of different splits, runs mixed with plans, a shard reported more than
    once); 5 a shard failed or shards are missing.

    \b
    Examples:
      idcbq report reports/shard-*.json
      idcbq report --json reports/*.json > merged.json
    """
    from idcbq.cli.download import write_report
    from idcbq.download.report import merge_reports
    from idcbq.errors import DownloadError, UsageError

    merged = merge_reports(list(files))
    if out:
        write_report(out, merged.to_json())
    click.echo(merged.to_json() if as_json else merged.summary(), err=not merged.ok and not as_json)
    if merged.duplicated:
        index, paths = sorted(merged.duplicated.items())[0]
        raise UsageError(f"shard {index}/{merged.count} is reported more than once: {', '.join(paths)}",
                         hint="give one report per shard (the last run of each)")  # fmt: skip
    if merged.missing:
        raise DownloadError(f"{len(merged.missing)} of {merged.count} shards have no report: "
                            f"{', '.join(map(str, merged.missing))}")  # fmt: skip
    if not merged.ok:
        failed = merged.failed_shards
        raise DownloadError(f"{len(failed)} of {merged.count} shards failed: {', '.join(failed)}")
