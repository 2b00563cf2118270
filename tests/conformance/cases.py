"""Parse ZetaSQL compliance test files (``*.test``) into cases.

A file is a list of blocks separated by a line ``==``. A block holds option lines
(``[name=...]``, ``[required_features=A,B]``, ``[prepare_database]``, ...), the SQL, a
line ``--`` and the expected result in ZetaSQL's value text (or ``ERROR: ...``).
``[default option=...]`` lines set an option for every later case of the file.
Comment lines (``#``) before the options are dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

_OPTION_RE = re.compile(r"^\[(default\s+)?([A-Za-z_]+)(?:=(.*))?\]\s*$", re.DOTALL)


@dataclass
class Case:
    """One compliance case (or one ``[prepare_database]`` table)."""

    file: str
    line: int
    name: str
    sql: str
    expected: str
    options: dict[str, str] = field(default_factory=dict)

    @property
    def prepare(self) -> bool:
        return "prepare_database" in self.options

    def features(self, key: str) -> list[str]:
        raw = self.options.get(key, "")
        return [f.strip() for f in raw.split(",") if f.strip()]

    @property
    def required(self) -> list[str]:
        return self.features("required_features")

    @property
    def forbidden(self) -> list[str]:
        return self.features("forbidden_features")

    @property
    def is_error(self) -> bool:
        return self.expected.lstrip().startswith("ERROR")

    @property
    def id(self) -> str:
        return f"{self.file}:{self.name or self.line}"


def _blocks(text: str) -> list[tuple[int, list[str]]]:
    """Blocks of lines with the 1-based line number each starts at."""
    out: list[tuple[int, list[str]]] = []
    start, cur = 1, []
    for i, line in enumerate(text.split("\n"), start=1):
        if line.rstrip() == "==":
            out.append((start, cur))
            start, cur = i + 1, []
        else:
            cur.append(line)
    if any(s.strip() for s in cur):
        out.append((start, cur))
    return out


def _option_lines(lines: list[str]) -> tuple[list[str], int]:
    """The option lines at the head of a block (an option may span lines) and where SQL starts."""
    opts: list[str] = []
    i = 0
    while i < len(lines):
        s = lines[i].strip()
        if not s or s.startswith("#"):
            i += 1
            continue
        if not s.startswith("["):
            break
        buf, j = s, i
        while not buf.endswith("]") and j + 1 < len(lines):  # a multi-line option
            j += 1
            buf += "\n" + lines[j].strip()
        opts.append(buf)
        i = j + 1
    return opts, i


def parse_file(path: Path) -> list[Case]:
    """All cases of one ``.test`` file, in order."""
    defaults: dict[str, str] = {}
    cases: list[Case] = []
    for start, lines in _blocks(path.read_text(encoding="utf-8")):
        opts, body = _option_lines(lines)
        options: dict[str, str] = {}
        for text in opts:
            m = _OPTION_RE.match(text)
            if not m:
                continue
            key, value = m.group(2).lower(), (m.group(3) or "").strip()
            if m.group(1):
                defaults[key] = value
            else:
                options[key] = value
        rest = lines[body:]
        try:
            sep = next(k for k, ln in enumerate(rest) if ln.rstrip() == "--")
        except StopIteration:
            if not any(ln.strip() and not ln.lstrip().startswith("#") for ln in rest):
                defaults.update(options)  # options only: settings for every later case
            continue  # else a statement with no result (CREATE CONSTANT ...)
        sql = "\n".join(rest[:sep]).strip()
        if not sql:
            continue
        merged = {**defaults, **options}
        for key in ("required_features", "forbidden_features"):
            if key in defaults and key in options:  # a case's list adds to the default
                merged[key] = ",".join(x for x in (defaults[key], options[key]) if x)
        cases.append(
            Case(
                file=path.name,
                line=start + body,
                name=merged.pop("name", "") if "name" in options else "",
                sql=sql,
                expected="\n".join(rest[sep + 1 :]).strip(),
                options=merged,
            )
        )
    return cases


def corpus_files(corpus: Path) -> list[Path]:
    """The ``.test`` files of a corpus folder, sorted."""
    return sorted(corpus.glob("*.test"))
