"""Date/time results outside BigQuery's range (years 1 to 9999) raise, as BigQuery's do.

DuckDB's range is wider: ``TIMESTAMP_ADD(TIMESTAMP '9999-12-31 23:59:59+00', INTERVAL 1
SECOND)`` gave a year-10000 value (which then failed in Python's conversion), and a week's
truncation of ``0001-01-01`` a year-0 date. Under ``SAFE.`` the result is NULL where the
check sits inside the call's ``TRY``. Probes: ``tests/probes/errors.yaml``.

Example:
    >>> import sqlglot
    >>> tree = sqlglot.parse_one("SELECT TIMESTAMP_SECONDS(x) FROM t", read="bigquery")
    >>> "out of range" in civil_ranges(tree).sql("duckdb")
    True
"""

from __future__ import annotations

from sqlglot import exp

from idcbq.transpile.errors_guards import duck_call, fresh, guard
from idcbq.transpile.rewrites import detach
from idcbq.transpile.rules import handles
from idcbq.transpile.safe_calls import under_safe

#: BigQuery's DATE/DATETIME/TIMESTAMP range, microseconds since the epoch (years 1..9999).
EPOCH_US_MIN, EPOCH_US_MAX = -62135596800000000, 253402300799999999
_CIVIL_ARITHMETIC = (
    exp.DateAdd,
    exp.DateSub,
    exp.DatetimeAdd,
    exp.DatetimeSub,
    exp.TimestampAdd,
    exp.TimestampSub,
)
#: Other functions whose DATE/DATETIME/TIMESTAMP result may leave BigQuery's range.
_RESULT_NAMES = {
    exp.UnixToTime: "TIMESTAMP_SECONDS/MILLIS/MICROS",
    exp.DateTrunc: "DATE_TRUNC",
    exp.TimestampTrunc: "TIMESTAMP_TRUNC",
    exp.DatetimeTrunc: "DATETIME_TRUNC",
    exp.DateFromParts: "DATE",
    exp.TimestampFromParts: "DATETIME",
    exp.DateFromUnixDate: "DATE_FROM_UNIX_DATE",
}
_CIVIL_RESULTS = tuple(_RESULT_NAMES)
_DATE_RESULTS = (exp.DateFromParts, exp.DateFromUnixDate)


def _can_leave_range(node: exp.Expr) -> bool:
    if isinstance(node, exp.Add | exp.Sub):
        return any(isinstance(o, exp.Interval) for o in (node.this, node.expression))
    if isinstance(node, exp.DateTrunc | exp.TimestampTrunc | exp.DatetimeTrunc):
        unit = node.args.get("unit")  # only a week's start can fall before year 1
        return unit is not None and ("WEEK" in unit.sql().upper() or "ISO" in unit.sql().upper())
    return True


@handles(exp.Add, exp.Sub, *_CIVIL_ARITHMETIC, *_CIVIL_RESULTS)
def civil_ranges(tree: exp.Expr) -> exp.Expr:
    """Date/time values outside BigQuery's range raise (NULL under ``SAFE.``), as BigQuery
    does; DuckDB's range is wider (a year 10000 failed in Python's conversion)."""
    kinds = (exp.Add, exp.Sub, *_CIVIL_ARITHMETIC, *_CIVIL_RESULTS)
    for node in fresh(tree, *kinds, key="idcbq_civil"):
        if not _can_leave_range(node):
            continue
        if isinstance(node, _DATE_RESULTS):  # epoch_us of a year-10^6 DATE fails
            value, low, high = duck_call("year", exp.paren(node.copy())), 1, 9999
        else:
            value = duck_call("epoch_us", exp.paren(node.copy()))
            low, high = EPOCH_US_MIN, EPOCH_US_MAX
        bad = exp.not_(
            exp.Between(this=value, low=exp.Literal.number(low), high=exp.Literal.number(high))
        )
        if isinstance(node, _CIVIL_RESULTS):
            message = f"{_RESULT_NAMES[type(node)]} result out of range (years 1 to 9999)"
        elif isinstance(node, exp.Add | exp.DateAdd | exp.DatetimeAdd | exp.TimestampAdd):
            message = "Adding an interval causes overflow"
        else:
            message = "Subtracting an interval causes overflow"
        if under_safe(node):  # SAFE.f: its own error is NULL (DuckDB's TRY keeps error())
            checked = exp.Case(ifs=[exp.If(this=bad, true=exp.null())], default=node)
            detach(node).replace(checked)
        else:
            detach(node).replace(guard(node, bad, message))
    return tree
