"""Find the line of a key path in a TOML or YAML file, so spec errors can name it.

Example:
    >>> text = "[query]\\ntemplate = 'x'\\n[engine]\\nname = 'duckdb'\\n"
    >>> toml_line(text, ("engine", "name"))
    4
    >>> yaml_line("query:\\n  template: x\\nengine:\\n  name: duckdb\\n", ("engine", "name"))
    4
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_TABLE_RE = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")
_KEY_RE = re.compile(r"^\s*([A-Za-z0-9_.\-\"']+)\s*=")


def _split_key(text: str) -> tuple[str, ...]:
    return tuple(part.strip().strip("\"'") for part in text.split("."))


def toml_line(text: str, path: Sequence[str | int]) -> int | None:
    """1-based line of ``path`` (table names then key) in TOML text; the nearest parent if absent."""
    keys = tuple(str(p) for p in path if not isinstance(p, int))
    best: int | None = None
    best_len = 0
    table: tuple[str, ...] = ()
    for number, line in enumerate(text.splitlines(), start=1):
        if match := _TABLE_RE.match(line):
            table = _split_key(match.group(1))
            full = table
        elif match := _KEY_RE.match(line):
            full = table + _split_key(match.group(1))
        else:
            continue
        common = _common_prefix(full, keys)
        if common > best_len or (common == len(keys) and common == best_len and best is None):
            best, best_len = number, common
        if common == len(keys) and len(full) == len(keys):
            return number
    return best


def yaml_line(text: str, path: Sequence[str | int]) -> int | None:
    """1-based line of ``path`` in YAML text (via PyYAML's node marks)."""
    import yaml

    try:
        node = yaml.compose(text)
    except yaml.YAMLError:
        return None
    line = None
    for key in path:
        if node is None:
            break
        line = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            found = None
            for knode, vnode in node.value:
                if str(knode.value) == str(key):
                    line = knode.start_mark.line + 1
                    found = vnode
                    break
            node = found
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
            line = node.start_mark.line + 1
        else:
            break
    return line


def _common_prefix(a: tuple[str, ...], b: tuple[str, ...]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


_TOML_AT = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")


def toml_error(exc: Exception) -> tuple[str, int | None]:
    """Message and 1-based line of a ``tomllib.TOMLDecodeError`` (Python 3.11 puts both in text).

    Example:
        >>> import tomllib
        >>> try:
        ...     tomllib.loads("a = 1\\nb = \\n")
        ... except tomllib.TOMLDecodeError as exc:
        ...     toml_error(exc)
        ('Invalid value', 2)
    """
    line = getattr(exc, "lineno", None)
    text = getattr(exc, "msg", None) or str(exc)
    match = _TOML_AT.search(text)
    if match:
        text = text[: match.start()]
        line = line or int(match.group(1))
    return text, line
