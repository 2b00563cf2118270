"""Rewrites, for analysis only, of BigQuery SQL this ZetaSQL build does not know.

The gate must never refuse what BigQuery accepts. This ZetaSQL build lacks:

- the type aliases ``INT``, ``SMALLINT``, ``INTEGER``, ``BIGINT``, ``TINYINT``,
  ``BYTEINT`` (all INT64 in BigQuery): spelled ``INT64``;
- ``CONTAINS_SUBSTR(x, s)`` (BOOL; any ``x``, STRING ``s``): ``(x IS NULL OR STARTS_WITH(s, ''))``
  keeps both arguments analyzed and the BOOL type;
- ``MAX_BY(x, y)`` / ``MIN_BY(x, y)``: BigQuery defines them as
  ``ANY_VALUE(x HAVING MAX y)`` / ``ANY_VALUE(x HAVING MIN y)``;
- ``COLLATE(s, spec)`` (STRING): ``CONCAT(s, LEFT(spec, 0))``.

``APPROX_COUNT_DISTINCT``, ``APPROX_QUANTILES``, ``APPROX_TOP_COUNT``, ``APPROX_TOP_SUM`` and
``NORMALIZE`` analyze as they are (they lack evaluation, not analysis). The rewritten text
is only analyzed; the SQL that runs is the user's. Error positions map back to the
original text through the edits.

Example:
    >>> apply("SELECT CAST(x AS INT) FROM t").sql
    'SELECT CAST(x AS INT64) FROM t'
    >>> apply("SELECT MAX_BY(a, b) FROM t").sql
    'SELECT ANY_VALUE(a HAVING MAX b) FROM t'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

TYPE_ALIASES = frozenset({"INT", "SMALLINT", "INTEGER", "BIGINT", "TINYINT", "BYTEINT"})
#: name -> (argument counts it applies to, template over the argument texts)
CALLS: dict[str, tuple[tuple[int, ...], str]] = {
    "CONTAINS_SUBSTR": ((2, 3), "(({0}) IS NULL OR STARTS_WITH({1}, ''))"),
    "MAX_BY": ((2,), "ANY_VALUE({0} HAVING MAX {1})"),
    "MIN_BY": ((2,), "ANY_VALUE({0} HAVING MIN {1})"),
    "COLLATE": ((2,), "CONCAT({0}, LEFT({1}, 0))"),
}


@dataclass
class Compat:
    """Rewritten SQL and the edits ``(start, old_len, new_len)`` on the original text."""

    sql: str
    edits: list[tuple[int, int, int]] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.edits)

    def original_offset(self, offset: int) -> int:
        """Character offset in the original text of one in the rewritten text."""
        shift = 0
        for start, old_len, new_len in self.edits:
            if offset < start + shift + new_len:
                return start if offset >= start + shift else offset - shift
            shift += new_len - old_len
        return offset - shift


def _tokens(sql: str) -> list[Any]:
    from sqlglot.dialects.dialect import Dialect

    return Dialect.get_or_raise("bigquery").tokenize(sql)


def _type_edits(sql: str, tokens: list[Any]) -> list[tuple[int, int, str]]:
    """Type alias tokens in a type position: after AS in CAST, inside ARRAY<...>/STRUCT<...>."""
    edits = []
    depth, casts, angle = 0, [], 0
    for i, tok in enumerate(tokens):
        kind = tok.token_type.name
        nxt = tokens[i + 1].token_type.name if i + 1 < len(tokens) else ""
        prev = tokens[i - 1].token_type.name if i else ""
        if kind == "L_PAREN":
            depth += 1
        elif kind == "R_PAREN":
            if casts and casts[-1] == depth:
                casts.pop()
            depth -= 1
        elif tok.text.upper() in ("CAST", "SAFE_CAST") and nxt == "L_PAREN":
            casts.append(depth + 1)
        elif tok.text.upper() in ("ARRAY", "STRUCT", "RANGE") and nxt == "LT":
            angle += 1
        elif kind == "GT" and angle:
            angle -= 1
        elif kind == "RSHIFT" and angle:  # ">>" closing two levels
            angle = max(0, angle - 2)
        text = sql[tok.start : tok.end + 1]
        if text.upper() not in TYPE_ALIASES or nxt == "L_PAREN":
            continue
        in_cast = prev == "ALIAS" and casts and casts[-1] == depth
        if in_cast or angle:
            edits.append((tok.start, tok.end + 1, "INT64"))
    return edits


def _call_edit(sql: str, tokens: list[Any]) -> tuple[int, int, str] | None:
    """The first innermost call of CALLS: (start, end, replacement)."""
    for i, tok in enumerate(tokens[:-1]):
        name = tok.text.upper()
        if name not in CALLS or tokens[i + 1].token_type.name != "L_PAREN":
            continue
        if i and tokens[i - 1].token_type.name == "DOT":
            continue
        spans, end = _arguments(tokens, i + 1)
        if end is None:
            continue
        counts, template = CALLS[name]
        if len(spans) not in counts:
            continue
        args = [sql[a:b].strip() for a, b in spans]
        if any(_mentions_call(arg) for arg in args):
            continue  # rewrite the inner call first
        if len(args) == 3 and "=>" in args[2]:
            args = args[:2]
        return tok.start, end, template.format(*args)
    return None


def _mentions_call(text: str) -> bool:
    upper = text.upper()
    return any(f"{name}(" in upper.replace(" (", "(") for name in CALLS)


def _arguments(tokens: list[Any], open_index: int) -> tuple[list[tuple[int, int]], int | None]:
    """Character spans of the top-level arguments of a call, and the end after ")"."""
    depth = 0
    spans: list[tuple[int, int]] = []
    start = tokens[open_index].end + 1
    for k in range(open_index, len(tokens)):
        kind = tokens[k].token_type.name
        if kind in ("L_PAREN", "L_BRACKET"):
            depth += 1
        elif kind in ("R_PAREN", "R_BRACKET"):
            depth -= 1
            if depth == 0:
                spans.append((start, tokens[k].start))
                return spans, tokens[k].end + 1
        elif kind == "COMMA" and depth == 1:
            spans.append((start, tokens[k].start))
            start = tokens[k].end + 1
    return spans, None


def apply(sql: str) -> Compat:
    """``sql`` with the constructs above rewritten for this ZetaSQL build."""
    result = Compat(sql=sql)
    try:
        tokens = _tokens(sql)
    except Exception:
        return result
    text = sql
    types = _type_edits(sql, tokens)
    for start, end, new in reversed(types):
        text = text[:start] + new + text[end:]
    result.edits = [(s, e - s, len(n)) for s, e, n in types]
    for _ in range(64):  # calls, innermost first, one per pass
        edit = _call_edit(text, _tokens(text))
        if edit is None:
            break
        start, end, new = edit
        _record(result, start, end, new)
        text = text[:start] + new + text[end:]
    result.sql = text
    return result


def _record(result: Compat, start: int, end: int, new: str) -> None:
    """Add an edit made on the current text, in original-text coordinates (approximately:
    the whole rewritten call maps to its start)."""
    orig_start = result.original_offset(start)
    orig_end = result.original_offset(end)
    merged = [(s, o, n) for s, o, n in result.edits if s < orig_start or s >= orig_end]
    merged.append((orig_start, orig_end - orig_start, len(new)))
    result.edits = sorted(merged)


def original_line_col(compat: Compat, original: str, line: int, col: int) -> tuple[int, int]:
    """Line and column (1-based, characters) in ``original`` of a position in ``compat.sql``."""
    lines = compat.sql.split("\n")
    offset = sum(len(x) + 1 for x in lines[: line - 1]) + col - 1
    back = min(max(compat.original_offset(offset), 0), len(original))
    before = original[:back]
    return before.count("\n") + 1, back - (before.rfind("\n") + 1) + 1
