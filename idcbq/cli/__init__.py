"""The ``idcbq`` command line. Subcommands load lazily so ``idcbq --help`` stays fast.

Each subcommand lives in its own module under ``idcbq.cli`` and is registered in
``COMMANDS`` as ``"module:attribute"``.
"""

from __future__ import annotations

import contextlib
import importlib
import sys

import click

COMMANDS: dict[str, tuple[str, str]] = {
    "sample": ("idcbq.cli.sample:sample", "Build or seed the embedded IDC sample export."),
    "templates": (
        "idcbq.cli.templates:templates",
        "List, show, render and check named SQL templates.",
    ),
    "query": ("idcbq.cli.query:query", "Run a named template on DuckDB or BigQuery."),
    "sql": ("idcbq.cli.sql:sql", "Run ad-hoc BigQuery SQL through the same checks."),
    "estimate": ("idcbq.cli.estimate:estimate", "Dry-run a query on BigQuery: bytes and cost."),
    "manifest": ("idcbq.cli.manifest:manifest", "Turn query results into download manifests."),
    "download": ("idcbq.cli.download:download", "Download the files of a manifest, verified."),
    "report": ("idcbq.cli.report:report", "Sum the reports of a download split into shards."),
    "job": ("idcbq.cli.job:job", "Run scheduled cohort jobs from a spec file."),
    "mirror": ("idcbq.cli.mirror:mirror", "Copy the needed part of IDC's export locally."),
    "releases": ("idcbq.cli.releases:releases", "List the IDC releases a source holds."),
    "googlesql": (
        "idcbq.cli.googlesql:googlesql",
        "Compile GoogleSQL's analyzer ahead (the query gate) and warm its cache.",
    ),
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported only when invoked (or asked for help)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attr = target[0].split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                return _not_ready(cmd_name, target[1])
            raise
        from idcbq.cli.common import accept_verbosity_anywhere

        return accept_verbosity_anywhere(getattr(module, attr))

    def invoke(self, ctx: click.Context) -> object:
        # click turns EPIPE into a silent exit 1; a reader that stopped early is no failure.
        try:
            return super().invoke(ctx)
        except OSError as exc:
            import errno

            from idcbq.cli.common import ReaderGone, stdout_is_broken

            if exc.errno == errno.EPIPE and stdout_is_broken():
                raise ReaderGone() from exc
            raise

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Short help from the registry, so `idcbq --help` imports no subcommand.
        rows = [(name, help_) for name, (_, help_) in COMMANDS.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def _not_ready(name: str, help_: str) -> click.Command:
    @click.command(name=name, help=help_ + " (not available in this build)")
    def stub() -> None:
        raise click.ClickException(f"'idcbq {name}' is not available in this build")

    return stub


@click.group(
    cls=LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog='Examples:\n\n  idcbq templates list\n\n  idcbq query cohort.series_by_modality -p modalities=CT,MR --limit 5\n\n  idcbq sql "SELECT Modality, COUNT(*) n FROM dicom_all GROUP BY 1"\n\n  idcbq job run nightly.toml\n\nDefaults come from ~/.config/idcbq/config.toml (or $IDCBQ_CONFIG) and IDCBQ_* environment variables; flags win.\n\nShell completion (bash): eval "$(_IDCBQ_COMPLETE=bash_source idcbq)"',
)
@click.version_option(package_name="idcbq", prog_name="idcbq")
@click.option("-v", "--verbose", count=True, help="More output; tracebacks on errors.")
@click.option("-q", "--quiet", is_flag=True, help="Only errors and results.")
@click.pass_context
def cli(ctx: click.Context, verbose: int, quiet: bool) -> None:
    """idcbq: pick DICOM files from NCI Imaging Data Commons with checked SQL, then fetch them."""
    from idcbq.cli.common import set_verbosity

    ctx.ensure_object(dict)
    ctx.obj["verbose"] = verbose
    ctx.obj["quiet"] = quiet
    set_verbosity(verbose=verbose, quiet=quiet)
    if not ctx.resilient_parsing:  # not while completing: a bad config must not break TAB
        # Config file + env defaults reach every subcommand's options through click's
        # default_map (flag > env var > config file > built-in default).
        from idcbq.config import DefaultMap, load_defaults

        ctx.default_map = DefaultMap(load_defaults())


def main(argv: list[str] | None = None) -> None:
    """Console entry point: idcbq errors print as one message with their exit code."""
    import os

    from idcbq.cli.common import claim_closed_stdout, run_cli

    claim_closed_stdout()
    from idcbq.core.imports import hold_off_pandas

    hold_off_pandas()  # one query thread at a time here: see idcbq.core.imports
    # A new query asks the warm GoogleSQL helper (or starts it): engines.googlesql.helper.
    os.environ.setdefault("IDCBQ_GOOGLESQL_HELPER", "1")
    try:
        code = run_cli(cli, argv)
    finally:  # main() called in a process that goes on (tests): the library's default
        hold_off_pandas(False)
    if code == 130:
        _exit_now_if_query_running(code)
    sys.exit(code)


def _exit_now_if_query_running(code: int) -> None:
    """After Ctrl-C, do not let interpreter shutdown wait on a query that ignores interrupts."""
    import os
    import threading

    from idcbq.engines.cancel import BUSY_NAME

    if any(t.name == BUSY_NAME and t.is_alive() for t in threading.enumerate()):
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
        os._exit(code)
