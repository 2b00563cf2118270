"""``idcbq estimate``: dry-run a named template on BigQuery; print bytes and cost.

Exit code 3 when the estimate is above ``--max-bytes-billed``.
"""

from __future__ import annotations

import json
from typing import Any

import click

from idcbq.cli.common import param_option


def bigquery_options(func: Any) -> Any:
    """Options every BigQuery-facing command shares (billing project, auth, version)."""
    options = [
        click.option("--project", help="Billing project (default: $GOOGLE_CLOUD_PROJECT)."),
        click.option("--idc-version", default=None, help="IDC release: vNN or current."),
        click.option(
            "--data-project",
            default=None,
            help="Project holding the IDC datasets (default: bigquery-public-data).",
        ),
        click.option("--key-file", type=click.Path(dir_okay=False), help="Service-account key."),
        click.option("--location", default=None, help="BigQuery location (e.g. US)."),
        click.option(
            "--api-endpoint",
            envvar="IDCBQ_BIGQUERY_API_ENDPOINT",
            default=None,
            help="BigQuery REST endpoint (a private endpoint or a local emulator).",
        ),
        click.option(
            "--max-bytes-billed",
            envvar="IDCBQ_MAX_BYTES_BILLED",
            default=None,
            help="Refuse queries estimated above this (bytes, or 10GB / 1TiB); exit code 3.",
        ),
        click.option(
            "--price-per-tib",
            type=float,
            default=6.25,
            show_default=True,
            help="On-demand price in USD per TiB, for the cost shown.",
        ),
        click.option(
            "--templates",
            "template_dirs",
            multiple=True,
            type=click.Path(file_okay=False),
            help="Extra template directory (repeatable).",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


@click.command()
@click.argument("name")
@param_option
@bigquery_options
@click.option("--json", "as_json", is_flag=True, help="Print the estimate as JSON.")
@click.option("--show-sql", is_flag=True, help="Also print the SQL sent to BigQuery.")
def estimate(
    name: str,
    params: tuple[str, ...],
    project: str | None,
    idc_version: str | None,
    data_project: str | None,
    key_file: str | None,
    location: str | None,
    api_endpoint: str | None,
    max_bytes_billed: str | None,
    price_per_tib: float,
    template_dirs: tuple[str, ...],
    as_json: bool,
    show_sql: bool,
) -> None:
    """Dry-run template NAME on BigQuery: bytes processed, bytes billed, on-demand cost.

    \b
    Examples:
      idcbq estimate cohort.series_by_modality -p modalities=CT,MR --project my-proj
      idcbq estimate cohort.series_by_modality -p modalities=CT --max-bytes-billed 10GB
    """
    from idcbq.engines.bigquery import BigQueryEngine
    from idcbq.engines.bigquery.cost import format_bytes
    from idcbq.errors import CostCapError

    engine = BigQueryEngine.from_options(
        project=project,
        idc_version=idc_version,
        data_project=data_project,
        key_file=key_file,
        location=location,
        api_endpoint=api_endpoint,
        max_bytes_billed=max_bytes_billed,
        price_per_tib=price_per_tib,
        progress=False,
    )
    with engine:
        prepared, est = estimate_template(engine, name, params, template_dirs=template_dirs)
    if as_json:
        payload = {"template": name, "idc_version": engine.idc_version.label, **est.as_dict()}
        if show_sql:
            payload["sql"] = prepared.sql
        click.echo(json.dumps(payload, indent=2))
    else:
        if show_sql:
            click.echo(prepared.sql.rstrip())
        click.echo(f"{name} (IDC {engine.idc_version.label}): {est.describe()}")
        if est.max_bytes_billed is not None:
            verdict = "within" if est.allowed else "ABOVE"
            click.echo(
                f"{verdict} the cap of {est.max_bytes_billed:,} bytes ({format_bytes(est.max_bytes_billed)})"
            )
    if not est.allowed:
        engine.guard.check(est.processed_bytes, template=name)
        raise CostCapError("estimate above the cap")  # unreachable: check raises


def estimate_template(
    engine: Any, name: str, cli_params: tuple[str, ...], *, template_dirs: tuple[str, ...] = ()
) -> tuple[Any, Any]:
    """Render template ``name`` with ``-p`` values and dry-run it on ``engine``.

    Uses the shared rendering pipeline (catalog -> bind -> render) so the SQL
    estimated is exactly the SQL ``idcbq query --engine bigquery`` would run.
    """
    from idcbq.params import parse_cli_param

    values: dict[str, str] = {}
    for text in cli_params:
        key, _type, value = parse_cli_param(text)
        values[key] = value
    prepared = render_template(engine, name, values, from_text=True, template_dirs=template_dirs)
    return prepared, engine.estimate(prepared)


def render_template(
    engine: Any,
    name: str,
    values: dict[str, Any],
    *,
    from_text: bool,
    template_dirs: tuple[str, ...] = (),
) -> Any:
    """Catalog -> bind -> render (engine's IDC version and data project) -> ``engine.prepare``."""
    from idcbq.templates import TemplateCatalog, bind_params, render

    template = TemplateCatalog.discover(template_dirs).get(name)
    bound = bind_params(template, values, from_text=from_text)
    rendered = render(
        template, bound, idc_version=engine.idc_version, data_project=engine.data_project
    )
    # BigQuery's dry run parses and binds the SQL, so errors surface there too.
    return engine.prepare(rendered.sql, rendered.params, template=template.name)
