"""IPython magics: ``%%idcbq`` runs a cell of BigQuery SQL, ``%idcbq NAME`` a named template.

Flags mirror Google's ``%%bigquery`` magic (both spellings accepted)::

    %load_ext idcbq
    %%idcbq df --engine bigquery --project my-proj --params {"m": ["CT", "MR"]}
    SELECT Modality, COUNT(*) n FROM dicom_all WHERE Modality IN UNNEST(@m) GROUP BY 1

    %%idcbq --dry-run --max-bytes-billed 10GB
    SELECT * FROM dicom_all

    %idcbq cohort.series_by_modality -p modalities=CT,MR series

``%idcbq`` alone, ``%idcbq --help`` and ``%%idcbq --help`` print the usage, as
``%%bigquery --help`` does; ``%idcbq?`` shows both forms'. ``--params`` is a JSON object; a key ``name:TYPE`` declares the type (``{"d:DATE":
"2024-01-01"}``), otherwise it is taken from the JSON value. Results display as
DataFrames; with a ``result_var`` they are stored in that variable instead.

Defaults come from the same chain as the CLI: a flag, else its environment variable
(``IDCBQ_ENGINE``, ``IDCBQ_SOURCE``, ``GOOGLE_CLOUD_PROJECT``, ...), else the config file
(:mod:`idcbq.config`), else the built-in default (engine ``duckdb`` on the embedded sample).
An error raises, so "Run all" stops at that cell, and shows as its one-line message and
hint, not a traceback.

Both go through :class:`idcbq.api.Client` exactly as ``idcbq query`` / ``idcbq sql`` do
(render -> offline validation -> engine), and take the same engine options
(:mod:`idcbq.cli.options`), so a bad column is reported before BigQuery is asked.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
from typing import Any, NoReturn

from idcbq.errors import IdcbqError, ParameterError, UsageError

_ENGINE_CACHE_ATTR = "_idcbq_engines"


_HELP_FLAGS = ("-h", "--help")

#: What each form does, shown above its flags by ``--help`` (argparse formats these only if
#: they contain "%(prog)", so a "%" here is literal).
_DESCRIPTIONS = {
    True: "Run the cell's BigQuery SQL (GoogleSQL) on the chosen engine and show the result "
    "as a DataFrame, or store it in RESULT_VAR.",
    False: "Run the named template NAME (see `idcbq templates list`) with -p name=value "
    "parameters and show the result as a DataFrame, or store it in RESULT_VAR.",
}
_EPILOGS = {
    True: 'Example:\n  %%idcbq df --engine bigquery --project my-proj --params {"m": ["CT"]}\n'
    "  SELECT Modality, COUNT(*) n FROM dicom_all WHERE Modality IN UNNEST(@m) GROUP BY 1",
    False: "Example:\n  %idcbq cohort.series_by_modality -p modalities=CT,MR series\n\n"
    "A cell of SQL: %%idcbq --help. Without flags, options come from the environment and "
    "the config file as on the CLI (engine duckdb on the embedded sample).",
}


class _MagicArgumentParser(argparse.ArgumentParser):
    """argparse for a magic line: errors raise :class:`UsageError`, never exit the kernel."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}", hint=f"{self.prog} --help shows the usage")


