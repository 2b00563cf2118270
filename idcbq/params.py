"""Typed query parameters: declared types, parsing CLI text, checking Python values.

A parameter value is never pasted into SQL. It is bound natively by the engine
(``@name`` on BigQuery, ``$name`` on DuckDB) with its declared type.

Example:
    >>> t = ParamType.parse("ARRAY<INT64>")
    >>> t.parse_text("1,2,3")
    [1, 2, 3]
    >>> ParamType.parse("STRING").parse_text("2024-01-01")
    '2024-01-01'
    >>> ParamType.parse("DATE").parse_text("2024-01-01")
    datetime.date(2024, 1, 1)
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from dataclasses import dataclass
from typing import Any

from idcbq.errors import ParameterError

SCALAR_TYPES = ("STRING", "INT64", "FLOAT64", "BOOL", "DATE", "TIMESTAMP")
_ALIASES = {
    "INT": "INT64",
    "INTEGER": "INT64",
    "BIGINT": "INT64",
    "FLOAT": "FLOAT64",
    "DOUBLE": "FLOAT64",
    "BOOLEAN": "BOOL",
    "STR": "STRING",
}
_DUCKDB_TYPES = {
    "STRING": "VARCHAR",
    "INT64": "BIGINT",
    "FLOAT64": "DOUBLE",
    "BOOL": "BOOLEAN",
    "DATE": "DATE",
    "TIMESTAMP": "TIMESTAMPTZ",
}
_ARRAY_RE = re.compile(r"^ARRAY\s*<\s*(\w+)\s*>$", re.IGNORECASE)
_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f"}


@dataclass(frozen=True)
class ParamType:
    """A BigQuery parameter type: a scalar, or ``ARRAY<scalar>``."""

    scalar: str
    is_array: bool = False

    @classmethod
    def parse(cls, text: str) -> ParamType:
        """Parse ``STRING``, ``int64``, ``ARRAY<STRING>``, ... (aliases accepted)."""
        raw = str(text).strip()
        match = _ARRAY_RE.match(raw)
        inner = match.group(1) if match else raw
        scalar = _ALIASES.get(inner.upper(), inner.upper())
        if scalar not in SCALAR_TYPES:
            raise ParameterError(
                f"unknown parameter type {text!r}",
                hint=f"use one of {', '.join(SCALAR_TYPES)} or ARRAY<...> of them",
            )
        return cls(scalar=scalar, is_array=match is not None)

    def __str__(self) -> str:
        return f"ARRAY<{self.scalar}>" if self.is_array else self.scalar

    @property
    def duckdb_type(self) -> str:
        base = _DUCKDB_TYPES[self.scalar]
        return f"{base}[]" if self.is_array else base

    def parse_text(self, text: str, *, name: str = "value") -> Any:
        """Parse a CLI string by the declared type; ``NULL`` (any case) means None.

        Arrays accept a JSON list (``["a","b"]``) or comma-separated items.
        """
        if text.strip().upper() == "NULL":
            return None
        if not self.is_array:
            return _parse_scalar(self.scalar, text, name)
        stripped = text.strip()
        if stripped.startswith("["):
            try:
                items = json.loads(stripped)
            except json.JSONDecodeError as exc:
                raise ParameterError(
                    f"parameter {name!r}: {text!r} is not a JSON list ({exc.msg})"
                ) from exc
            if not isinstance(items, list):
                raise ParameterError(f"parameter {name!r}: {text!r} is not a list")
            return [self.element_type.check(v, name=name) for v in items]
        if stripped == "":
            return []
        return [_parse_scalar(self.scalar, part.strip(), name) for part in stripped.split(",")]

    @property
    def element_type(self) -> ParamType:
        return ParamType(self.scalar)

    def check(self, value: Any, *, name: str = "value") -> Any:
        """Validate (and normalise) a Python value for this type; raise ParameterError if wrong."""
        if value is None:
            return None
        if self.is_array:
            if isinstance(value, str | bytes) or not isinstance(
                value, list | tuple | set | frozenset
            ):
                raise ParameterError(
                    f"parameter {name!r} expects {self}, got {type(value).__name__} {value!r}"
                )
            items = sorted(value) if isinstance(value, set | frozenset) else list(value)
            out = []
            for item in items:
                if item is None:
                    raise ParameterError(f"parameter {name!r}: arrays may not contain NULL")
                out.append(self.element_type.check(item, name=name))
            return out
        return _check_scalar(self.scalar, value, name)


def _parse_scalar(scalar: str, text: str, name: str) -> Any:
    try:
        if scalar == "STRING":
            return text
        if scalar == "INT64":
            return _check_scalar(scalar, int(text.strip()), name)
        if scalar == "FLOAT64":
            return float(text.strip())
        if scalar == "BOOL":
            low = text.strip().lower()
            if low in _TRUE:
                return True
            if low in _FALSE:
                return False
            raise ValueError(text)
        if scalar == "DATE":
            return dt.date.fromisoformat(text.strip())
        if scalar == "TIMESTAMP":
            return _as_utc(dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00")))
    except ValueError as exc:
        raise ParameterError(f"parameter {name!r}: {text!r} is not a valid {scalar}") from exc
    raise AssertionError(scalar)


def _as_utc(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def _check_scalar(scalar: str, value: Any, name: str) -> Any:
    def wrong() -> ParameterError:
        return ParameterError(
            f"parameter {name!r} expects {scalar}, got {type(value).__name__} {value!r}"
        )

    if scalar == "STRING":
        if not isinstance(value, str):
            raise wrong()
        return value
    if scalar == "INT64":
        if isinstance(value, bool) or not isinstance(value, int):
            raise wrong()
        if not -(2**63) <= value < 2**63:
            raise ParameterError(f"parameter {name!r}: {value} does not fit in INT64")
        return value
    if scalar == "FLOAT64":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise wrong()
        value = float(value)
        if math.isnan(value):
            return value
        return value
    if scalar == "BOOL":
        if not isinstance(value, bool):
            raise wrong()
        return value
    if scalar == "DATE":
        if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
            raise wrong()
        return value
    if scalar == "TIMESTAMP":
        if not isinstance(value, dt.datetime):
            raise wrong()
        return _as_utc(value)
    raise AssertionError(scalar)


def infer_type(value: Any, *, name: str = "value") -> ParamType:
    """The BigQuery type of a Python value given without a declared type.

    Example:
        >>> str(infer_type(["CT", "MR"])), str(infer_type(3)), str(infer_type(None))
        ('ARRAY<STRING>', 'INT64', 'STRING')
    """

    def scalar(item: Any) -> str:
        if isinstance(item, bool):
            return "BOOL"
        if isinstance(item, int):
            return "INT64"
        if isinstance(item, float):
            return "FLOAT64"
        if isinstance(item, dt.datetime):
            return "TIMESTAMP"
        if isinstance(item, dt.date):
            return "DATE"
        if isinstance(item, str) or item is None:
            return "STRING"
        raise ParameterError(
            f"parameter {name!r}: cannot bind a {type(item).__name__}",
            hint=f"declare its type ({name}:TYPE) or pass a str/int/float/bool/date/datetime/list value",
        )

    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value) if isinstance(value, set | frozenset) else list(value)
        return ParamType(scalar(items[0]) if items else "STRING", is_array=True)
    return ParamType(scalar(value))


@dataclass(frozen=True)
class BoundParameter:
    """A checked value with its declared type, ready for an engine to bind natively."""

    name: str
    type: ParamType
    value: Any

    @classmethod
    def of(cls, name: str, type_: str | ParamType, value: Any) -> BoundParameter:
        ptype = type_ if isinstance(type_, ParamType) else ParamType.parse(type_)
        return cls(name=name, type=ptype, value=ptype.check(value, name=name))


def parse_cli_param(text: str) -> tuple[str, str | None, str]:
    """Split ``name=value`` or ``name:TYPE=value`` as given to ``-p``.

    Example:
        >>> parse_cli_param("modalities:ARRAY<STRING>=CT,MR")
        ('modalities', 'ARRAY<STRING>', 'CT,MR')
        >>> parse_cli_param("collection_id=nlst")
        ('collection_id', None, 'nlst')
    """
    if "=" not in text:
        raise ParameterError(f"-p {text!r}: expected name=value or name:TYPE=value")
    key, value = text.split("=", 1)
    type_text = None
    if ":" in key:
        key, type_text = key.split(":", 1)
    key = key.strip()
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
        raise ParameterError(f"-p {text!r}: {key!r} is not a valid parameter name")
    return key, (type_text.strip() if type_text else None), value
