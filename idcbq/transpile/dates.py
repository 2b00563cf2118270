"""Dates and times where DuckDB silently differs from GoogleSQL (issue 18 §5).

Probes in ``tests/probes/dates_more.yaml`` compare with GoogleSQL's reference
implementation. Untyped (``UNTYPED``, run on every query):

- ``format_elements`` (:mod:`idcbq.transpile.formats`): format elements strftime
  reads differently (``%e`` pads the day with a space, ``%g``, ``%n``, ``%R``...).
- ``extract_week_start``: ``EXTRACT(WEEK(<weekday>))``: weeks starting on that day,
  days before the year's first such day in week 0.
- ``extract_subsecond``: ``EXTRACT(MILLISECOND/MICROSECOND)`` is the part within the
  second (DuckDB adds the seconds).
- ``parse_timestamp_zone``: ``PARSE_TIMESTAMP(fmt, s, zone)`` reads ``s`` as a wall
  clock in ``zone`` (DuckDB ignored the zone) unless the format reads a zone itself;
  without a zone, in UTC (a TIMESTAMP, not DuckDB's zoneless one).
- ``hour_twelve_is_zero``: a PARSE_* reading its hour by ``%I`` alone (no ``%p``):
  12 is hour 0 (DuckDB's strptime kept 12).
- ``last_day_weeks``: ``LAST_DAY(d, ISOYEAR|ISOWEEK|WEEK)``.
- ``time_functions``: ``TIME_TRUNC`` and ``FORMAT_TIME`` (no DuckDB function of TIME).
- ``civil_of_text``: ``TIME``/``DATE`` of a string read it as a TIMESTAMP
  (an offset in the text applies; the wall clock is UTC's).
- ``unix_floor``: ``UNIX_SECONDS``/``UNIX_MILLIS`` round down (DuckDB rounded the
  seconds to nearest and truncated the milliseconds toward zero before 1970).

Typed (``TYPED``):

- ``date_minus_date``: ``DATE - DATE`` is an INTERVAL in BigQuery: refused (loud).
- ``format_date_of_datetime``: ``FORMAT_DATE`` of a DATETIME/TIMESTAMP keeps its time.
- ``fraction_text``: TIME and DATETIME as STRING print the fraction in 3 or 6 digits.
- ``string_of_timestamp``: ``STRING(ts[, zone])`` is the zone's wall clock with its
  offset (``2020-01-01 22:04:05-05``), fraction in 3 or 6 digits.
"""

from __future__ import annotations

import re

from sqlglot import exp

from idcbq.errors import TranspileError
from idcbq.transpile.formats import (
    FORMAT_TIME,
    HOUR_TWELVE,
    format_date_of_datetime,
    format_elements,
    parse_elements,
)
from idcbq.transpile.formats import needs_types as format_needs_types
from idcbq.transpile.numeric import duck_fragment
from idcbq.transpile.rewrites import detach
from idcbq.transpile.rules import handles, run_rules
from idcbq.transpile.semantics import T
from idcbq.transpile.semantics import is_typed as _typed
from idcbq.transpile.zones import earliest_instant

_WEEKDAYS = ("SUNDAY", "MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY")
_EPOCH_DAY = "CAST('1970-01-01' AS DATE)"


def _mark_divisions(node: exp.Expr) -> exp.Expr:
    for div in node.find_all(exp.IntDiv, exp.Mod, exp.Div):
        div.meta["idcbq_div"] = True  # constant non-zero divisors
    return node


_CIVIL_OF = (exp.TsOrDsToTime, exp.Date)


def _civil_of_text(tree: exp.Expr, *, params: bool) -> exp.Expr:
    """``TIME/DATE('2010-11-12 01:02:03+08')``: GoogleSQL reads the text as a
    TIMESTAMP (its offset applies) and takes the wall clock in UTC; DuckDB's cast drops
    the offset. ``params``: also a STRING parameter (its type is known when typed)."""
    for node in list(tree.find_all(*_CIVIL_OF)):
        arg = node.this
        if any(v for k, v in node.args.items() if k != "this"):
            continue  # DATE(ts, zone), DATE(y, m, d): not a text argument
        text = isinstance(arg, exp.Literal) and arg.is_string
        if not (text or (params and isinstance(arg, exp.Parameter | exp.Placeholder))):
            continue
        if not text and not _typed(arg, *exp.DataType.TEXT_TYPES):
            continue
        instant = exp.cast(arg.copy(), "TIMESTAMPTZ")
        node.set(
            "this",
            exp.Anonymous(this="timezone", expressions=[exp.Literal.string("UTC"), instant]),
        )
    return tree