def _parser(prog: str, *, cell: bool) -> argparse.ArgumentParser:
    from idcbq.cli.options import add_argparse_options

    # argparse %-formats usage, help and descriptions with the prog; a literal "%" in the
    # prog ("%idcbq") must be given as "%%" wherever argparse formats it, so the usage is
    # spelled out here (argparse's generated one is %-formatted twice by the intermixed parse).
    positional = "[RESULT_VAR]" if cell else "NAME [RESULT_VAR]"
    usage = f"{prog.replace('%', '%%')} {positional} [options]"
    parser = _MagicArgumentParser(
        prog=prog,
        usage=usage,
        description=_DESCRIPTIONS[cell],
        epilog=_EPILOGS[cell],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        add_help=False,
        exit_on_error=False,
    )
    parser.add_argument("-h", "--help", action="store_true", help="Show this help.")
    if cell:
        parser.add_argument(
            "result_var", nargs="?", metavar="RESULT_VAR", help="Variable to store the result in."
        )
        parser.add_argument(
            "--params",
            default=None,
            metavar="JSON",
            help='Query parameters as a JSON object; a key "name:TYPE" declares the type.',
        )
    else:
        parser.add_argument(
            "name", metavar="NAME", help="Template name, e.g. cohort.series_by_modality."
        )
        parser.add_argument(
            "result_var", nargs="?", metavar="RESULT_VAR", help="Variable to store the result in."
        )
        parser.add_argument(
            "-p",
            "--param",
            dest="template_params",
            action="append",
            default=[],
            metavar="NAME=VALUE",
            help="Template parameter (repeatable; NAME:TYPE=VALUE declares the type).",
        )
    # The engine options of `idcbq query/sql/estimate`, plus %%bigquery's spellings.
    add_argparse_options(parser)
    parser.add_argument(
        "--dry-run",
        "--dry_run",
        dest="dry_run",
        action="store_true",
        help="Check the query and estimate the bytes it reads; run nothing.",
    )
    parser.add_argument("--quiet", action="store_true", help="No progress output.")
    parser.add_argument("--limit", type=int, default=None, help="Return at most this many rows.")
    return parser


def help_text(*, cell: bool) -> str:
    """The ``--help`` text of ``%%idcbq`` (``cell``) or ``%idcbq``."""
    return _parser("%%idcbq" if cell else "%idcbq", cell=cell).format_help()


def magic_docstring() -> str:
    """The magic's docstring (``%idcbq?``): both forms' ``--help``."""
    return (
        "IDC queries in a notebook: %idcbq NAME runs a named template, %%idcbq a cell of "
        "BigQuery SQL.\n\n" + help_text(cell=False) + "\n" + help_text(cell=True)
    )


def wants_help(line: str) -> bool:
    """True if the magic line asks for help: ``-h`` / ``--help`` anywhere in it."""
    try:
        tokens = shlex.split(line)
    except ValueError:
        return False
    return any(token in _HELP_FLAGS for token in tokens)


def parse_args(line: str, *, cell: bool) -> argparse.Namespace:
    """Parse a magic line; unknown flags are a UsageError naming them."""
    prog = "%%idcbq" if cell else "%idcbq"
    try:
        tokens = shlex.split(line)
    except ValueError as exc:
        raise UsageError(f"{prog}: cannot split {line!r}: {exc}") from exc
    if cell and "--params" in tokens:
        # JSON usually contains spaces: everything after --params up to the next flag is JSON.
        tokens = _rejoin_params(line)
    try:
        args, unknown = _parser(prog, cell=cell).parse_known_intermixed_args(tokens)
    except argparse.ArgumentError as exc:
        raise UsageError(f"{prog}: {exc}", hint=f"{prog} --help shows the usage") from exc
    if unknown:
        raise UsageError(
            f"{prog}: unknown argument(s) {' '.join(unknown)}",
            hint=f"{prog} --help shows the usage",
        )
    return args


def _rejoin_params(line: str) -> list[str]:
    before, _, after = line.partition("--params")
    after = after.strip()
    depth, end = 0, len(after)
    for i, ch in enumerate(after):
        if ch in "{[":
            depth += 1
        elif ch in "}]":
            depth -= 1
            if depth == 0:
                end = i + 1
                break
    return [*shlex.split(before), "--params", after[:end], *shlex.split(after[end:])]


