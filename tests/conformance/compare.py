"""Compare idcbq's Arrow result with a case's expected result: names, types, rows.

Floats match to a relative 1e-9 (engines may sum in another order); NaN matches NaN;
NUMERIC matches exactly; a NULL array matches an empty one (BigQuery returns NULL
arrays as empty). Rows are compared in order where the expected result says
``known order:``, else as multisets; nested arrays likewise.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
import os
from typing import Any

import pyarrow as pa

from tests.conformance.values import Expected, Type

#: ``IDCBQ_CONF_REL_TOL`` tightens it (4.5e-16, two ulps, leaves one PERCENTILE_CONT case).
REL_TOL = float(os.environ.get("IDCBQ_CONF_REL_TOL", "1e-9"))


def expected_names(columns: list[tuple[str, Type]]) -> list[str]:
    """BigQuery's names: anonymous columns are ``f0_``, ``f1_``... in order."""
    out, anon = [], 0
    for name, _t in columns:
        if name:
            out.append(name)
        else:
            out.append(f"f{anon}_")
            anon += 1
    return out


def arrow_types(table: pa.Table) -> list[str]:
    """BigQuery spelling of each result column's type (``NULL`` for an Arrow null)."""
    from tests.cross_engine_support import bigquery_types

    try:
        return bigquery_types(table)
    except TypeError:  # a column idcbq's schema cannot name (e.g. a DuckDB INTERVAL)
        out = []
        for col in table.columns:
            try:
                out.extend(bigquery_types(pa.table({"c": col})))
            except TypeError:
                out.append(
                    "INTERVAL" if col.type == pa.month_day_nano_interval() else str(col.type)
                )
        return out


def _spell(t: Type) -> str:
    return t.spell().replace("DOUBLE", "FLOAT64")


def _strip_names(spelled: str) -> str:
    """Type text without struct field names (anonymous struct fields print none)."""
    import re

    return re.sub(r"(?<=[<,])\s*\w+ (?=[A-Z])", "", spelled).replace(" ", "")


def match(exp: Any, got: Any, t: Type) -> bool:
    """True if the actual value ``got`` equals the expected value ``exp`` of type ``t``."""
    if t.kind == "ARRAY":
        if exp is None:
            return got is None or len(got) == 0
        if got is None:
            return len(exp.items) == 0
        element = exp.element if exp.element is not None else t.params[0]
        return _match_list(list(exp.items), list(got), element, exp.ordered is not False)
    if exp is None or got is None:
        return exp is None and got is None
    if t.kind == "STRUCT":
        vals = list(got.values()) if isinstance(got, dict) else list(got)
        return len(vals) == len(exp) and all(
            match(e, g, ft) for e, g, (_n, ft) in zip(exp, vals, t.params, strict=True)
        )
    if isinstance(exp, float):
        if not isinstance(got, int | float | decimal.Decimal) or isinstance(got, bool):
            return False
        got = float(got)
        if math.isnan(exp) or math.isnan(got):
            return math.isnan(exp) and math.isnan(got)
        if math.isinf(exp) or math.isinf(got):
            return exp == got
        return math.isclose(exp, got, rel_tol=REL_TOL, abs_tol=1e-300)
    if isinstance(exp, decimal.Decimal):
        return isinstance(got, decimal.Decimal | int) and not isinstance(got, bool) and exp == got
    if isinstance(exp, bool) or isinstance(got, bool):
        return type(exp) is type(got) and exp == got
    if isinstance(exp, dt.datetime) and isinstance(got, dt.datetime):
        if (exp.tzinfo is None) != (got.tzinfo is None):
            return False
        return exp == got
    if isinstance(exp, tuple) and exp and exp[0] == "JSON":
        try:
            return _canon_json(json.loads(got, parse_float=decimal.Decimal)) == _canon_json(exp[1])
        except (TypeError, ValueError):
            return False
    if isinstance(exp, tuple) and exp and exp[0] == "INTERVAL":
        parts = getattr(got, "months", None), getattr(got, "days", None)
        return (*parts, getattr(got, "nanoseconds", None)) == exp[1:]
    if isinstance(exp, tuple) and exp and exp[0] == "TEXT":
        return str(got) == exp[2]
    return type(exp) is type(got) and exp == got


def _canon_json(v: Any) -> Any:
    if isinstance(v, dict):
        return tuple(sorted((k, _canon_json(x)) for k, x in v.items()))
    if isinstance(v, list):
        return tuple(_canon_json(x) for x in v)
    if isinstance(v, decimal.Decimal | int) and not isinstance(v, bool):
        return decimal.Decimal(v).normalize()
    return v


def _match_list(exp: list[Any], got: list[Any], t: Type, ordered: bool) -> bool:
    if len(exp) != len(got):
        return False
    if ordered:
        return all(match(e, g, t) for e, g in zip(exp, got, strict=True))
    unused = list(range(len(got)))
    for e in exp:  # greedy multiset match (values are small)
        for k, j in enumerate(unused):
            if match(e, got[j], t):
                del unused[k]
                break
        else:
            return False
    return True


def compare(expected: Expected, table: pa.Table) -> str | None:
    """None if ``table`` is the expected result, else what differs (one line)."""
    names = expected_names(expected.columns)
    lowered = [n.lower() for n in names]
    if len(set(lowered)) != len(lowered):
        return "INVALID: answered; BigQuery refuses duplicate column names in a result"
    if table.column_names != names:
        return f"names: expected {names}, got {table.column_names}"
    want = [_spell(t) for _n, t in expected.columns]
    have = arrow_types(table)
    for col, w, h in zip(names, want, have, strict=True):
        if "?" in w:  # ARRAY<> in the row type: the element type is spelled per value
            w, h = w.split("<", 1)[0], h.split("<", 1)[0]
        if h != "NULL" and _strip_names(w) != _strip_names(h):
            return f"type of {col}: expected {w}, got {h}"
    row_type = Type("STRUCT", tuple(expected.columns))
    got_rows = list(zip(*(c.to_pylist() for c in table.columns), strict=True))
    exp_rows = list(expected.rows.items)
    if len(got_rows) != len(exp_rows):
        return f"rows: expected {len(exp_rows)}, got {len(got_rows)}"
    ordered = expected.rows.ordered is True
    if ordered:
        for i, (e, g) in enumerate(zip(exp_rows, got_rows, strict=True)):
            if not match(e, g, row_type):
                return f"row {i}: expected {_short(e)}, got {_short(g)}"
        return None
    if not _match_list(exp_rows, got_rows, row_type, ordered=False):
        for e in exp_rows:
            if not any(match(e, g, row_type) for g in got_rows):
                return f"expected row {_short(e)} missing; got e.g. {_short(got_rows[:2])}"
        return "rows differ as multisets"
    return None


def _short(v: Any) -> str:
    text = repr(v)
    return text if len(text) <= 200 else text[:200] + "..."
