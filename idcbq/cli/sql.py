"""``idcbq sql``: ad-hoc BigQuery SQL through the same checks as templates."""

from __future__ import annotations

from typing import Any

import click

from idcbq.cli.common import param_option
from idcbq.cli.options import EngineArgs, connection_options, split_params
from idcbq.cli.query import (
    check_dry_run_flags,
    cli_client,
    dry_run_option,
    finish,
    report_dry_run,
    result_options,
)


class SqlCommand(click.Command):
    """A command whose SQL argument may begin with ``--`` (a SQL comment).

    Click reads any argument starting with ``-`` as an option, so
    ``idcbq sql "$(cat q.sql)"`` fails when q.sql starts with ``-- comment``. An
    argument that starts with ``-`` but is no option of this command and holds
    whitespace (option names never do) is SQL: it is moved behind ``--``, where click
    takes it as the positional argument.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        known = {opt for p in self.get_params(ctx) for opt in (*p.opts, *p.secondary_opts)}
        sql_args: list[str] = []
        rest: list[str] = []
        for i, arg in enumerate(args):
            if arg == "--":  # the user already separated them
                rest.extend(args[i:])
                break
            if _looks_like_sql(arg, known) and not _is_option_value(args, i, self, ctx):
                sql_args.append(arg)
            else:
                rest.append(arg)
        if sql_args:
            rest = [*rest, "--", *sql_args] if "--" not in rest else rest + sql_args
        return super().parse_args(ctx, rest)


def _looks_like_sql(arg: str, known: set[str]) -> bool:
    if not arg.startswith("-") or arg == "-":
        return False
    if arg.split("=", 1)[0] in known:
        return False
    return any(c.isspace() for c in arg)


def _is_option_value(args: list[str], i: int, command: click.Command, ctx: click.Context) -> bool:
    """True if ``args[i]`` is the value of the option just before it (``-p '-- x'``)."""
    if i == 0:
        return False
    prev = args[i - 1]
    for param in command.get_params(ctx):
        if isinstance(param, click.Option) and prev in param.opts and not param.is_flag:
            return True
    return False


@click.command(cls=SqlCommand)
@click.argument("sql_text", metavar="[SQL]", required=False)
@click.option(
    "-f",
    "--file",
    "sql_file",
    type=click.File("r", encoding="utf-8"),
    help="Read the SQL from FILE (- for stdin).",
)
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
@dry_run_option
def sql(
    sql_text: str | None,
    sql_file: Any,
    params: tuple[str, ...],
    conn: EngineArgs,
    allowed_tables: tuple[str, ...],
    limit: int | None,
    out: str | None,
    fmt: str | None,
    as_json: bool,
    manifest: str | None,
    manifest_format: str | None,
    dry_run: bool,
) -> None:
    """Run BigQuery SQL given as SQL, -f FILE, or on stdin (SQL = -). Parameters are
    @name, STRING unless typed as -p name:TYPE=value (arrays: -p ids:ARRAY<INT64>=1,2,3).
    SQL may begin with a comment (-- ..., # ..., /* ... */).

    \b
    Examples:
      idcbq sql "SELECT Modality, COUNT(*) n FROM dicom_all GROUP BY 1"
      idcbq sql -f cohort.sql --format csv > cohort.csv
      idcbq sql "$(cat cohort.sql)" | grep CT
      idcbq sql "SELECT * FROM dicom_all WHERE collection_id = @c" -p c=qin_lung_ct --limit 3 --json
      idcbq sql "SELECT ... WHERE SeriesNumber > @n" -p n:INT64=3
      idcbq sql "SELECT SOPInstanceUID FROM dicom_all WHERE Modality = 'SEG'" --dry-run --json
    """
    from idcbq.errors import UsageError

    if sql_file is not None and sql_text is not None:
        raise UsageError("give the SQL either as an argument or with -f FILE, not both")
    if sql_file is not None:
        sql_text = sql_file.read()
    elif sql_text == "-":
        sql_text = click.get_text_stream("stdin").read()
    if sql_text is None:
        raise UsageError(
            "no SQL given", hint='idcbq sql "SELECT ...", idcbq sql -f FILE, or ... | idcbq sql -'
        )
    if not _has_statement(sql_text):
        raise UsageError("the SQL is empty (only whitespace or comments)")
    values, types = split_params(params)
    check_dry_run_flags(dry_run, out, manifest)
    key = _seen_before(sql_text, values, types, conn, allowed_tables, limit, fmt, as_json,
                       out=out, manifest=manifest, dry_run=dry_run)  # fmt: skip
    if key == "":
        return
    with cli_client(conn, allowed_tables=allowed_tables) as client:
        prepared = client.prepare_sql(sql_text, params=values, types=types, from_text=True)
        if dry_run:
            report_dry_run(client, prepared, template=None, fmt=fmt, as_json=as_json)
            return
        result = client.execute(prepared, limit=limit)
        if key is not None:
            from idcbq.cli.prepared import remember

            remember(key, client, sql_text, prepared, result, limit)
    finish(result, out, fmt, as_json, manifest, manifest_format)


def _seen_before(
    sql_text: str,
    values: dict[str, str],
    types: dict[str, str],
    conn: EngineArgs,
    allowed_tables: tuple[str, ...],
    limit: int | None,
    fmt: str | None,
    as_json: bool,
    *,
    out: str | None,
    manifest: str | None,
    dry_run: bool,
) -> str | None:
    """``""`` if the rows were printed from a prepared entry (:mod:`idcbq.cli.prepared`);
    else the key to keep this run under, or None when it is not to be kept."""
    if dry_run or conn.engine != "duckdb":
        return None
    from idcbq.cli.prepared import query_key, run_seen, wanted

    replay = wanted(fmt, as_json, out, manifest)
    if replay is None:
        return None
    key = query_key(
        sql_text, values, types, conn, allowed_tables=allowed_tables, limit=limit, fmt=replay
    )
    return "" if run_seen(key, values, types, replay) else key


def _has_statement(sql_text: str) -> bool:
    """False when ``sql_text`` is only whitespace and comments."""
    import re

    stripped = re.sub(r"/\*.*?\*/", " ", sql_text, flags=re.S)
    stripped = re.sub(r"(--|#)[^\n]*", " ", stripped)
    return bool(stripped.strip().strip(";").strip())