@handles(*_CIVIL_OF)
def civil_of_text(tree: exp.Expr) -> exp.Expr:
    """Untyped: :func:`_civil_of_text` of string literals."""
    return _civil_of_text(tree, params=False)


@handles(*_CIVIL_OF)
def civil_of_text_params(tree: exp.Expr) -> exp.Expr:
    """Typed: :func:`_civil_of_text` of STRING parameters too."""
    return _civil_of_text(tree, params=True)


@handles(exp.Extract)
def extract_week_start(tree: exp.Expr) -> exp.Expr:
    """``EXTRACT(WEEK(<weekday>) FROM d)`` as GoogleSQL numbers the weeks."""
    for node in list(tree.find_all(exp.Extract)):
        part = node.this
        if not isinstance(part, exp.WeekStart):
            continue
        start = _WEEKDAYS.index(part.this.name.upper())
        value = exp.cast(node.expression.copy(), "DATE")
        week = duck_fragment(
            f"CAST((dayofyear(_d) - ((dayofweek(_d) - {start} + 7) % 7) + 6) // 7 AS BIGINT)",
            _d=value,
        )
        node.replace(_mark_divisions(week))
    return tree


@handles(exp.Extract)
def extract_subsecond(tree: exp.Expr) -> exp.Expr:
    """``EXTRACT(MILLISECOND|MICROSECOND FROM x)`` within the second."""
    for node in list(tree.find_all(exp.Extract)):
        name = node.this.name.upper() if isinstance(node.this, exp.Var) else ""
        modulus = {"MILLISECOND": 1000, "MICROSECOND": 1000000}.get(name)
        if modulus is None or isinstance(node.parent, exp.Mod):
            continue
        hole = detach(node)
        mod = exp.Mod(this=node, expression=exp.Literal.number(modulus))
        mod.meta["idcbq_div"] = True
        hole.replace(mod)
    return tree


_ZONE_SPEC = re.compile(r"%(E?z|Z|Ez)")
_IN_UTC = "idcbq_parsed_in_utc"
_PARSED = (exp.StrToTime, exp.ParseDatetime, exp.ParseTime)
_TWELVE_TO_ZERO = "CASE WHEN hour(_v) = 12 THEN _v - INTERVAL 12 HOUR ELSE _v END"


@handles(exp.StrToTime)
def parse_timestamp_zone(tree: exp.Expr) -> exp.Expr:
    """``PARSE_TIMESTAMP(fmt, s, zone)``: the wall clock read in ``zone``."""
    for node in list(tree.find_all(exp.StrToTime)):
        zone = node.args.get("zone")
        fmt = node.args.get("format")
        if zone is None:
            _read_in_utc(node, fmt)
            continue
        node.set("zone", None)
        if isinstance(fmt, exp.Literal) and _ZONE_SPEC.search(fmt.this or ""):
            continue  # the text's own zone wins
        wall = exp.cast(node.copy(), "TIMESTAMP")
        node.replace(earliest_instant(wall, zone.copy()))
    return tree


def _read_in_utc(node: exp.StrToTime, fmt: exp.Expr | None) -> None:
    """No zone: a wall clock in UTC, a TIMESTAMP (strptime gave DuckDB's zoneless
    TIMESTAMP, a DATETIME to BigQuery where no analyzer named the type)."""
    if node.meta.get(_IN_UTC) or not isinstance(fmt, exp.Literal):
        return
    node.meta[_IN_UTC] = True
    if not _ZONE_SPEC.search(fmt.this or ""):  # else strptime gives a zoned value
        hole = detach(node)
        hole.replace(exp.AtTimeZone(this=node, zone=exp.Literal.string("UTC")))


@handles(*_PARSED)
def hour_twelve_is_zero(tree: exp.Expr) -> exp.Expr:
    """``%I`` without ``%p``: GoogleSQL reads 12 as hour 0 (DuckDB's strptime as 12)."""
    for node in list(tree.find_all(*_PARSED)):
        if not node.meta.pop(HOUR_TWELVE, False):
            continue
        hole = detach(node)
        hole.replace(duck_fragment(_TWELVE_TO_ZERO, _v=node))
    return tree


