"""Lexical forms GoogleSQL's parser refuses that sqlglot's tokenizer reads (strict layer).

sqlglot drops the backslash of an escape it does not know (``'a\\qb'`` became ``aqb``)
and reads a typed literal as a cast, so these show only in the SQL text:

- an escape GoogleSQL does not define in a quoted string, bytes literal or quoted
  identifier (``\\q``, ``\\1``, ``\\x4``, ``\\u004``, a surrogate or a code point past
  U+10FFFF, ``\\u`` in bytes); raw literals (``r'...'``) have no escapes;
- ``NUMERIC '1e-10'``: a NUMERIC literal holds at most 9 decimals (a CAST rounds);
- ``SUBSTRING(s FROM 2 FOR 1)``: the SQL standard's call syntax.

Example:
    >>> from idcbq.validate import check
    >>> _, problems = check("SELECT 'a\\\\qb' AS s", googlesql=False)
    >>> str(problems[0]).splitlines()[0]
    '<sql>:1:8: Illegal escape sequence: \\\\q'
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation, localcontext
from typing import Protocol

#: One-character escapes GoogleSQL defines.
_SIMPLE = frozenset("abfnrtv\\?\"'`")
_HEX = frozenset("0123456789abcdefABCDEF")
_OCTAL = frozenset("01234567")
_QUOTED = ("STRING", "BYTE_STRING", "IDENTIFIER")
_NUMERIC_LITERAL_TYPES = frozenset(["NUMERIC", "DECIMAL"])


class _Tokens(Protocol):
    def kind(self, i: int) -> str: ...

    def text(self, i: int) -> str: ...

    def raw(self, i: int) -> str: ...

    def refuse(self, i: int, message: str, hint: str | None = None) -> None: ...


def check_lexical(scan: _Tokens, count: int) -> None:
    """Refuse the forms of the module docstring among ``count`` tokens of ``scan``."""
    for i in range(count):
        k = scan.kind(i)
        if k in _QUOTED:
            problem = escape_problem(scan.raw(i))
            if problem:
                scan.refuse(i, f"Illegal escape sequence: {problem}")
        elif scan.text(i).upper() in _NUMERIC_LITERAL_TYPES and scan.kind(i + 1) == "STRING":
            text = scan.text(i + 1)
            if not _numeric_literal_ok(text):
                scan.refuse(i, f'Invalid NUMERIC literal: "{text}"')
        elif _standard_substring(scan, i):
            scan.refuse(
                i,
                f"{scan.text(i).upper()}(value FROM start FOR length) is not BigQuery",
                hint="use SUBSTR(value, start, length)",
            )


def escape_problem(raw: str) -> str | None:
    """The first escape GoogleSQL refuses in a quoted token's source text, or None.

    Example:
        >>> escape_problem("'\\\\x41\\\\101\\\\u00e9'"), escape_problem("'\\\\x4'")
        (None, '\\\\x4')
        >>> escape_problem("r'\\\\q'"), escape_problem("b'\\\\u0041'")
        (None, '\\\\u0041')
    """
    prefix = len(raw) - len(raw.lstrip("bBrR"))
    if "r" in raw[:prefix].lower():
        return None  # a raw literal: backslashes are text
    in_bytes = "b" in raw[:prefix].lower()
    body = raw[prefix:]
    quote = 3 if body[:3] in ("'''", '"""') else 1
    body = body[quote:-quote]
    i = 0
    while i < len(body):
        if body[i] != "\\":
            i += 1
            continue
        length = _escape_length(body, i + 1, in_bytes)
        if length is None:
            return body[i : i + 2 + _shown_digits(body[i + 1 : i + 2])]
        i += 1 + length
    return None


def _escape_length(body: str, at: int, in_bytes: bool) -> int | None:
    """Characters of the escape after the backslash at ``at - 1`` (None: illegal)."""
    c = body[at : at + 1]
    if c in _SIMPLE and c:
        return 1
    if c in "0123" and c:
        digits = body[at : at + 3]
        return 3 if len(digits) == 3 and set(digits) <= _OCTAL else None
    width = {"x": 2, "X": 2, "u": 4, "U": 8}.get(c)
    if width is None or (in_bytes and c in "uU"):
        return None
    digits = body[at + 1 : at + 1 + width]
    if len(digits) != width or not set(digits) <= _HEX:
        return None
    value = int(digits, 16)
    if c in "uU" and (0xD800 <= value <= 0xDFFF or value > 0x10FFFF):
        return None
    return 1 + width


def _shown_digits(c: str) -> int:
    return {"x": 2, "X": 2, "u": 4, "U": 8}.get(c, 0)


def _numeric_literal_ok(text: str) -> bool:
    """A NUMERIC literal's text: exact at 9 decimals (its range is checked elsewhere)."""
    with localcontext() as context:
        context.prec = 100  # quantizing 1e28 to 9 decimals needs 38 digits
        try:
            value = Decimal(text.strip())
            return not value.is_finite() or value == value.quantize(Decimal("1e-9"))
        except InvalidOperation:
            return True  # not a number, or out of any range: the engines' error names it


def _standard_substring(scan: _Tokens, i: int) -> bool:
    """True for ``SUBSTRING(`` at ``i`` with FROM or FOR at the call's own level."""
    if scan.text(i).upper() not in ("SUBSTRING", "SUBSTR") or scan.kind(i + 1) != "L_PAREN":
        return False
    depth, i = 0, i + 1
    while scan.kind(i):
        k = scan.kind(i)
        if k in ("L_PAREN", "L_BRACKET"):
            depth += 1
        elif k in ("R_PAREN", "R_BRACKET"):
            depth -= 1
            if depth == 0:
                return False
        elif depth == 1 and k == "SELECT":
            return False  # a subquery argument reads its own FROM
        elif depth == 1 and k in ("FROM", "FOR"):
            return True
        i += 1
    return False
