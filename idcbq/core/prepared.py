"""Prepared queries kept on disk, so a query run again skips rendering, checks and translation.

An entry holds what running a query took once it had passed every check: the DuckDB
statements that set up its views, its final DuckDB SQL, the ``$names`` it binds and the
types of its result columns. It is found by a key made of everything those depend on
(:func:`entry_key`): the code (idcbq's files and the packages that check and translate,
by their stat), the SQL text, the parameters' types, the settings. An entry also names
the files its views read and their folders, with their stat (:func:`stat_of`): a file
or folder changed, added or removed since makes it unusable (:func:`load`).

Only values are checked again on a hit (each must fit its type); anything that cannot
be verified is a miss, and the caller takes the full path.

Example:
    >>> import tempfile
    >>> root, data = Path(tempfile.mkdtemp()), Path(tempfile.mkdtemp())
    >>> key = entry_key({"sql": "SELECT 1"})
    >>> store(root, key, {"sql": "SELECT 1"}, paths=[str(data)])
    True
    >>> load(root, key)["sql"]
    'SELECT 1'
    >>> load(root, entry_key({"sql": "SELECT 2"})) is None
    True
    >>> _ = (data / "new.parquet").write_bytes(b"")  # the folder changed: a miss
    >>> load(root, key) is None
    True
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import sys
from collections.abc import Callable, Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from idcbq.core.cachefile import replace_file

#: Bumped when an entry's fields change meaning.
FORMAT = 1

#: Packages whose code decides what a query becomes (checked, translated, run).
DEPENDENCIES = ("duckdb", "sqlglot", "sqlglotc", "zetasql", "wasmtime", "pyarrow", "jinja2")


def stat_of(path: str) -> list[int] | None:
    """``[size, mtime_ns, inode]`` of ``path``, or None if it cannot be read."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return [st.st_size, st.st_mtime_ns, st.st_ino]


@cache
def code_fingerprint() -> str:
    """A digest of idcbq's own files and the installed dependencies (by their stat).

    Any edit, upgrade or reinstall changes a size, a time or an inode, so every entry
    made by other code misses.
    """
    digest = hashlib.sha256(f"{FORMAT}/{sys.version}".encode())
    digest.update(package_fingerprint(Path(__file__).resolve().parent.parent).encode())
    for name in DEPENDENCIES:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            spec = None
        origin = spec.origin if spec is not None else None
        seen = [stat_of(origin), stat_of(os.path.dirname(origin))] if origin else None
        digest.update(f"{name}={origin}={seen};".encode())
    return digest.hexdigest()


def package_fingerprint(package: Path) -> str:
    """A digest of the names and stat of every file under ``package`` (bytecode aside)."""
    digest = hashlib.sha256()
    for folder, dirs, files in os.walk(package):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith((".pyc", ".tmp")):
                continue
            path = os.path.join(folder, name)
            digest.update(f"{os.path.relpath(path, package)}={stat_of(path)};".encode())
    return digest.hexdigest()


def entry_key(parts: Mapping[str, Any]) -> str:
    """The key of an entry: the code's fingerprint and ``parts`` (JSON-able), hashed."""
    payload = json.dumps(
        [FORMAT, code_fingerprint(), parts], sort_keys=True, separators=(",", ":"), default=repr
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def _path(root: Path, key: str) -> Path:
    return root / key[:2] / f"{key}.json"


def load(root: Path, key: str) -> dict[str, Any] | None:
    """The entry under ``key`` if every path it names has the stat it had; else None."""
    try:
        data = json.loads(_path(root, key).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("key") != key or data.get("format") != FORMAT:
        return None
    paths = data.get("paths")
    if not isinstance(paths, list) or not paths:
        return None
    for item in paths:
        if not (isinstance(item, list) and len(item) == 2 and isinstance(item[0], str)):
            return None
        if item[1] is None or stat_of(item[0]) != item[1]:
            return None
    entry = data.get("entry")
    return entry if isinstance(entry, dict) else None


def store(
    root: Path,
    key: str,
    entry: Mapping[str, Any],
    *,
    paths: Iterable[str],
    still_true: Callable[[], bool] | None = None,
) -> bool:
    """Keep ``entry`` under ``key`` with the stat of ``paths`` (atomic); True if kept.

    A path that cannot be read now is not kept at all: nothing could verify it later.
    ``still_true()``, called after the stat is taken, says the entry still describes
    the paths (a file added to a folder before its stat was taken would be missed).
    """
    stats = [[p, stat_of(p)] for p in dict.fromkeys(paths)]
    if not stats or any(s is None for _, s in stats):
        return False
    if still_true is not None and not still_true():
        return False
    data = {"format": FORMAT, "key": key, "paths": stats, "entry": dict(entry)}
    path = _path(root, key)
    try:
        replace_file(path, json.dumps(data).encode())
    except (OSError, TypeError, ValueError):  # a cache that cannot be written: no entry
        return False
    return True