@handles(exp.TimeTrunc, exp.TimeToStr)
def time_functions(tree: exp.Expr) -> exp.Expr:
    """``TIME_TRUNC(t, part)`` and ``FORMAT_TIME(fmt, t)`` through a timestamp on 1970-01-01."""
    for node in list(tree.find_all(exp.TimeTrunc)):
        unit = node.args.get("unit")
        name = unit.name.lower() if unit is not None else ""
        if name not in ("hour", "minute", "second", "millisecond", "microsecond"):
            raise TranspileError(f"unsupported on DuckDB: TIME_TRUNC to {name or '?'}")
        node.replace(
            duck_fragment(f"CAST(date_trunc('{name}', {_EPOCH_DAY} + _t) AS TIME)", _t=node.this)
        )
    for node in list(tree.find_all(exp.TimeToStr)):
        if isinstance(node.this, exp.TsOrDsToTime):
            node.set("this", duck_fragment(f"{_EPOCH_DAY} + _t", _t=node.this.this))
            node.meta[FORMAT_TIME] = True
    return tree


@handles(exp.Sub)
def date_minus_date(tree: exp.Expr) -> exp.Expr:
    """``DATE - DATE`` is an INTERVAL (DuckDB: a number of days): loud."""
    for node in tree.find_all(exp.Sub):
        if _typed(node.this, T.DATE) and _typed(node.expression, T.DATE):
            raise TranspileError(
                "unsupported on DuckDB: DATE - DATE (an INTERVAL in BigQuery)",
                hint="use DATE_DIFF(a, b, DAY) for a number of days",
            )
    return tree


_FRACTION = (
    "CASE WHEN position('.' IN _t) = 0 THEN _t ELSE split_part(_t, '.', 1) || '.' || "
    "rpad(split_part(_t, '.', 2), CASE WHEN length(split_part(_t, '.', 2)) <= 3 "
    "THEN 3 ELSE 6 END, '0') END"
)
_WALL_TYPES = (T.TIME, T.DATETIME, T.TIMESTAMP)


@handles(exp.Cast, exp.String)
def fraction_text(tree: exp.Expr) -> exp.Expr:
    """TIME/DATETIME to STRING: fraction padded to 3 or 6 digits (``12:34:56.500``)."""
    for node in list(tree.find_all(exp.Cast, exp.String)):
        if isinstance(node, exp.Cast) and not node.to.is_type(*exp.DataType.TEXT_TYPES):
            continue
        if isinstance(node, exp.String) and node.args.get("zone") is not None:
            continue
        # a cast to text of an unknown value is rule-built (typed.RULE_BUILT); STRING() not
        if not _typed(
            node.this, *_WALL_TYPES, unknown=False if isinstance(node, exp.Cast) else None
        ):
            continue
        text = exp.cast(node.this.copy(), "VARCHAR")
        node.replace(exp.paren(duck_fragment(_FRACTION, _t=text)))
    return tree


_TIMESTAMP_TEXT = (
    "strftime(_w, '%Y-%m-%d %H:%M:%S') || "
    "CASE WHEN microsecond(_w) % 1000000 = 0 THEN '' "
    "WHEN microsecond(_w) % 1000 = 0 THEN printf('.%03d', (microsecond(_w) % 1000000) // 1000) "
    "ELSE printf('.%06d', microsecond(_w) % 1000000) END || "
    "CASE WHEN _o < 0 THEN '-' ELSE '+' END || printf('%02d', abs(_o) // 60) || "
    "CASE WHEN abs(_o) % 60 = 0 THEN '' ELSE printf(':%02d', abs(_o) % 60) END"
)


@handles(exp.String)
def string_of_timestamp(tree: exp.Expr) -> exp.Expr:
    """``STRING(ts[, zone])``: the wall clock in ``zone`` (UTC) with its UTC offset."""
    for node in list(tree.find_all(exp.String)):
        if not _typed(node.this, T.TIMESTAMPTZ, T.TIMESTAMPLTZ):
            continue
        zone = node.args.get("zone") or exp.Literal.string("UTC")
        ts = exp.cast(node.this.copy(), "TIMESTAMPTZ")
        wall = exp.Anonymous(this="timezone", expressions=[zone.copy(), ts.copy()])
        offset = duck_fragment("(epoch_us(_w) - epoch_us(_ts)) // 60000000", _w=wall, _ts=ts)
        text = duck_fragment(_TIMESTAMP_TEXT, _w=wall, _o=exp.paren(offset))
        node.replace(exp.paren(_mark_divisions(text)))
    return tree


_LAST_DAYS = {
    # the Sunday of the ISO week holding 28 December of the date's ISO year
    "ISOYEAR": "make_date(isoyear(_d), 12, 28) "
    "+ CAST(7 - isodow(make_date(isoyear(_d), 12, 28)) AS INTEGER)",
    "ISOWEEK": "_d + CAST(7 - isodow(_d) AS INTEGER)",
    "WEEK": "_d + CAST(6 - dayofweek(_d) AS INTEGER)",
}


