"""GoogleSQL's text of a JSON value: keys sorted, the first of duplicate keys, numbers
normalized (issue 18: DuckDB keeps a JSON document's text as written).

GoogleSQL stores a JSON object's members by key, so ``JSON '{"b": 1, "a": 2, "a": 3}'``
reads back as ``{"a":2,"b":1}``. An integer in INT64 or UINT64 range keeps its digits;
any other number is a FLOAT64 written with 15, 16 or 17 significant digits (the fewest
that read back exactly; ``CAST(x AS STRING)`` skips 16) and ``.0`` after an integral
value (``1.50`` -> ``1.5``, ``1e2`` -> ``100.0``, ``1e15`` -> ``1e+15``).

Example:
    >>> canonical_json('{"b": 1.50, "a": [1e2, "é"], "b": 0}')
    '{"a":[100.0,"é"],"b":1.5}'
    >>> canonical_json("12345678901234567890123")
    '1.2345678901234568e+22'
    >>> canonical_json("2.75897182587158791241578135873519")
    '2.758971825871588'
    >>> canonical_json("[9007199254740993.0, 1e-320]")
    '[9.007199254740992e+15,1e-320]'
"""

from __future__ import annotations

import json
import math
from decimal import Decimal
from typing import Any

_INT_RANGE = (-(2**63), 2**64 - 1)


class _Number(float):
    """A JSON number read as a FLOAT64 (its own type, to tell it from an integer)."""


def _first_wins(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        out.setdefault(key, value)
    return out


_SMALLEST_NORMAL = 2.2250738585072014e-308


def _double_text(value: float) -> str:
    text = f"{value:.15g}"
    if value and abs(value) < _SMALLEST_NORMAL:  # subnormal: 15 digits overshoot the
        text = repr(value)  # shortest (GoogleSQL writes 1e-320, not 9.99988867182683e-321)
    for digits in (16, 17):  # the fewest that read back exactly (CAST AS STRING: 15 or 17)
        if float(text) == value:
            break
        text = f"{value:.{digits}g}"
        if "e" not in text and abs(value) >= 1e15:  # as with 15 digits: an exponent
            mantissa, _, power = f"{value:.{digits - 1}e}".partition("e")
            text = mantissa.rstrip("0").rstrip(".") + "e" + power
    if all(c in "-0123456789" for c in text):
        text += ".0"
    return text


def _write(value: Any) -> str:
    if isinstance(value, dict):
        members = (f"{_write(k)}:{_write(value[k])}" for k in sorted(value))
        return "{" + ",".join(members) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_write(v) for v in value) + "]"
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, int) and _INT_RANGE[0] <= value <= _INT_RANGE[1]:
        return str(value)
    return _double_text(float(value))


def canonical_json(text: str) -> str:
    """``text`` (a JSON document) as GoogleSQL writes the JSON value it holds.

    Raises:
        ValueError: ``text`` is not JSON.
    """
    value = json.loads(text, object_pairs_hook=_first_wins, parse_float=_Number)
    return _write(value)


def number_problem(text: str, mode: str = "exact") -> str | None:
    """Why ``PARSE_JSON(text, wide_number_mode=>mode)`` raises for a number, or None.

    GoogleSQL stores a JSON number as INT64, UINT64 or FLOAT64. A number beyond FLOAT64
    overflows in either mode; with ``'exact'`` (the default) a number that does not
    read back the same from its FLOAT64's shortest text raises too (``'round'`` rounds).

    Example:
        >>> number_problem("[1, 0.1, 18446744073709551615]") is None
        True
        >>> number_problem("9007199254740993.0")
        'Invalid input to PARSE_JSON: Input number: 9007199254740993.0 cannot round-trip'
        >>> number_problem("9007199254740993.0", "round") is None
        True

    Raises:
        ValueError: ``text`` is not JSON.
    """
    numbers: list[str] = []

    def keep(raw: str) -> str:
        numbers.append(raw)
        return raw

    json.loads(text, parse_int=keep, parse_float=keep)
    for raw in numbers:
        if raw.lstrip("-").isdigit() and _INT_RANGE[0] <= int(raw) <= _INT_RANGE[1]:
            continue
        value = float(raw)
        if math.isinf(value):
            return f"Invalid input to PARSE_JSON: number overflow parsing '{raw}'"
        if mode == "exact" and Decimal(repr(value)) != Decimal(raw):
            return f"Invalid input to PARSE_JSON: Input number: {raw} cannot round-trip"
    return None
