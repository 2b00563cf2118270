"""``idcbq job``: scheduled cohort jobs from a spec file."""

from __future__ import annotations

import json

import click

EXIT_CODES_HELP = """\b
Examples:
  idcbq job validate nightly.toml
  idcbq job run nightly.toml --json
  idcbq job diff nightly.toml --manifest new.s5cmd
\b
Exit codes: 0 ok, 2 spec/validation error, 3 cost cap refused,
4 query failed, 5 download failed, 7 another run holds the lock."""


@click.group(epilog=EXIT_CODES_HELP)
def job() -> None:
    """Run and inspect scheduled cohort jobs (spec in TOML or YAML)."""


@job.command("validate")
@click.argument("spec_path", metavar="SPEC", type=click.Path(dir_okay=False))
def validate_cmd(spec_path: str) -> None:
    """Check a job spec without running it.

    Example: idcbq job validate nightly.toml
    """
    from idcbq.jobs.spec import load_spec

    spec = load_spec(spec_path)
    click.echo(
        f"{spec_path}: ok (job {spec.job.name!r}, engine {spec.engine.name}, IDC {spec.engine.idc_version})"
    )


@job.command("run", epilog=EXIT_CODES_HELP)
@click.argument("spec_path", metavar="SPEC", type=click.Path(dir_okay=False))
@click.option(
    "--dry-run", is_flag=True, help="Validate and estimate only; no results, no download."
)
@click.option("--json", "as_json", is_flag=True, help="Print run.json to stdout.")
def run_cmd(spec_path: str, dry_run: bool, as_json: bool) -> None:
    """Run a job once: query, results, manifests, diff with the last good run, download.

    Each run writes a dated folder under the destination with results, manifests and
    run.json; latest.json moves only when the whole run succeeded.

    Example: idcbq job run nightly.toml
    """
    from idcbq.jobs.runner import run_job
    from idcbq.jobs.spec import load_spec

    spec = load_spec(spec_path)
    outcome = run_job(spec, dry_run=dry_run)
    if as_json:
        click.echo(json.dumps(outcome.record, indent=2, sort_keys=True, default=str))
    else:
        status = outcome.record.get("status")
        where = outcome.run.path if outcome.run else "-"
        click.echo(f"run {outcome.record.get('run_id')}: {status} ({where})", err=True)
        if "counts" in outcome.record:
            click.echo(
                "counts: " + ", ".join(f"{k}={v}" for k, v in outcome.record["counts"].items()),
                err=True,
            )
        if "diff" in outcome.record:
            click.echo(
                "diff vs previous: "
                + ", ".join(f"{k}={v}" for k, v in outcome.record["diff"].items()),
                err=True,
            )
    if outcome.error is not None:
        raise outcome.error  # run_cli prints it and exits with its code


@job.command("diff")
@click.argument("spec_path", metavar="SPEC", type=click.Path(dir_okay=False))
@click.option("--run", "run_id", help="Run to compare (default: latest good run).")
@click.option("--against", "against_id", help="Earlier run (default: the run before --run).")
@click.option(
    "--manifest",
    "manifest_path",
    type=click.Path(dir_okay=False),
    help="Write a manifest of added and revised series.",
)
@click.option(
    "--format",
    "manifest_format",
    default="s5cmd",
    show_default=True,
    type=click.Choice(["s5cmd", "urls", "jsonl", "csv", "parquet"]),
)
@click.option("--json", "as_json", is_flag=True, help="Print the diff as JSON.")
def diff_cmd(
    spec_path: str,
    run_id: str | None,
    against_id: str | None,
    manifest_path: str | None,
    manifest_format: str,
    as_json: bool,
) -> None:
    """Compare two runs' cohorts: series added, removed, revised.

    Example: idcbq job diff nightly.toml --manifest new.s5cmd
    """
    from idcbq.jobs.compare import diff_runs
    from idcbq.jobs.spec import load_spec

    spec = load_spec(spec_path)
    changes, current, previous = diff_runs(
        spec,
        run_id=run_id,
        against_id=against_id,
        manifest_path=manifest_path,
        manifest_format=manifest_format,
    )
    if as_json:
        click.echo(
            json.dumps({"run": current, "previous_run": previous, **changes.to_dict()}, indent=2)
        )
    else:
        click.echo(
            f"{current} vs {previous}: "
            + ", ".join(f"{k}={v}" for k, v in changes.summary().items())
        )