@handles(exp.LastDay)
def last_day_weeks(tree: exp.Expr) -> exp.Expr:
    """``LAST_DAY(d, ISOYEAR|ISOWEEK|WEEK)`` (DuckDB's last_day knows only months)."""
    for node in list(tree.find_all(exp.LastDay)):
        unit = node.args.get("unit")
        template = _LAST_DAYS.get(unit.name.upper()) if unit is not None else None
        if template is None:
            continue
        node.replace(
            exp.cast(duck_fragment(template, _d=exp.cast(node.this.copy(), "DATE")), "DATE")
        )
    return tree


#: Units of ``UNIX_SECONDS``/``UNIX_MILLIS`` in microseconds.
_UNIX_UNITS = {exp.UnixSeconds: 1_000_000, exp.UnixMillis: 1_000}


@handles(*_UNIX_UNITS)
def unix_floor(tree: exp.Expr) -> exp.Expr:
    """``UNIX_SECONDS(ts)``/``UNIX_MILLIS(ts)``: whole units since the epoch, rounded down.

    Integer arithmetic on the exact microseconds (a double loses them past 2^53).
    """
    for node in list(tree.find_all(*_UNIX_UNITS)):
        unit = _UNIX_UNITS[type(node)]
        node.replace(
            duck_fragment(
                f"(epoch_us(_t) // {unit}) - CASE WHEN epoch_us(_t) % {unit} < 0 THEN 1 ELSE 0 END",
                _t=node.this,
            )
        )
    return tree


UNTYPED = (
    unix_floor,
    last_day_weeks,
    time_functions,  # before format_elements: FORMAT_TIME's value becomes a timestamp
    format_elements,
    parse_elements,
    civil_of_text,
    extract_week_start,
    extract_subsecond,
    parse_timestamp_zone,
    hour_twelve_is_zero,  # after parse_timestamp_zone: the zoneless value read
)

#: Run before ``typed.TYPED`` (its ``timestamp_to_string`` handles CAST of TIMESTAMP).
_COMPARED = (exp.EQ, exp.NEQ, exp.LT, exp.LTE, exp.GT, exp.GTE)


def _interval(node: exp.Expr) -> bool:
    kind = node.type
    return isinstance(node, exp.Interval) or (kind is not None and kind.is_type(T.INTERVAL))


@handles(exp.Cast, exp.Add, exp.Sub, *_COMPARED)
def interval_values(tree: exp.Expr) -> exp.Expr:
    """INTERVAL values other than a date/time's step are refused: DuckDB normalizes,
    compares and prints them otherwise (``29 days 24:00:00`` vs GoogleSQL's
    ``0-0 29 24:0:0``, equal to 30 days there)."""
    for node in tree.find_all(exp.Cast, exp.Add, exp.Sub, *_COMPARED):
        if isinstance(node, exp.Cast):
            operands = [node.this]
        elif isinstance(node, exp.Add | exp.Sub):  # a date plus an interval is a step
            both = _interval(node.this) and _interval(node.expression)
            operands = [node.this] if both else []
        else:
            operands = [node.this, node.expression]
        if any(_interval(o) for o in operands):
            raise TranspileError(
                "unsupported on DuckDB: INTERVAL values as values (arithmetic, casts and "
                f"comparisons of intervals): {node.sql(dialect='bigquery')[:80]}",
                hint="compare DATE_DIFF/TIMESTAMP_DIFF numbers instead, or use --engine bigquery",
            )
    return tree


TYPED = (
    interval_values,
    date_minus_date,
    string_of_timestamp,
    fraction_text,
    format_date_of_datetime,
    civil_of_text_params,
)


def needs_types(tree: exp.Expr, schema=None, params=None) -> bool:
    """True if a typed rewrite here could apply (``DATE - DATE`` only where DATEs occur)."""
    from idcbq.transpile.known import may_hold

    if tree.find(exp.String) or format_needs_types(tree):
        return True
    if any(isinstance(n.this, exp.Parameter | exp.Placeholder) for n in tree.find_all(*_CIVIL_OF)):
        return True
    if any(
        isinstance(c, exp.Cast) and c.to.is_type(*exp.DataType.TEXT_TYPES)
        for c in tree.find_all(exp.Cast)
    ):
        return True
    return bool(tree.find(exp.Sub)) and may_hold(tree, schema or {}, params or {}, ("DATE", "TIME"))


def apply_untyped(tree: exp.Expr) -> exp.Expr:
    """Run every untyped rewrite of this module."""
    return run_rules(tree, UNTYPED)
