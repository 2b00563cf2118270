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


def dry_run_option(func):  # type: ignore[no-untyped-def]
    """``--dry-run`` (shared with ``idcbq sql``)."""
    return click.option(
        "--dry-run",
        is_flag=True,
        help="Validate and report the bytes the query would read, without running it "
        "(BigQuery: its dry run; DuckDB: from the Parquet footers). Exit 0.",
    )(func)


def cli_client(conn, **extra):  # type: ignore[no-untyped-def]
    """``conn.connect()``; with the global ``-q`` no progress bar for remote scans."""
    client = conn.connect(**extra)
    ctx = click.get_current_context(silent=True)
    if ctx is not None and (ctx.find_root().obj or {}).get("quiet"):
        client.progress = False
    return client


def check_dry_run_flags(dry_run: bool, out: str | None, manifest: str | None) -> None:
    """A dry run writes no rows: ``--out``/``--manifest`` with it are a usage error."""
    if dry_run and (out or manifest):
        raise click.UsageError("--dry-run runs nothing: drop --out/--manifest")


def report_dry_run(client, prepared, *, template, fmt, as_json):  # type: ignore[no-untyped-def]
    """Print what a dry run of ``prepared`` would read, as text or JSON; exit code 3 above
    BigQuery's --max-bytes-billed, else 0.

    BigQuery: its dry run (bytes processed, billed, cost). DuckDB: footers plus the
    compressed column chunks of the files and row groups the filters keep. GoogleSQL:
    it loads no data, so it cannot estimate (reported as such, bytes null).
    """
    import json

    from idcbq.engines.bigquery.cost import format_bytes
    from idcbq.validate.gate import describe

    engine = client.engine
    payload = {
        "dry_run": True,
        "engine": engine.name,
        "idc_version": engine.idc_version.label,
        "template": template,
        "bytes_processed": None,
        "validated_by": prepared.validated_by,
    }
    est = None
    if engine.name == "bigquery":
        est = engine.estimate(prepared)
        payload.update(est.as_dict())
        basis = "BigQuery dry run"
    elif engine.name == "duckdb":
        payload["bytes_processed"] = engine.estimate_bytes(prepared)
        basis = f"Parquet footers and column chunks of {client.source}"
    else:
        basis = f"{engine.name} loads no data and cannot estimate; use --engine duckdb or bigquery"
    payload["basis"] = basis
    n = payload["bytes_processed"]
    if as_json or fmt in ("json", "jsonl"):
        click.echo(json.dumps(payload, indent=None if fmt == "jsonl" else 2))
    elif n is None:
        click.echo(f"Query validated. No byte estimate: {basis}.")
        click.echo(describe(prepared.validated_by))
    else:
        text = est.describe() if est is not None else f"{n:,} bytes ({format_bytes(n)})"
        click.echo(f"Query validated. This query will process {n} bytes.")
        click.echo(describe(prepared.validated_by))
        click.echo(f"{text} [{engine.name}: {basis}]", err=True)
    if est is not None and not est.allowed:
        engine.guard.check(est.processed_bytes, template=template)  # CostCapError: exit 3


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
@dry_run_option
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
    dry_run: bool,
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
      idcbq query cohort.series_by_modality -p modalities=CT --source s3://idc-open-metadata --dry-run
    """
    check_dry_run_flags(dry_run, out, manifest)
    values, types = split_params(params)
    with cli_client(conn) as client:
        check_param_types(client.template(name), types)
        if dry_run:
            prepared = client.prepare_template(name, values, from_text=True)
            report_dry_run(client, prepared, template=name, fmt=fmt, as_json=as_json)
            return
        result = client.run_template(name, values, limit=limit, from_text=True)
    finish(result, out, fmt, as_json, manifest, manifest_format)
