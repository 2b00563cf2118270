"""Directory templates (idc-index style) and the sanitizing that keeps files inside ``--dest``.

A template is a path with ``%column`` placeholders, e.g. idc-index's default
``%collection_id/%PatientID/%StudyInstanceUID/%Modality_%SeriesInstanceUID``.
A placeholder takes the longest manifest column name that matches, so
``%Modality_%SeriesInstanceUID`` reads as ``Modality`` + ``_`` + ``SeriesInstanceUID``.

Example:
    >>> t = DirTemplate.parse(DEFAULT_TEMPLATE, ["collection_id", "PatientID",
    ...     "StudyInstanceUID", "Modality", "SeriesInstanceUID"])
    >>> t.render({"collection_id": "lidc_idri", "PatientID": "../../etc",
    ...           "StudyInstanceUID": "1.2", "Modality": "CT", "SeriesInstanceUID": "1.2.3"})
    'lidc_idri/_._.._etc/1.2/CT_1.2.3'
    >>> sanitize_component("..")
    '_'
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from idcbq.errors import DownloadError, UsageError

DEFAULT_TEMPLATE = "%collection_id/%PatientID/%StudyInstanceUID/%Modality_%SeriesInstanceUID"
#: Layout when a manifest has no metadata columns (foreign s5cmd / URL lists).
FLAT_TEMPLATE = "%crdc_series_uuid"
_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\]")
_MAX_COMPONENT = 200  # bytes; leaves room for the ".dcm" name and temp suffixes under NAME_MAX


def sanitize_component(value: Any) -> str:
    """One safe path component: no separators, NUL or control chars; never ``.``/``..``/empty."""
    text = "unknown" if value is None else str(value)
    text = _UNSAFE.sub("_", text).strip()
    if text in ("", ".", ".."):
        return "_"
    if text.startswith("."):
        text = "_" + text[1:]  # no hidden names: temp files are dot-files
    raw = text.encode("utf-8")
    if len(raw) > _MAX_COMPONENT:
        text = raw[:_MAX_COMPONENT].decode("utf-8", "ignore")
    return text


@dataclass(frozen=True)
class DirTemplate:
    """A parsed template: per path component, a list of literal strings and column names."""

    text: str
    parts: tuple[tuple[tuple[bool, str], ...], ...]

    @classmethod
    def parse(cls, text: str, columns: Iterable[str]) -> DirTemplate:
        """Parse ``text`` against the available ``columns`` (longest name wins)."""
        names = sorted(set(columns), key=len, reverse=True)
        if text.startswith("/") or re.match(r"^[A-Za-z]:", text):
            raise UsageError(f"directory template {text!r} must be relative to --dest")
        parts: list[tuple[tuple[bool, str], ...]] = []
        if text.strip("/") in ("", "."):
            return cls(text, ())  # files straight into --dest
        for comp in text.strip("/").split("/"):
            if comp in ("", ".", ".."):
                raise UsageError(f"directory template {text!r} has a {comp!r} component")
            pieces: list[tuple[bool, str]] = []
            i = 0
            while i < len(comp):
                if comp[i] == "%":
                    name = next((n for n in names if comp.startswith(n, i + 1)), None)
                    if name is None:
                        word = re.match(r"[A-Za-z_][A-Za-z0-9_]*", comp[i + 1 :])
                        raise UsageError(
                            f"directory template {text!r}: no manifest column "
                            f"{(word.group(0) if word else comp[i + 1 :])!r}",
                            hint="available: " + ", ".join(sorted(names)),
                        )
                    pieces.append((True, name))
                    i += len(name) + 1
                else:
                    j = comp.find("%", i)
                    j = len(comp) if j < 0 else j
                    pieces.append((False, comp[i:j]))
                    i = j
            parts.append(tuple(pieces))
        return cls(text, tuple(parts))

    @property
    def columns(self) -> list[str]:
        return [v for comp in self.parts for is_col, v in comp if is_col]

    def render(self, row: Mapping[str, Any]) -> str:
        """Relative directory for one row; each component sanitized as a whole."""
        comps = []
        for comp in self.parts:
            text = "".join(sanitize_component(row.get(v)) if is_col else v for is_col, v in comp)
            comps.append(sanitize_component(text))
        return "/".join(comps)


def contained(dest: Path, rel: str) -> Path:
    """``dest/rel``, refusing any path that would land outside ``dest``."""
    root = os.path.abspath(dest)
    full = os.path.abspath(os.path.join(root, rel))
    if os.path.commonpath([root, full]) != root or full == root:
        raise DownloadError(f"refusing to write outside {dest}: {rel!r}")
    return Path(full)


def make_dirs_within(
    dest_real: str, dest: Path, rel_dir: str, created: list[Path] | None = None
) -> Path:
    """Create ``dest/rel_dir`` one level at a time, refusing links that lead outside ``dest``.

    (``mkdir(parents=True)`` would follow a symlink and create directories elsewhere.)
    Folders it makes are appended to ``created``.
    """
    current = Path(dest)
    for comp in [c for c in rel_dir.split("/") if c]:
        current = current / comp
        if not current.is_dir():
            try:
                current.mkdir()
            except FileExistsError:
                pass
            else:
                if created is not None:
                    created.append(current)
        real = os.path.realpath(current)
        if os.path.commonpath([dest_real, real]) != dest_real:
            raise DownloadError(
                f"refusing to write through a link outside the destination: {current}"
            )
    return current
