"""Finding templates: the built-in library plus user directories, with shadowing rules.

Built-ins come from the repository's ``sql/`` directory in an editable install, or
from ``idcbq/_sql`` inside an installed wheel. User directories come from
``--templates DIR`` (repeatable) and the ``IDCBQ_TEMPLATES`` environment variable
(``os.pathsep``-separated). A user template with a built-in's name replaces it, with
a warning, so a typo cannot silently change what a scheduled job runs.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from idcbq.errors import Location, TemplateError, UsageError
from idcbq.templates.header import TemplateHeader, parse_header

log = logging.getLogger("idcbq.templates")

ENV_VAR = "IDCBQ_TEMPLATES"
SUFFIX = ".sql"


@dataclass
class Template:
    """One template file: its text, parsed header and where the SQL body starts."""

    path: Path
    text: str
    builtin: bool = False

    @classmethod
    def from_path(cls, path: str | os.PathLike[str], *, builtin: bool = False) -> Template:
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise TemplateError(
                f"template is not UTF-8 text ({exc.reason})", location=Location(str(path))
            ) from None
        except OSError as exc:
            raise TemplateError(
                f"cannot read template: {exc.strerror}", location=Location(str(path))
            ) from None
        return cls(path=path, text=text, builtin=builtin)

    @classmethod
    def from_text(cls, text: str, path: str = "<template>") -> Template:
        return cls(path=Path(path), text=text)

    @cached_property
    def _parsed(self) -> tuple[TemplateHeader, int]:
        header, body_line = parse_header(self.text, str(self.path))
        stem = self.path.name.removesuffix(SUFFIX)
        if self.path.suffix == SUFFIX and header.name != stem:
            line = _find_line(self.text, "name:")
            raise TemplateError(
                f"header name {header.name!r} does not match the file name {self.path.name!r}",
                location=Location(str(self.path), line, None, _line_text(self.text, line)),
                hint=f"rename the file to {header.name}{SUFFIX} or set name: {stem}",
            )
        return header, body_line

    @property
    def header(self) -> TemplateHeader:
        return self._parsed[0]

    @property
    def body_line(self) -> int:
        """1-based line of the file where the SQL body begins (after the header)."""
        return self._parsed[1]

    @property
    def name(self) -> str:
        return self.header.name

    @property
    def description(self) -> str:
        return self.header.description

    @property
    def body(self) -> str:
        """The Jinja/SQL body, preceded by blank lines so its line numbers match the file."""
        lines = self.text.splitlines(keepends=True)
        return "\n" * (self.body_line - 1) + "".join(lines[self.body_line - 1 :])

    def header_line_of(self, key: str) -> int | None:
        """Line of a parameter's declaration in the header (for parameter errors)."""
        lines = self.text.splitlines()
        for idx in range(min(self.body_line - 1, len(lines))):
            stripped = lines[idx].strip()
            if stripped.startswith(f"{key}:") or stripped.startswith(f"- {key}:"):
                return idx + 1
        return None

    def location(self, line: int | None = None, column: int | None = None) -> Location:
        return Location(str(self.path), line, column, _line_text(self.text, line) if line else None)


def _find_line(text: str, prefix: str) -> int | None:
    for idx, line in enumerate(text.splitlines(), 1):
        if line.strip().startswith(prefix):
            return idx
    return None


def _line_text(text: str, line: int | None) -> str | None:
    if not line:
        return None
    lines = text.splitlines()
    return lines[line - 1].rstrip() if 0 < line <= len(lines) else None


def builtin_dir() -> Path | None:
    """The shipped library: ``sql/`` next to the package (editable) or ``idcbq/_sql`` (wheel)."""
    package = Path(__file__).resolve().parents[1]
    for candidate in (package.parent / "sql", package / "_sql"):
        if candidate.is_dir():
            return candidate
    return None


def user_dirs_from_env() -> list[Path]:
    raw = os.environ.get(ENV_VAR, "")
    return [Path(p).expanduser() for p in raw.split(os.pathsep) if p.strip()]


@dataclass
class TemplateCatalog:
    """Templates by name. Later user directories win over earlier ones and built-ins.

    Example:
        >>> cat = TemplateCatalog.discover(include_builtin=False, use_env=False)
        >>> len(cat)
        0
    """

    templates: dict[str, Template] = field(default_factory=dict)
    shadowed: dict[str, list[Path]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @classmethod
    def discover(
        cls,
        dirs: Iterable[str | os.PathLike[str]] = (),
        *,
        include_builtin: bool = True,
        use_env: bool = True,
    ) -> TemplateCatalog:
        """Scan the built-in library, ``IDCBQ_TEMPLATES`` and ``dirs`` (in that order)."""
        catalog = cls()
        builtin = builtin_dir() if include_builtin else None
        if builtin is not None:
            for path in _sql_files(builtin):
                catalog._add(path, builtin=True)
        user = [*(user_dirs_from_env() if use_env else []), *(Path(d) for d in dirs)]
        for directory in user:
            if not directory.is_dir():
                raise UsageError(
                    f"template directory {str(directory)!r} does not exist",
                    hint=f"check --templates and ${ENV_VAR}",
                )
            for path in _sql_files(directory):
                catalog._add(path, builtin=False)
        return catalog

    def _add(self, path: Path, *, builtin: bool) -> None:
        # The file name is the name: headers are parsed lazily, so listing stays fast.
        name = path.name.removesuffix(SUFFIX)
        previous = self.templates.get(name)
        if previous is not None:
            kind = "built-in" if previous.builtin else "user"
            message = (
                f"template {name!r} from {path} shadows the {kind} template from {previous.path}"
            )
            log.warning(message)
            self.warnings.append(message)
            self.shadowed.setdefault(name, []).append(previous.path)
        self.templates[name] = Template.from_path(path, builtin=builtin)

    def get(self, name: str) -> Template:
        try:
            return self.templates[name]
        except KeyError:
            import difflib

            close = difflib.get_close_matches(name, list(self.templates), n=3, cutoff=0.5)
            hint = f"did you mean {', '.join(close)}?" if close else "see `idcbq templates list`"
            raise UsageError(f"unknown template {name!r}", hint=hint) from None

    def __getitem__(self, name: str) -> Template:
        return self.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self.templates

    def __iter__(self) -> Iterator[Template]:
        return iter(sorted(self.templates.values(), key=lambda t: t.path.name))

    def __len__(self) -> int:
        return len(self.templates)

    def names(self) -> list[str]:
        return sorted(self.templates)


def _sql_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.glob(f"*{SUFFIX}") if p.is_file())
