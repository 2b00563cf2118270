"""Shared CLI plumbing: error handling, logging, the options many commands take."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from typing import Any

import click

from idcbq.errors import ExitCode, IdcbqError

log = logging.getLogger("idcbq")


def configure_logging(*, verbose: int = 0, quiet: bool = False) -> None:
    """Human-readable logs on a TTY, JSON lines otherwise (for schedulers)."""
    level = logging.WARNING if quiet else (logging.DEBUG if verbose > 1 else logging.INFO)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        _JsonFormatter() if not sys.stderr.isatty() else logging.Formatter("%(message)s")
    )
    root = logging.getLogger("idcbq")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        extra = getattr(record, "fields", None)
        if isinstance(extra, dict):
            payload.update(extra)
        return json.dumps(payload, default=str)


def run_cli(cli: click.Group, argv: list[str] | None) -> int:
    """Run the click group; map IdcbqError to its exit code, with a traceback only if -v."""
    verbose = any(
        a in ("-v", "--verbose", "-vv") for a in (argv if argv is not None else sys.argv[1:])
    )
    import warnings

    from idcbq.engines.empty import NoRowsWarning

    warnings.filterwarnings("ignore", category=NoRowsWarning)  # the CLI prints the hint itself
    try:
        cli.main(args=argv, prog_name="idcbq", standalone_mode=False)
    except BrokenPipeError:  # `idcbq sql ... | head`: the reader has enough
        _silence_stdout()
        return ExitCode.OK
    except IdcbqError as exc:
        if verbose:
            raise
        click.echo(f"error: {exc}", err=True)
        return exc.exit_code
    except click.exceptions.Abort:  # click's form of KeyboardInterrupt (Ctrl-C)
        click.echo("interrupted", err=True)
        return 130
    except click.ClickException as exc:
        exc.show()
        return ExitCode.BAD_INPUT if exc.exit_code == 2 else exc.exit_code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        return 130
    return ExitCode.OK


def _silence_stdout() -> None:
    """Point stdout at /dev/null so Python's exit-time flush cannot fail on a closed pipe."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def param_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """``-p name=value`` / ``-p name:TYPE=value``, repeatable; TAB completes ``name=``."""
    return click.option(
        "-p",
        "--param",
        "params",
        multiple=True,
        metavar="NAME[:TYPE]=VALUE",
        shell_complete=complete_param_names,
        help="Query parameter; repeat for several. Values are parsed by the declared type.",
    )(func)


def _completion_catalog(ctx: click.Context) -> Any:
    from idcbq.templates import TemplateCatalog

    dirs = ctx.params.get("template_dirs") or ()
    try:
        return TemplateCatalog.discover(tuple(dirs))
    except Exception:  # a bad --templates dir must not break TAB
        return TemplateCatalog.discover(())


def complete_template_names(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[Any]:
    """Template names starting with ``incomplete``, each with its description."""
    from click.shell_completion import CompletionItem

    items = []
    for tpl in _completion_catalog(ctx):
        name = tpl.path.name.removesuffix(".sql")
        if name.startswith(incomplete):
            try:
                help_ = tpl.description
            except Exception:
                help_ = None
            items.append(CompletionItem(name, help=help_))
    return items


def complete_param_names(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
    """``name=`` for the parameters of the template named earlier on the line."""
    from click.shell_completion import CompletionItem

    if "=" in incomplete:
        return []
    catalog = _completion_catalog(ctx)
    name = ctx.params.get("name") or _name_from_comp_words(catalog)
    if not name or name not in catalog:
        return []
    try:
        specs = catalog.get(name).header.parameters
    except Exception:
        return []
    given = {str(p).split("=", 1)[0].split(":", 1)[0] for p in ctx.params.get("params") or ()}
    return [
        CompletionItem(f"{pname}=", help=f"{spec.type}" + (" (required)" if spec.required else ""))
        for pname, spec in specs.items()
        if pname.startswith(incomplete) and pname not in given
    ]


def _name_from_comp_words(catalog: Any) -> str | None:
    """The template named on the command line being completed.

    Click cannot parse ``NAME -p <TAB>`` (``-p`` lacks its value), so its context has
    no NAME; every click shell script passes the line in ``$COMP_WORDS``.
    """
    import os
    import shlex

    try:
        words = shlex.split(os.environ.get("COMP_WORDS", ""))
    except ValueError:
        words = os.environ.get("COMP_WORDS", "").split()
    return next((w for w in words if w in catalog), None)


def template_name_argument(func: Callable[..., Any]) -> Callable[..., Any]:
    """The ``NAME`` argument of a template, TAB-completed from the catalog."""
    return click.argument("name", shell_complete=complete_template_names)(func)
