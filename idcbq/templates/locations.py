"""Map positions in rendered SQL back to the template file the user edits.

Jinja can add or remove lines (``{% if %}`` blocks, loops), so rendered line N is
not always template line N. We align the two texts line by line with difflib: equal
lines map exactly (column included), changed lines map to their counterpart in the
template, and the column is recovered by finding the offending token on that line.

Example:
    >>> m = LocationMap.build("t.sql", "SELECT 1\\n{% if x %}\\nFROM t\\n{% endif %}\\n", "SELECT 1\\nFROM t\\n")
    >>> str(m.locate(2, 1, token="FROM"))
    't.sql:3:1'
"""

from __future__ import annotations

import difflib
import functools
from dataclasses import dataclass

from idcbq.errors import Location


@dataclass(frozen=True)
class LocationMap:
    """Rendered-SQL line -> template line (both 1-based), plus the texts to quote."""

    path: str | None
    template_lines: tuple[str, ...]
    rendered_lines: tuple[str, ...]
    line_map: tuple[int, ...]
    exact: tuple[bool, ...]

    @classmethod
    def build(cls, path: str | None, template_text: str, rendered_text: str) -> LocationMap:
        """The map of one rendering (the same texts give the same, immutable, map)."""
        return _built(cls, path, template_text, rendered_text)

    @classmethod
    def _align(cls, path: str | None, template_text: str, rendered_text: str) -> LocationMap:
        t_lines = tuple(template_text.splitlines())
        r_lines = tuple(rendered_text.splitlines())
        line_map = [0] * len(r_lines)
        exact = [False] * len(r_lines)
        matcher = difflib.SequenceMatcher(None, t_lines, r_lines, autojunk=False)
        for op, i1, i2, j1, j2 in matcher.get_opcodes():
            for k, j in enumerate(range(j1, j2)):
                if op == "equal":
                    line_map[j], exact[j] = i1 + k, True
                elif op == "replace":
                    line_map[j] = min(i1 + k, i2 - 1)
                else:  # "insert": rendered-only lines (loops) belong to the block before
                    line_map[j] = max(i1 - 1, 0)
        return cls(path, t_lines, r_lines, tuple(i + 1 for i in line_map), tuple(exact))

    @classmethod
    def identity(cls, path: str | None, text: str) -> LocationMap:
        lines = tuple(text.splitlines())
        n = len(lines)
        return cls(path, lines, lines, tuple(range(1, n + 1)), (True,) * n)

    def locate(
        self, line: int | None, column: int | None = None, *, token: str | None = None
    ) -> Location:
        """The template location of rendered ``line``/``column`` (1-based)."""
        if line is None or not self.line_map:
            return Location(self.path, None, None, None)
        idx = min(max(line, 1), len(self.line_map)) - 1
        t_line = self.line_map[idx]
        snippet = (
            self.template_lines[t_line - 1].rstrip() if t_line <= len(self.template_lines) else None
        )
        t_col = column
        if not self.exact[idx]:
            t_col = None
            if token and snippet:
                pos = snippet.find(token)
                if pos < 0:
                    pos = snippet.lower().find(token.lower())
                if pos >= 0:
                    t_col = pos + 1
        return Location(self.path, t_line, t_col, snippet)

    def locate_offset(self, sql: str, start: int, *, token: str | None = None) -> Location:
        """Location of a 0-based character offset into the rendered SQL."""
        start = max(0, min(start, len(sql)))
        line = sql.count("\n", 0, start) + 1
        column = start - (sql.rfind("\n", 0, start) + 1) + 1
        return self.locate(line, column, token=token)


@functools.lru_cache(maxsize=256)
def _built(cls: type[LocationMap], path: str | None, template: str, rendered: str) -> LocationMap:
    # a session renders the same template with the same values again: align once
    return cls._align(path, template, rendered)