def cell_params(text: str | None) -> list[Any]:
    """``--params`` JSON -> BoundParameters (``name:TYPE`` keys, or types from the values)."""
    from idcbq.params import BoundParameter, ParamType, infer_type

    if not text:
        return []
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParameterError(f"--params is not a JSON object: {exc.msg} in {text!r}") from exc
    if not isinstance(raw, dict):
        raise ParameterError(f"--params must be a JSON object, got {text!r}")
    bound = []
    for key, value in raw.items():
        name, _, type_text = key.partition(":")
        if type_text:
            ptype = ParamType.parse(type_text)
            if isinstance(value, str) and not ptype.is_array and ptype.scalar != "STRING":
                value = ptype.parse_text(value, name=name)
            elif ptype.is_array and isinstance(value, list):
                value = [
                    ptype.element_type.parse_text(v, name=name)
                    if isinstance(v, str) and ptype.scalar != "STRING"
                    else v
                    for v in value
                ]
        else:
            ptype = infer_type(value, name=f"--params {name}")
        bound.append(BoundParameter.of(name, ptype, value))
    return bound


def resolve_defaults(
    values: dict[str, Any], environ: Any = None, settings: Any = None
) -> dict[str, Any]:
    """Fill unset engine options as the CLI does: flag > env var > config file > default.

    The CLI gets this chain from click (an option's ``envvar``, then the ``default_map``
    that :func:`idcbq.config.load_settings` builds); this applies the same two steps to
    the magic's argparse values. ``None`` (or an empty list) means "not given".

    Example:
        >>> resolve_defaults({"engine": None}, environ={"IDCBQ_ENGINE": "bigquery"},
        ...                  settings={"engine": "duckdb", "project": "p"})
        {'engine': 'bigquery', 'project': 'p'}
    """
    from idcbq.cli.options import ENGINE_OPTIONS

    environ = os.environ if environ is None else environ
    if settings is None:
        from idcbq.config import load_settings

        settings = load_settings(environ).as_defaults()
    resolved = dict(values)
    for spec in ENGINE_OPTIONS:  # click's envvar step
        if spec.envvar and resolved.get(spec.dest) in (None, []) and environ.get(spec.envvar):
            resolved[spec.dest] = environ[spec.envvar]
    for key, value in settings.items():  # click's default_map step (config + env)
        if resolved.get(key) is None:
            resolved[key] = value
    if resolved.get("engine") is None:
        resolved["engine"] = "duckdb"  # the CLI's built-in default
    return resolved


def engine_args(args: argparse.Namespace) -> Any:
    """The magic's flags as :class:`idcbq.cli.options.EngineArgs`, defaults as on the CLI."""
    from idcbq.cli.options import EngineArgs

    return EngineArgs.from_mapping(resolve_defaults(dict(vars(args))))


def one_line_error(exc: IdcbqError) -> IdcbqError:
    """``exc`` made to show in IPython as ``error: message`` + hint, without a traceback.

    IPython renders an exception that has ``_render_traceback_`` with the lines it returns
    (the way ``%%bigquery`` errors look); the cell still fails, so "Run all" stops there.
    """
    lines = f"error: {exc}".splitlines()
    exc._render_traceback_ = lambda: lines  # type: ignore[attr-defined]
    return exc


def stop(message: str, *, hint: str | None = None) -> NoReturn:
    """Stop a notebook at this cell ("Run all" too) with a one-line message and hint.

    For set-up cells, e.g. while a billing-project placeholder is still in place.
    """
    raise one_line_error(UsageError(message, hint=hint))


