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
"""

from __future__ import annotations

import json
from typing import Any

_INT_RANGE = (-(2**63), 2**64 - 1)


class _Number(float):
    """A JSON number read as a FLOAT64 (its own type, to tell it from an integer)."""


def _first_wins(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        out.setdefault(key, value)
    return out


def _double_text(value: float) -> str:
    text = f"{value:.15g}"
    for digits in (16, 17):  # the fewest that read back exactly (CAST AS STRING: 15 or 17)
        if float(text) == value:
            break
        text = f"{value:.{digits}g}"
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
