"""``DATE_BUCKET`` and ``TIME_DIFF`` on DuckDB (untyped rules).

- ``date_bucket``: ``DATE_BUCKET(d, INTERVAL n unit[, origin])`` is the start of the
  ``n``-unit bucket holding ``d``, buckets counted from ``origin`` (default
  ``1950-01-01``, earlier dates floor). DuckDB's ``time_bucket`` counts the same way when
  given BigQuery's origin; its own default origin differs, so it is always passed. The
  width must be a literal ``INTERVAL n DAY|WEEK|MONTH|QUARTER|YEAR`` with ``n > 0``;
  anything else is refused, and so are months from an origin not on a 1st at midnight
  (DuckDB's month buckets start on the 1st whatever the origin's day). The operand must be typed DATE or DATETIME (the result has
  its type); a TIMESTAMP or an operand of unknown type is refused.
- ``time_diff_parts``: ``TIME_DIFF(a, b, part)`` counts ``part`` boundaries, as DuckDB's
  ``date_diff`` does (sqlglot writes it); only the parts of a TIME are accepted.

Example:
    >>> from idcbq.transpile import to_duckdb
    >>> to_duckdb("SELECT DATE_BUCKET(DATE '2020-02-15', INTERVAL 2 WEEK) AS b")
    "SELECT CAST(TIME_BUCKET(INTERVAL '14' DAY, CAST('2020-02-15' AS DATE), CAST('1950-01-01' AS DATE)) AS DATE) AS b"
"""

from __future__ import annotations

import re

from sqlglot import exp

from idcbq.errors import TranspileError
from idcbq.transpile.rules import handles, inspects, run_rules
from idcbq.transpile.semantics import T, is_typed

#: Unit -> (DuckDB unit, multiplier).
_WIDTHS = {
    "DAY": ("DAY", 1),
    "WEEK": ("DAY", 7),
    "MONTH": ("MONTH", 1),
    "QUARTER": ("MONTH", 3),
    "YEAR": ("MONTH", 12),
}
_TIME_PARTS = ("MICROSECOND", "MILLISECOND", "SECOND", "MINUTE", "HOUR")


_KIND = "idcbq_bucket_of"


def _buckets(tree: exp.Expr) -> list[exp.Anonymous]:
    return [n for n in tree.find_all(exp.Anonymous) if str(n.name).upper() == "DATE_BUCKET"]


def needs_types(tree: exp.Expr) -> bool:
    """``DATE_BUCKET`` needs its operand's type: a DATE or a DATETIME bucket."""
    return bool(_buckets(tree))


@handles(exp.Anonymous)
@inspects  # notes the operand's type in meta
def date_bucket_operand(tree: exp.Expr) -> exp.Expr:
    """Typed: note whether each ``DATE_BUCKET`` buckets a DATE or a DATETIME (GoogleSQL
    returns the operand's type; a DATETIME keeps the origin's time of day)."""
    for node in _buckets(tree):
        operand = node.expressions[0] if node.expressions else None
        if operand is not None and is_typed(operand, T.DATE):
            node.meta[_KIND] = "DATE"
        elif operand is not None and is_typed(
            operand, T.TIMESTAMP, T.DATETIME
        ):  # sqlglot: DATETIME is TIMESTAMP
            node.meta[_KIND] = "TIMESTAMP"  # DuckDB's zone-less TIMESTAMP is a DATETIME
    return tree


@handles(exp.Anonymous)
def date_bucket(tree: exp.Expr) -> exp.Expr:
    """``DATE_BUCKET(d, INTERVAL n unit[, origin])`` -> ``time_bucket`` with BigQuery's origin."""
    for node in _buckets(tree):
        args = node.expressions
        if len(args) not in (2, 3):
            raise TranspileError("unsupported on DuckDB: DATE_BUCKET takes 2 or 3 arguments")
        kind = node.meta.get(_KIND)
        if kind is None:  # a TIMESTAMP, or a type nobody knows: refuse, never guess
            raise TranspileError(
                "unsupported on DuckDB: DATE_BUCKET of a value not known to be a DATE or a "
                f"DATETIME: {args[0].sql(dialect='bigquery')}",
                hint="CAST it to DATE or DATETIME, or use --engine bigquery",
            )
        width = _width(args[1])
        if len(args) == 3 and width.unit.name == "MONTH" and not _first_of_month(args[2]):
            # DuckDB's month buckets start on the 1st whatever the origin's day; BigQuery's
            # on the origin's day (2022-07-10 for 2022-07-14 by months from 2021-01-10)
            raise TranspileError(
                "unsupported on DuckDB: DATE_BUCKET by months from an origin not known to "
                f"be the first of a month at midnight: {args[2].sql(dialect='bigquery')}",
                hint="run it with --engine bigquery or --engine googlesql",
            )
        origin = args[2].copy() if len(args) == 3 else exp.Literal.string("1950-01-01")
        bucket = exp.Anonymous(
            this="TIME_BUCKET",
            expressions=[width, exp.cast(args[0].copy(), kind), exp.cast(origin, kind)],
        )
        node.replace(exp.cast(bucket, kind))
    return tree


_FIRST_OF_MONTH = re.compile(r"\d{4}-\d{2}-01([ T]00:00(:00(\.0*)?)?)?")


def _first_of_month(origin: exp.Expr) -> bool:
    """True if ``origin`` is a literal (or a cast of one) on the 1st of a month at 00:00."""
    while isinstance(origin, exp.Cast):
        origin = origin.this
    return (
        isinstance(origin, exp.Literal)
        and origin.is_string
        and bool(_FIRST_OF_MONTH.fullmatch(origin.this.strip()))
    )


def _width(interval: exp.Expr) -> exp.Interval:
    unit = interval.args.get("unit") if isinstance(interval, exp.Interval) else None
    amount = interval.this if isinstance(interval, exp.Interval) else None
    name = unit.name.upper() if unit is not None else ""
    if isinstance(amount, exp.Literal) and amount.is_string and amount.this.isdigit():
        amount = exp.Literal.number(amount.this)
    if (
        name not in _WIDTHS
        or not isinstance(amount, exp.Literal)
        or amount.is_string
        or not str(amount.this).isdigit()
        or int(amount.this) <= 0
    ):
        raise TranspileError(
            "unsupported on DuckDB: DATE_BUCKET width other than a literal "
            "INTERVAL n DAY|WEEK|MONTH|QUARTER|YEAR with n > 0",
            hint="run it with --engine bigquery or --engine googlesql",
        )
    duck_unit, factor = _WIDTHS[name]
    return exp.Interval(
        this=exp.Literal.string(str(int(amount.this) * factor)), unit=exp.var(duck_unit)
    )


@handles(exp.TimeDiff)
def time_diff_parts(tree: exp.Expr) -> exp.Expr:
    """``TIME_DIFF`` by a part a TIME has (BigQuery rejects DAY and above)."""
    for node in tree.find_all(exp.TimeDiff):
        unit = node.args.get("unit")
        name = unit.name.upper() if unit is not None else ""
        if name not in _TIME_PARTS:
            raise TranspileError(f"unsupported on DuckDB: TIME_DIFF by {name or '?'}")
    return tree


#: Rules that read types (run after annotation).
TYPED = (date_bucket_operand,)
#: Rules run on every query.
UNTYPED = (date_bucket, time_diff_parts)


def apply_untyped(tree: exp.Expr) -> exp.Expr:
    """Run every rule of this module."""
    return run_rules(tree, UNTYPED)
