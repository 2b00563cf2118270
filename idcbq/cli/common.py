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


#: True when the process started with file descriptor 1 closed (``idcbq ... >&-``).
STDOUT: dict[str, bool] = {"closed": False}


class ReaderGone(Exception):
    """stdout's reader went away (``idcbq sql ... | head -1``): not a failure."""


def claim_closed_stdout() -> None:
    """If fd 1 is closed, hold it with /dev/null (so no file we open becomes "stdout").

    Rows meant for stdout then fail with exit 8 instead of vanishing
    (:func:`require_stdout`); other messages on stdout are dropped.
    """
    import os

    try:
        os.fstat(1)
    except OSError:
        fd = os.open(os.devnull, os.O_WRONLY)
        if fd != 1:  # pragma: no cover - fd 1 was free, so open() returned it
            os.dup2(fd, 1)
            os.close(fd)
        sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115 - lives as long as we do
        STDOUT["closed"] = True


def require_stdout() -> None:
    """Raise LocalFileError (exit 8) if rows are to go to a stdout that was closed."""
    if STDOUT["closed"]:
        from idcbq.errors import LocalFileError

        raise LocalFileError(
            "stdout is closed: nowhere to write the rows (give --out FILE, or open stdout)"
        )


def stdout_is_broken() -> bool:
    """True if stdout is a pipe or socket whose reader has gone (poll reports an error)."""
    import select

    try:
        poller = select.poll()
        poller.register(sys.__stdout__.fileno(), select.POLLOUT)
        events = poller.poll(0)
    except (OSError, ValueError, AttributeError):
        return False
    return any(mask & (select.POLLERR | select.POLLHUP) for _fd, mask in events)


#: Verbosity as parsed (before or after the subcommand), for run_cli's error handling.
VERBOSITY: dict[str, Any] = {"verbose": 0, "quiet": False}


def set_verbosity(*, verbose: int = 0, quiet: bool = False) -> None:
    """Record ``-v``/``-q`` from wherever they were given and configure logging once more."""
    VERBOSITY["verbose"] = max(VERBOSITY["verbose"], verbose)
    VERBOSITY["quiet"] = VERBOSITY["quiet"] or quiet
    configure_logging(verbose=VERBOSITY["verbose"], quiet=VERBOSITY["quiet"])


def _late_verbosity(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    if not value:
        return
    root = ctx.find_root()
    root.ensure_object(dict)
    if param.name == "late_verbose":
        root.obj["verbose"] = root.obj.get("verbose", 0) + int(value)
    else:
        root.obj["quiet"] = True
    set_verbosity(verbose=root.obj.get("verbose", 0), quiet=bool(root.obj.get("quiet")))


def accept_verbosity_anywhere(command: click.Command) -> click.Command:
    """Let ``-v``/``-vv``/``-q`` follow the subcommand too (``idcbq query NAME -v``).

    Each (sub)command that has no ``-v``/``-q`` of its own gets hidden ones that act like
    the top-level flags. Idempotent.
    """
    if getattr(command, "_idcbq_verbosity", False):
        return command
    command._idcbq_verbosity = True  # type: ignore[attr-defined]
    taken = {opt for p in command.params for opt in getattr(p, "opts", ())}
    if not {"-v", "--verbose"} & taken:
        command.params.append(
            click.Option(
                ["-v", "--verbose", "late_verbose"],
                count=True,
                hidden=True,
                expose_value=False,
                callback=_late_verbosity,
            )
        )
    if not {"-q", "--quiet"} & taken:
        command.params.append(
            click.Option(
                ["-q", "--quiet", "late_quiet"],
                is_flag=True,
                hidden=True,
                expose_value=False,
                callback=_late_verbosity,
            )
        )
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            accept_verbosity_anywhere(sub)
    return command


def run_cli(cli: click.Group, argv: list[str] | None) -> int:
    """Run the click group; map errors to their exit code, with a traceback only if -v.

    The exit code is the same at every verbosity: ``-v`` adds the traceback, nothing else.
    Remote file systems still open are closed before returning (see :func:`release_native`).
    """
    try:
        return _run_cli(cli, argv)
    finally:
        release_native()


def release_native() -> None:
    """Drop pyarrow's S3/GCS clients held by footer readers, before the interpreter exits.

    pyarrow finalizes its S3 library in an ``atexit`` hook; a client still alive then (or
    used by a thread) aborts the process after its output was written. Engines close
    their own when closed; this catches any left open (an error path, a leaked engine).
    """
    footers = sys.modules.get("idcbq.sources.footers")
    if footers is not None:
        footers.close_all()


def _run_cli(cli: click.Group, argv: list[str] | None) -> int:
    import warnings

    from idcbq.engines.empty import NoRowsWarning

    VERBOSITY.update(verbose=0, quiet=False)
    warnings.filterwarnings("ignore", category=NoRowsWarning)  # the CLI prints the hint itself
    try:
        cli.main(args=argv, prog_name="idcbq", standalone_mode=False)
    except (BrokenPipeError, ReaderGone):  # `idcbq sql ... | head`: the reader has enough
        _silence_stdout()
        return ExitCode.OK
    except IdcbqError as exc:
        if VERBOSITY["verbose"]:
            _print_traceback()
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
    try:  # what is still buffered: a reader gone now is no failure either
        sys.stdout.flush()
    except BrokenPipeError:
        _silence_stdout()
    except (OSError, ValueError, AttributeError):
        pass
    return ExitCode.OK


def _print_traceback() -> None:
    import contextlib
    import traceback

    with contextlib.suppress(BrokenPipeError):  # stderr closed too
        traceback.print_exc(file=sys.stderr)


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
