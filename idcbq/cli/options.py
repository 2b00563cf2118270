"""Options shared by ``idcbq query``, ``idcbq sql`` and ``idcbq templates``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from idcbq.errors import ParameterError


def engine_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--engine --source --idc-version --project`` with their environment defaults."""
    for option in reversed(
        [
            click.option(
                "--engine",
                type=click.Choice(["duckdb", "bigquery"]),
                envvar="IDCBQ_ENGINE",
                default="duckdb",
                show_default=True,
                help="Where to run (env IDCBQ_ENGINE).",
            ),
            click.option(
                "--source",
                envvar="IDCBQ_SOURCE",
                metavar="ROOT",
                help="DuckDB: export root (dir, s3://, gs://); default the embedded sample (env IDCBQ_SOURCE).",
            ),
            click.option(
                "--idc-version",
                envvar="IDCBQ_IDC_VERSION",
                metavar="vNN|current",
                help="IDC release the tables resolve to (env IDCBQ_IDC_VERSION).",
            ),
            click.option(
                "--project",
                envvar="GOOGLE_CLOUD_PROJECT",
                help="BigQuery billing project (env GOOGLE_CLOUD_PROJECT).",
            ),
        ]
    ):
        func = option(func)
    return func


def templates_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--templates",
        "template_dirs",
        multiple=True,
        type=click.Path(file_okay=False),
        metavar="DIR",
        help="Extra template directory (repeatable; also env IDCBQ_TEMPLATES).",
    )(func)


def split_params(items: tuple[str, ...]) -> tuple[dict[str, str], dict[str, str]]:
    """``-p`` items -> ({name: text}, {name: TYPE}); a repeated name is an error."""
    from idcbq.params import parse_cli_param

    values: dict[str, str] = {}
    types: dict[str, str] = {}
    for item in items:
        name, type_text, value = parse_cli_param(item)
        if name in values:
            raise ParameterError(f"-p {name} given twice")
        values[name] = value
        if type_text:
            types[name] = type_text
    return values, types


def make_client(
    engine: str,
    source: str | None,
    idc_version: str | None,
    project: str | None,
    template_dirs: tuple[str, ...] = (),
) -> Any:
    from idcbq.api import connect

    return connect(
        engine, source=source, idc_version=idc_version, project=project, templates=template_dirs
    )
