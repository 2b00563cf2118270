"""``idcbq query``: run a named template on DuckDB or BigQuery."""

from __future__ import annotations

import click

from idcbq.cli.common import param_option, template_name_argument
from idcbq.cli.options import EngineArgs, check_param_types, connection_options, split_params
from idcbq.cli.output import STDOUT_FORMATS


def result_options(func):  # type: ignore[no-untyped-def]
    """``--out --format --json --limit --manifest --manifest-format`` (shared with ``idcbq sql``)."""
    for option in reversed(
        [
            click.option("--limit", type=click.IntRange(min=0), help="At most N rows."),
            click.option(
                "--out",
                metavar="FILE",
                help="Write rows to FILE (.parquet, .csv, .json, .jsonl), atomically; "
                "- for stdout (as --format, default csv).",
            ),
            click.option(
                "--format",
                "fmt",
                type=click.Choice(STDOUT_FORMATS),
                help="Rows on stdout as table, csv, tsv, json or jsonl "
                "[default: table on a terminal, tsv when piped; never shortened when piped].",
            ),
            click.option("--json", "as_json", is_flag=True, help="Same as --format json."),
            click.option("--manifest", metavar="FILE", help="Also write a download manifest."),
            click.option(
                "--manifest-format",
                metavar="FMT",
                help="Manifest format (s5cmd, urls, jsonl, csv, parquet); default from FILE.",
            ),
        ]
    ):
        func = option(func)
    return func


def finish(result, out, fmt, as_json, manifest, manifest_format):  # type: ignore[no-untyped-def]
    """Write the manifest (if asked), then the rows; say why when there are none."""
    from idcbq.cli.output import emit

    if as_json:
        if fmt not in (None, "json"):
            raise click.UsageError(f"--json and --format {fmt} disagree; give one")
        fmt = "json"
    if out and out != "-" and fmt:
        raise click.UsageError("--out FILE takes its format from the suffix; drop --format/--json")
    if manifest:
        try:
            from idcbq.manifest import write_manifest
        except ImportError as exc:
            from idcbq.errors import UsageError

            raise UsageError(f"--manifest is not available in this build ({exc})") from None
        mfmt = manifest_format or _manifest_format(manifest)
        write_manifest(result, manifest, format=mfmt)
        click.echo(f"wrote manifest {manifest} ({mfmt})", err=True)
    emit(result, out=out, fmt=fmt)
    if result.empty_hint:
        click.echo(result.empty_hint, err=True)


def _manifest_format(path: str) -> str:
    from pathlib import Path

    from idcbq.errors import UsageError

    suffix = Path(path).suffix.lower().lstrip(".")
    known = {"s5cmd": "s5cmd", "txt": "urls", "jsonl": "jsonl", "csv": "csv", "parquet": "parquet"}
    if suffix not in known:
        raise UsageError(f"--manifest {path!r}: give --manifest-format (suffix {suffix!r} unknown)")
    return known[suffix]


@click.command()
@template_name_argument
@param_option
@connection_options
@result_options
def query(
    name: str,
    params: tuple[str, ...],
    conn: EngineArgs,
    limit: int | None,
    out: str | None,
    fmt: str | None,
    as_json: bool,
    manifest: str | None,
    manifest_format: str | None,
) -> None:
    """Run the named template NAME with -p name=value parameters.

    On BigQuery the query is dry-run first; above --max-bytes-billed it is refused
    with exit code 3 (the estimate and the cap are printed).

    \b
    Examples:
      idcbq query cohort.series_by_modality -p modalities=CT,MR --limit 5
      idcbq query summary.collections --json
      idcbq query summary.collections --format csv > collections.csv
      idcbq query cohort.series_by_modality -p modalities=SEG --out seg.parquet
      idcbq query summary.collections --engine bigquery --project my-proj --max-bytes-billed 10GB
    """
    values, types = split_params(params)
    with conn.connect() as client:
        check_param_types(client.template(name), types)
        result = client.run_template(name, values, limit=limit, from_text=True)
    finish(result, out, fmt, as_json, manifest, manifest_format)
