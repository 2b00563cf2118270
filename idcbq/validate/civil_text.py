"""Whether a STRING literal of the civil format can be a DATE, DATETIME or TIMESTAMP.

GoogleSQL coerces such a literal when it analyzes a query and refuses one whose
fields are out of range (``'2020-13-45'``, ``'2021-02-29'``, hour 25). Texts of
another format (a zone name, padding this reader does not know) are left to the
engines.

Example:
    >>> from sqlglot import exp
    >>> civil_text_ok("2020-13-45", exp.DataType.Type.DATE)
    False
    >>> civil_text_ok("2024-02-29 23:59:60", exp.DataType.Type.DATETIME)
    True
"""

from __future__ import annotations

import calendar
import re

from sqlglot import exp

T = exp.DataType.Type
_CIVIL = re.compile(
    r"\s*(\d+)-(\d{1,2})-(\d{1,2})"
    r"(?:[ Tt](\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.\d{1,9})?)?)?"
    r"\s*(?:[+-]\d{1,2}(?::\d{2})?|[Zz]|UTC|\s[A-Za-z_/]+)?\s*"
)


def civil_text_ok(text: str, target: T) -> bool:
    """False only for a text of the civil format whose fields are out of range."""
    m = _CIVIL.fullmatch(text)
    if m is None or (target == T.DATE and m.group(4) is not None):
        return True  # not a format read here: the engines decide
    year, month, day = int(m.group(1)), int(m.group(2)), int(m.group(3))
    if not 1 <= year <= 9999 or not 1 <= month <= 12:
        return False
    if not 1 <= day <= calendar.monthrange(year, month)[1]:
        return False
    hour, minute, second = (int(g) if g else 0 for g in m.group(4, 5, 6))
    return hour <= 23 and minute <= 59 and second <= 60  # :60, a leap second, is read
