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
    try:
        cli.main(args=argv, prog_name="idcbq", standalone_mode=False)
    except IdcbqError as exc:
        if verbose:
            raise
        click.echo(f"error: {exc}", err=True)
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
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


def param_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """``-p name=value`` / ``-p name:TYPE=value``, repeatable."""
    return click.option(
        "-p",
        "--param",
        "params",
        multiple=True,
        metavar="NAME[:TYPE]=VALUE",
        help="Query parameter; repeat for several. Values are parsed by the declared type.",
    )(func)
