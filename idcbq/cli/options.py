"""Engine options shared by ``idcbq query``, ``sql``, ``estimate`` (and the IPython magic).

One table, :data:`ENGINE_OPTIONS`, defines every option once; :func:`connection_options`
turns it into click options and hands the command a single :class:`EngineArgs`, and
:func:`add_argparse_options` gives the ``%idcbq`` magic the same flags.
``EngineArgs.connect()`` passes everything to :func:`idcbq.connect`; each engine's
``from_options`` ignores what it does not use (DuckDB has no billing project, BigQuery
no export root).

Example:
    >>> EngineArgs(engine="bigquery", max_bytes_billed=10, no_bqstorage=True).connect_kwargs()
    {'max_bytes_billed': 10, 'use_bqstorage': False}
"""

from __future__ import annotations

import argparse
import functools
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from typing import Any

import click

from idcbq.errors import ParameterError, UsageError

ENGINES = ("duckdb", "bigquery", "googlesql")


class ByteSize(click.ParamType):
    """A byte count: ``1000``, ``10GB`` (10**9) or ``1TiB`` (2**40)."""

    name = "BYTES"

    def convert(self, value: Any, param: Any, ctx: Any) -> int:
        if isinstance(value, int):
            return value
        return parse_byte_size(value, param.opts[0] if param else "--max-bytes-billed")


def parse_byte_size(value: Any, flag: str = "--max-bytes-billed") -> int:
    """Bytes from ``1000`` / ``10GB`` / ``1TiB``; a clear error naming the flag otherwise.

    Example:
        >>> parse_byte_size("1KiB"), parse_byte_size(7)
        (1024, 7)
    """
    from idcbq.engines.bigquery.cost import parse_size

    try:
        size = parse_size(value if isinstance(value, int) else str(value))
    except UsageError as exc:
        raise UsageError(f"{flag} {value!r}: not a byte size", hint=exc.hint) from None
    if size < 0:
        raise UsageError(f"{flag} must be >= 0, got {value!r}")
    return size


@dataclass(frozen=True)
class OptionSpec:
    """One engine option, rendered both as a click option and as an argparse flag."""

    dest: str
    flags: tuple[str, ...]
    help: str
    envvar: str | None = None
    is_flag: bool = False
    multiple: bool = False
    choices: tuple[str, ...] | None = None
    metavar: str | None = None
    #: Extra spellings accepted by the magic (Google's ``%%bigquery`` uses underscores).
    magic_aliases: tuple[str, ...] = ()

    def click_option(self, *, default: Any = None) -> Callable[[Any], Any]:
        kwargs: dict[str, Any] = {"help": self.help, "envvar": self.envvar}
        if self.is_flag:
            kwargs["is_flag"] = True
        elif self.multiple:
            kwargs.update(multiple=True, type=click.Path(file_okay=False))
        elif self.choices:
            kwargs["type"] = click.Choice(self.choices)
        elif self.dest == "max_bytes_billed":
            kwargs["type"] = ByteSize()
        if default is not None:
            kwargs.update(default=default, show_default=True)
        if self.metavar:
            kwargs["metavar"] = self.metavar
        return click.option(*self.flags, self.dest, **kwargs)


ENGINE_OPTIONS: tuple[OptionSpec, ...] = (
    OptionSpec("engine", ("--engine",), "Where to run (env IDCBQ_ENGINE).",
               envvar="IDCBQ_ENGINE", choices=ENGINES),
    OptionSpec("source", ("--source",),
               "DuckDB: export root (dir, s3://, gs://); default the embedded sample "
               "(env IDCBQ_SOURCE).", envvar="IDCBQ_SOURCE", metavar="ROOT"),
    OptionSpec("idc_version", ("--idc-version",),
               "IDC release the tables resolve to (env IDCBQ_IDC_VERSION).",
               envvar="IDCBQ_IDC_VERSION", metavar="vNN|current", magic_aliases=("--idc_version",)),
    OptionSpec("project", ("--project",),
               "BigQuery billing project (env GOOGLE_CLOUD_PROJECT).",
               envvar="GOOGLE_CLOUD_PROJECT"),
    OptionSpec("data_project", ("--data-project",),
               "Project holding the IDC datasets (default: bigquery-public-data).",
               metavar="PROJECT", magic_aliases=("--data_project",)),
    OptionSpec("key_file", ("--key-file",), "BigQuery: service-account key file.",
               metavar="FILE", magic_aliases=("--key_file",)),
    OptionSpec("location", ("--location",), "BigQuery location (e.g. US)."),
    OptionSpec("api_endpoint", ("--api-endpoint",),
               "BigQuery REST endpoint: a private endpoint or a local emulator "
               "(env IDCBQ_BIGQUERY_API_ENDPOINT).",
               envvar="IDCBQ_BIGQUERY_API_ENDPOINT", metavar="URL",
               magic_aliases=("--api_endpoint",)),
    OptionSpec("max_bytes_billed", ("--max-bytes-billed",),
               "BigQuery: refuse queries estimated above this many bytes (or 10GB, 1TiB); "
               "exit code 3 (env IDCBQ_MAX_BYTES_BILLED).",
               envvar="IDCBQ_MAX_BYTES_BILLED", metavar="BYTES",
               magic_aliases=("--maximum_bytes_billed",)),
    OptionSpec("no_bqstorage", ("--no-bqstorage",),
               "BigQuery: fetch results over REST, not the Storage Read API.",
               is_flag=True, magic_aliases=("--use_rest_api",)),
    OptionSpec("template_dirs", ("--templates",),
               "Extra template directory (repeatable; also env IDCBQ_TEMPLATES).",
               multiple=True, metavar="DIR"),
)  # fmt: skip
_SPECS = {spec.dest: spec for spec in ENGINE_OPTIONS}