class _Runner:
    """Clients cached per option set, so a notebook re-uses one connection."""

    def __init__(self) -> None:
        self.clients: dict[tuple[Any, ...], Any] = {}

    def client(self, args: argparse.Namespace) -> Any:
        conn = engine_args(args)
        key = (conn, args.quiet)
        if key not in self.clients:
            self.clients[key] = conn.connect(progress=not args.quiet)
        return self.clients[key]

    def run(self, shell: Any, args: argparse.Namespace, prepared_of: Any) -> Any:
        """``prepared_of(client)`` renders + validates; then dry-run or execute."""
        from idcbq.validate.gate import describe

        client = self.client(args)
        previous = client.googlesql_analysis
        # A dry run also asks GoogleSQL's analyzer (what BigQuery itself would reject).
        client.googlesql_analysis = previous or args.dry_run
        try:
            prepared = prepared_of(client)
        finally:
            client.googlesql_analysis = previous
        if args.dry_run:
            if client.engine.name != "bigquery":
                # Checked (render + validate); DuckDB estimates the Parquet bytes it would read
                # from the footers, nothing is billed. googlesql cannot estimate.
                estimated = client.engine.estimate_bytes(prepared)
                if estimated is None:
                    print(
                        f"Query validated. {client.engine.name} cannot estimate the bytes it reads."
                    )
                else:
                    print(f"Query validated. This query will process {estimated} bytes.")
                print(describe(prepared.validated_by))
                print(
                    f"{client.engine.name} bills nothing; use --engine bigquery for BigQuery's cost."
                )
                if args.result_var:
                    shell.user_ns[args.result_var] = estimated
                return None
            est = client.engine.estimate(prepared)
            print(f"Query validated. This query will process {est.processed_bytes} bytes.")
            print(describe(prepared.validated_by))
            print(est.describe())
            if args.result_var:
                shell.user_ns[args.result_var] = est
            return None
        frame = client.execute(prepared, limit=args.limit).to_pandas()
        if args.result_var:
            shell.user_ns[args.result_var] = frame
            return None
        return frame

    def close(self) -> None:
        for client in self.clients.values():
            client.close()
        self.clients.clear()


def _magics_class() -> type:
    from IPython.core.magic import Magics, line_cell_magic, magics_class

    @magics_class
    class IdcbqMagics(Magics):
        """``%idcbq`` (named template) and ``%%idcbq`` (a cell of BigQuery SQL)."""

        def __init__(self, shell: Any):
            super().__init__(shell)
            self.runner = _Runner()

        def idcbq(self, line: str, cell: str | None = None) -> Any:
            if wants_help(line) or (cell is None and not line.strip()):
                print(help_text(cell=cell is not None))
                return None
            try:
                if cell is None:
                    return self._line(line)
                return self._cell(line, cell)
            except IdcbqError as exc:
                # One readable message, no traceback, as on the CLI; the cell fails.
                raise one_line_error(exc) from None

        # `%idcbq?` shows this docstring: what both forms do, then each one's flags.
        idcbq.__doc__ = magic_docstring()
        idcbq = line_cell_magic(idcbq)

        def _cell(self, line: str, cell: str) -> Any:
            args = parse_args(line, cell=True)
            bound = cell_params(args.params)
            sql = cell.strip()
            if not sql:
                raise UsageError("%%idcbq: the cell has no SQL")
            values = {p.name: p.value for p in bound}
            types = {p.name: str(p.type) for p in bound}
            return self.runner.run(
                self.shell,
                args,
                lambda client: client.prepare_sql(sql, params=values, types=types),
            )

        def _line(self, line: str) -> Any:
            from idcbq.cli.options import check_param_types, split_params

            args = parse_args(line, cell=False)
            values, types = split_params(tuple(args.template_params))

            def prepare(client: Any) -> Any:
                check_param_types(client.template(args.name), types)
                return client.prepare_template(args.name, values, from_text=True)

            return self.runner.run(self.shell, args, prepare)

    return IdcbqMagics


def cell_help_transform(lines: list[str]) -> list[str]:
    """IPython input transform: ``%%idcbq --help`` with no cell body shows the help.

    IPython refuses a cell magic whose body is empty before the magic is called; a cell that
    only asks for help gets a blank body, so ``%%idcbq --help`` works like ``%%bigquery --help``.
    """
    if not lines or not lines[0].startswith("%%idcbq"):
        return lines
    first = lines[0]
    if first[len("%%idcbq") :][:1] not in ("", " ", "\t", "\n"):
        return lines  # another magic whose name starts with idcbq
    if any(line.strip() for line in lines[1:]) or not wants_help(first[len("%%idcbq") :]):
        return lines
    return [first.rstrip("\n") + "\n", "\n"]


def load_ipython_extension(ipython: Any) -> None:
    """Register the magics on an IPython shell (``%load_ext idcbq``)."""
    ipython.register_magics(_magics_class())
    transforms = getattr(ipython, "input_transformers_cleanup", None)
    if transforms is not None and cell_help_transform not in transforms:
        transforms.append(cell_help_transform)
