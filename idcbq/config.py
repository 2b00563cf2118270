"""User defaults for the CLI: a config file plus environment variables.

Precedence, highest first: a command-line flag, an environment variable, the config
file, the built-in default. The file is TOML at ``$IDCBQ_CONFIG`` or, if that is unset,
``config.toml`` in the user config directory (``~/.config/idcbq/`` on Linux)::

    # ~/.config/idcbq/config.toml
    engine = "bigquery"
    project = "my-billing-project"
    idc_version = "v25"
    max_bytes_billed = "50GB"           # the cost cap (or bytes: 50_000_000_000)
    # source = "/data/idc-export"       # DuckDB export root
    # googlesql_cache = "/content/drive/MyDrive/idcbq-googlesql"  # analyzer module + verdicts

Environment variables: ``IDCBQ_ENGINE``, ``IDCBQ_PROJECT`` (else ``GOOGLE_CLOUD_PROJECT``),
``IDCBQ_IDC_VERSION``, ``IDCBQ_MAX_BYTES_BILLED``, ``IDCBQ_SOURCE``,
``IDCBQ_GOOGLESQL_CACHE``.

pydantic (about 0.1 s to import) loads only when there is something to validate: a
CLI run with no config file and no ``IDCBQ_*`` variable never imports it.

Example:
    >>> from idcbq.config import Settings
    >>> Settings(engine="bigquery", max_bytes_billed=10).as_defaults()
    {'engine': 'bigquery', 'max_bytes_billed': 10}
    >>> Settings.model_validate({"engine": "sqlite"})          # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    pydantic_core._pydantic_core.ValidationError: 1 validation error for Settings...
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from idcbq.errors import Location, UsageError

if TYPE_CHECKING:
    from idcbq.io.settings import Settings

CONFIG_ENV = "IDCBQ_CONFIG"

#: Setting -> environment variables that set it, first found wins.
ENV_VARS: dict[str, tuple[str, ...]] = {
    "engine": ("IDCBQ_ENGINE",),
    "project": ("IDCBQ_PROJECT", "GOOGLE_CLOUD_PROJECT"),
    "idc_version": ("IDCBQ_IDC_VERSION",),
    "max_bytes_billed": ("IDCBQ_MAX_BYTES_BILLED",),
    "source": ("IDCBQ_SOURCE",),
}


class ConfigError(UsageError):
    """The config file or an environment default is invalid (exit code 2)."""


def config_path(environ: Mapping[str, str] | None = None) -> Path:
    """``$IDCBQ_CONFIG``, else ``<user config dir>/idcbq/config.toml``."""
    environ = os.environ if environ is None else environ
    if environ.get(CONFIG_ENV):
        return Path(environ[CONFIG_ENV]).expanduser()
    from platformdirs import user_config_dir

    return Path(user_config_dir("idcbq")) / "config.toml"


def load_file(path: Path, *, required: bool = False) -> dict[str, Any]:
    """The raw settings of a config file ({} if it does not exist and is not required)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if required:
            raise ConfigError(
                "config file not found", location=Location(str(path)), hint=f"unset {CONFIG_ENV}"
            ) from None
        return {}
    except OSError as exc:
        raise ConfigError(
            f"cannot read config: {exc.strerror}", location=Location(str(path))
        ) from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        from idcbq.jobs.locate import toml_error

        message, line = toml_error(exc)
        raise ConfigError(f"invalid TOML: {message}", location=_loc(path, text, line)) from None
    _validate(data, path, text)
    return data


def load_env(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Settings given by environment variables."""
    environ = os.environ if environ is None else environ
    found: dict[str, Any] = {}
    for key, names in ENV_VARS.items():
        for name in names:
            if environ.get(name):
                found[key] = environ[name]
                break
    return found


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Config file overlaid with environment variables (env wins)."""
    environ = os.environ if environ is None else environ
    path = config_path(environ)
    merged = {**load_file(path, required=bool(environ.get(CONFIG_ENV))), **load_env(environ)}
    return _settings(merged, path, environ)


def load_defaults(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """``load_settings(environ).as_defaults()``, without pydantic when nothing is set."""
    environ = os.environ if environ is None else environ
    path = config_path(environ)
    merged = {**load_file(path, required=bool(environ.get(CONFIG_ENV))), **load_env(environ)}
    return _settings(merged, path, environ).as_defaults() if merged else {}


def _settings(merged: dict[str, Any], path: Path, environ: Mapping[str, str]) -> Settings:
    from pydantic import ValidationError

    from idcbq.io.settings import Settings

    try:
        return Settings.model_validate(merged)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"])
        names = ENV_VARS.get(key, ())
        origin = next((n for n in names if environ.get(n)), None)
        where = f"environment variable {origin}" if origin else str(path)
        raise ConfigError(f"{where}: {key}: {first['msg']}") from None


def _validate(data: dict[str, Any], path: Path, text: str) -> None:
    if not data:
        return  # an empty file sets nothing: no need to load pydantic
    from pydantic import ValidationError

    from idcbq.io.settings import Settings

    try:
        Settings.model_validate(data)
    except ValidationError as exc:
        from idcbq.jobs.locate import toml_line

        first = exc.errors()[0]
        where = tuple(str(p) for p in first["loc"])
        dotted = ".".join(where)
        if first["type"] == "extra_forbidden":
            message = f"unknown setting {dotted!r}"
            hint = f"known settings: {', '.join(Settings.model_fields)}"
        else:
            message, hint = f"{dotted}: {first['msg']} (got {first.get('input')!r})", None
        raise ConfigError(
            message, location=_loc(path, text, toml_line(text, where)), hint=hint
        ) from None


def _loc(path: Path, text: str, line: int | None) -> Location:
    lines = text.splitlines()
    snippet = lines[line - 1] if line and 0 < line <= len(lines) else None
    return Location(str(path), line, None, snippet)


class DefaultMap(dict):
    """A click ``default_map`` that gives every (sub)command the same settings.

    Click looks up a subcommand's defaults with ``default_map.get(command_name)``;
    answering any non-setting name with this same map lets nested groups
    (``idcbq templates render``) inherit the settings without importing them.
    """

    def get(self, key: Any, default: Any = None) -> Any:
        if key in self:
            return self[key]
        # Click < 8.3 also asks ``get(param_name)`` for every parameter's default, so
        # answer with this map only for a subcommand of the group being run (the
        # current context while click builds the subcommand's context).
        import click

        ctx = click.get_current_context(silent=True)
        if (
            ctx is not None
            and isinstance(ctx.command, click.Group)
            and key in ctx.command.list_commands(ctx)
        ):
            return self
        return default


def __getattr__(name: str) -> Any:
    if name == "Settings":  # defined with pydantic, imported on first use
        from idcbq.io.settings import Settings

        return Settings
    raise AttributeError(f"module 'idcbq.config' has no attribute {name!r}")
