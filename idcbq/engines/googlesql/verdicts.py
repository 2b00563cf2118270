"""A cache of GoogleSQL's verdicts, so a query seen before costs no analyzer start.

Key: SHA-256 of the SQL text, the parameters' names and types, the fingerprint of the
schemas of the tables the query names, and the analyzer's version (zetasql and
wasmtime versions, the BigQuery feature map, idcbq's version: its compat rewrites).
Value: ``{"ok": true}`` or the refusal (message, line, column, hint) in the rendered
SQL's coordinates. One small JSON file per verdict, written atomically.

Folder: env ``IDCBQ_GOOGLESQL_CACHE``, else ``googlesql_cache`` in the config file, else
``<idcbq cache>/zetasql``; the compiled analyzer module lives there too, so pointing it
at persistent storage (a Colab drive, a container volume) keeps both.

Example:
    >>> key = verdict_key("SELECT 1", {}, "schema-fp")
    >>> len(key)
    64
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from functools import cache
from pathlib import Path
from typing import Any

from idcbq.core.cachefile import replace_file

ENV = "IDCBQ_GOOGLESQL_CACHE"
_MEMORY: dict[str, dict[str, Any]] = {}


def cache_root() -> Path:
    """The GoogleSQL cache folder (env, then config ``googlesql_cache``, then default)."""
    override = os.environ.get(ENV)
    if override:
        return Path(override).expanduser()
    with contextlib.suppress(Exception):  # a broken config file is reported by the CLI
        from idcbq.config import config_path, load_file

        configured = load_file(config_path()).get("googlesql_cache")
        if configured:
            return Path(str(configured)).expanduser()
    from idcbq.sources.releases import cache_dir

    return cache_dir() / "zetasql"


#: Bumped when a verdict gains fields (2: ok verdicts carry the output types;
#: 3: value tables' types, duplicate result names refused; 5: each expression's type
#: by its source span, for the typed rewrites).
VERDICT_FORMAT = 5


@cache
def analyzer_version() -> str:
    """Versions that change verdicts: zetasql, wasmtime, the feature map, idcbq."""
    import importlib.metadata
    from importlib import resources

    from idcbq.core.version import __version__

    parts = [__version__, f"verdicts{VERDICT_FORMAT}"]
    for dist in ("zetasql", "wasmtime"):
        try:
            parts.append(f"{dist}{importlib.metadata.version(dist)}")
        except importlib.metadata.PackageNotFoundError:
            parts.append(f"{dist}-missing")
    features = resources.files("idcbq").joinpath("data", "bigquery_features.json").read_bytes()
    parts.append(hashlib.sha256(features).hexdigest()[:16])
    return "/".join(parts)


_DIGESTS: dict[int, tuple[Any, str]] = {}


def _digest(fields: Any) -> str:
    """Digest of one table's fields, memoized by identity (schemas are cached tuples)."""
    hit = _DIGESTS.get(id(fields))
    if hit is not None and hit[0] is fields:
        return hit[1]
    digest = hashlib.sha256(repr(fields).encode()).hexdigest()
    if len(_DIGESTS) > 256:
        _DIGESTS.clear()
    _DIGESTS[id(fields)] = (fields, digest)
    return digest


def schema_fingerprint(tables: dict[tuple[str, str], Any]) -> str:
    """A digest of the resolved tables' fields (``{(dataset, table): fields}``)."""
    h = hashlib.sha256()
    for key in sorted(tables):
        h.update(repr(key).encode() + _digest(tables[key]).encode())
    return h.hexdigest()


def verdict_key(sql: str, param_types: dict[str, str], fingerprint: str) -> str:
    payload = json.dumps(
        [analyzer_version(), sql, sorted(param_types.items()), fingerprint], separators=(",", ":")
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def _path(key: str) -> Path:
    return cache_root() / "verdicts" / key[:2] / f"{key}.json"


def lookup(key: str) -> dict[str, Any] | None:
    """The stored verdict (memory, then disk) or None."""
    hit = _MEMORY.get(key)
    if hit is not None:
        return hit
    try:
        data = json.loads(_path(key).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or "ok" not in data:
        return None
    _MEMORY[key] = data
    return data


def store(key: str, verdict: dict[str, Any]) -> None:
    """Keep a verdict in memory and on disk (temp file + rename; disk errors ignored)."""
    _MEMORY[key] = verdict
    path = _path(key)
    with contextlib.suppress(OSError):
        replace_file(path, json.dumps(verdict).encode())


def clear_memory() -> None:
    """Forget in-process verdicts (tests, benches)."""
    _MEMORY.clear()
