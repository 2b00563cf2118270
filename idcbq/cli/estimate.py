"""``idcbq estimate``: dry-run a named template on BigQuery; print bytes and cost.

The template takes the same path as ``idcbq query`` (render -> offline validation ->
``engine.prepare``), so the SQL estimated is exactly the SQL a query would run.
Exit code 3 when the estimate is above ``--max-bytes-billed``.
"""

from __future__ import annotations

import json
from typing import Any

import click

from idcbq.cli.common import param_option
from idcbq.cli.options import EngineArgs, check_param_types, connection_options, split_params


@click.command()
@click.argument("name")
@param_option
@connection_options(engine="bigquery")
@click.option(
    "--price-per-tib",
    type=float,
    default=6.25,
    show_default=True,
    help="On-demand price in USD per TiB, for the cost shown.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the estimate as JSON.")
@click.option("--show-sql", is_flag=True, help="Also print the SQL sent to BigQuery.")
def estimate(
    name: str,
    params: tuple[str, ...],
    conn: EngineArgs,
    price_per_tib: float,
    as_json: bool,
    show_sql: bool,
) -> None:
    """Dry-run template NAME on BigQuery: bytes processed, bytes billed, on-demand cost.

    \b
    Examples:
      idcbq estimate cohort.series_by_modality -p modalities=CT,MR --project my-proj
      idcbq estimate cohort.series_by_modality -p modalities=CT --max-bytes-billed 10GB
    """
    from idcbq.engines.bigquery.cost import format_bytes

    with conn.connect(price_per_tib=price_per_tib, progress=False) as client:
        prepared, est = estimate_template(client, name, params)
        guard, version = client.engine.guard, client.engine.idc_version.label
    if as_json:
        payload = {"template": name, "idc_version": version, **est.as_dict()}
        if show_sql:
            payload["sql"] = prepared.sql
        click.echo(json.dumps(payload, indent=2))
    else:
        if show_sql:
            click.echo(prepared.sql.rstrip())
        click.echo(f"{name} (IDC {version}): {est.describe()}")
        if est.max_bytes_billed is not None:
            verdict = "within" if est.allowed else "ABOVE"
            cap = est.max_bytes_billed
            click.echo(f"{verdict} the cap of {cap:,} bytes ({format_bytes(cap)})")
    if not est.allowed:
        guard.check(est.processed_bytes, template=name)  # raises CostCapError: exit code 3


def estimate_template(client: Any, name: str, cli_params: tuple[str, ...]) -> tuple[Any, Any]:
    """Render, validate and prepare template ``name`` with ``-p`` values; dry-run it.

    Returns ``(PreparedQuery, Estimate)``; never raises on the cap (the caller decides).
    """
    values, types = split_params(cli_params)
    check_param_types(client.template(name), types)
    prepared = client.prepare_template(name, values, from_text=True)
    return prepared, client.engine.estimate(prepared)