@dataclass(frozen=True)
class EngineArgs:
    """The engine options one command was given (None = engine default)."""

    engine: str = "duckdb"
    source: str | None = None
    idc_version: str | None = None
    project: str | None = None
    data_project: str | None = None
    key_file: str | None = None
    location: str | None = None
    api_endpoint: str | None = None
    max_bytes_billed: int | None = None
    no_bqstorage: bool = False
    template_dirs: tuple[str, ...] = ()

    def connect_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for :func:`idcbq.connect` (unset options left out)."""
        kwargs: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in ("engine", "no_bqstorage") or value in (None, ()):
                continue
            kwargs["templates" if f.name == "template_dirs" else f.name] = value
        if self.no_bqstorage:
            kwargs["use_bqstorage"] = False
        return kwargs

    def connect(self, **extra: Any) -> Any:
        """``idcbq.connect(self.engine, ...)`` with these options plus ``extra``."""
        from idcbq.api import connect

        return connect(self.engine, **{**self.connect_kwargs(), **extra})

    @classmethod
    def from_mapping(cls, values: Any) -> EngineArgs:
        """From a dict or argparse Namespace holding (some of) the option dests."""
        get = values.get if isinstance(values, dict) else lambda k, d=None: getattr(values, k, d)
        kwargs: dict[str, Any] = {}
        for f in fields(cls):
            value = get(f.name, None)
            if value is None:
                continue
            if f.name == "template_dirs":
                value = tuple(value)
            elif f.name == "max_bytes_billed":
                value = parse_byte_size(value)
            kwargs[f.name] = value
        return cls(**kwargs)


def connection_options(func: Callable[..., Any] | None = None, *, engine: str | None = None) -> Any:
    """Add the engine options to a click command; it receives them as ``conn: EngineArgs``.

    Args:
        engine: pin the command to this engine (``estimate``: bigquery); ``--engine`` and
            ``--source`` are then not offered, so ``$IDCBQ_ENGINE`` cannot redirect it.
    """
    pinned = {"engine", "source"} if engine else set()
    dests = [s.dest for s in ENGINE_OPTIONS if s.dest not in pinned]

    def decorate(f: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(f)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            given = {d: kwargs.pop(d) for d in dests}
            if engine:
                given["engine"] = engine
            return f(*args, conn=EngineArgs.from_mapping(given), **kwargs)

        for dest in reversed(dests):
            default = "duckdb" if dest == "engine" else None
            wrapper = _SPECS[dest].click_option(default=default)(wrapper)
        return wrapper

    return decorate(func) if func is not None else decorate


def engine_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--engine --source --idc-version --project`` as separate arguments (``templates render``)."""
    for dest in ("project", "idc_version", "source"):
        func = _SPECS[dest].click_option()(func)
    return _SPECS["engine"].click_option(default="duckdb")(func)


def templates_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--templates DIR`` (repeatable) as ``template_dirs``."""
    return _SPECS["template_dirs"].click_option()(func)


def add_argparse_options(
    parser: argparse.ArgumentParser, *, skip: Iterable[str] = ()
) -> argparse.ArgumentParser:
    """The same engine options on an argparse parser (the IPython magic).

    Defaults are None, so :class:`EngineArgs` applies the engine defaults; ``--max-bytes-billed``
    falls back to ``$IDCBQ_MAX_BYTES_BILLED`` as on the CLI.
    """
    for spec in ENGINE_OPTIONS:
        if spec.dest in skip:
            continue
        flags = (*spec.flags, *spec.magic_aliases)
        kwargs: dict[str, Any] = {"dest": spec.dest, "help": spec.help}
        if spec.is_flag:
            kwargs["action"] = "store_true"
        elif spec.multiple:
            kwargs.update(action="append", default=[])
        else:
            kwargs["default"] = None
            if spec.choices:
                kwargs["choices"] = spec.choices
        if spec.dest == "max_bytes_billed":
            kwargs["default"] = os.environ.get("IDCBQ_MAX_BYTES_BILLED") or None
        parser.add_argument(*flags, **kwargs)
    return parser


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


def check_param_types(template: Any, types: dict[str, str]) -> None:
    """``-p name:TYPE=value`` on a template must agree with the type its header declares."""
    from idcbq.params import ParamType

    for pname, type_text in types.items():
        spec = template.header.parameters.get(pname)
        if spec is not None and ParamType.parse(type_text) != spec.param_type:
            raise ParameterError(
                f"-p {pname}:{type_text}: template {template.name!r} declares {spec.type}"
            )
