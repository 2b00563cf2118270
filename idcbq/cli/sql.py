"""``idcbq sql``: ad-hoc BigQuery SQL through the same checks as templates."""

from __future__ import annotations

import click

from idcbq.cli.common import param_option
from idcbq.cli.options import EngineArgs, connection_options, split_params
from idcbq.cli.query import finish, result_options


@click.command()
@click.argument("sql_text", metavar="SQL")
@param_option
@connection_options
@click.option(
    "--allow-table",
    "allowed_tables",
    multiple=True,
    metavar="PROJECT.DATASET.TABLE",
    help="Also allow reading this table (repeatable).",
)
@result_options
def sql(
    sql_text: str,
    params: tuple[str, ...],
    conn: EngineArgs,
    allowed_tables: tuple[str, ...],
    limit: int | None,
    out: str | None,
    as_json: bool,
    manifest: str | None,
    manifest_format: str | None,
) -> None:
    """Run BigQuery SQL (use - to read it from stdin). Parameters are @name, STRING
    unless typed as -p name:TYPE=value (arrays: -p ids:ARRAY<INT64>=1,2,3).

    \b
    Examples:
      idcbq sql "SELECT Modality, COUNT(*) n FROM dicom_all GROUP BY 1"
      idcbq sql "SELECT * FROM dicom_all WHERE collection_id = @c" -p c=nlst --limit 3 --json
      idcbq sql "SELECT ... WHERE SeriesNumber > @n" -p n:INT64=3
    """
    if sql_text == "-":
        sql_text = click.get_text_stream("stdin").read()
    values, types = split_params(params)
    with conn.connect(allowed_tables=allowed_tables) as client:
        prepared = client.prepare_sql(sql_text, params=values, types=types, from_text=True)
        result = client.execute(prepared, limit=limit)
    finish(result, out, as_json, manifest, manifest_format)
