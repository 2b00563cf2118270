"""Time zones given as values (a column, a parameter) and the zone in formatted text.

sqlglot translates ``TIMESTAMP(dt, zone)`` and ``DATETIME(ts, zone)`` correctly only when
the zone is a string literal: with a column it wrote a DuckDB ``TIMESTAMP(dt, zone)``
(no such function) or read ``DATETIME(ts, zone)`` as ``DATETIME(date, time)``.

- ``timestamp_zone_values`` (untyped): ``TIMESTAMP(dt, zone)`` is the instant whose wall
  clock in ``zone`` is ``dt`` (``CAST(dt AS TIMESTAMP) AT TIME ZONE zone``), the earlier
  of two in the hour repeated when summer time ends.
- ``datetime_zone_values`` (typed): ``DATETIME(x, y)`` with ``y`` not a literal is the wall
  clock of TIMESTAMP ``x`` in zone ``y`` when ``y`` is a STRING, ``DATETIME(date, time)``
  when it is a TIME; a type nobody knows refuses the query.
- ``extract_at_time_zone`` (before types): ``EXTRACT(part FROM ts AT TIME ZONE z)``
  extracts from ``DATETIME(ts, z)``.
- ``format_zone_names`` (untyped): ``%Z`` and ``%z`` in ``FORMAT_TIMESTAMP``: GoogleSQL
  writes the zone's UTC offset at that instant, ``UTC+2`` / ``UTC+0530`` / ``UTC`` for
  ``%Z``, ``+0200`` for ``%z`` and ``+02:00`` for ``%Ez`` (minutes truncated toward
  zero, as for a local mean time of ``+00:09:21``).

The zone values pass the UTC-offset guard of :mod:`idcbq.transpile.errors_text` like any
zone argument.

Example:
    >>> import sqlglot
    >>> tree = sqlglot.parse_one("SELECT TIMESTAMP(dt, z) AS t FROM x", read="bigquery")
    >>> "CAST(dt AS TIMESTAMP) AT TIME ZONE z" in timestamp_zone_values(tree).sql("duckdb")
    True
"""

from __future__ import annotations

import re

from sqlglot import exp

from idcbq.errors import TranspileError
from idcbq.transpile.numeric import duck_fragment
from idcbq.transpile.rules import handles
from idcbq.transpile.semantics import T
from idcbq.transpile.semantics import is_typed as _typed

#: The repeated hour of a change back from summer time (or half hour: Lord Howe)
_EARLIER = (
    "CASE WHEN (_w AT TIME ZONE _z - INTERVAL 1 HOUR) AT TIME ZONE _z = _w "
    "THEN _w AT TIME ZONE _z - INTERVAL 1 HOUR "
    "WHEN (_w AT TIME ZONE _z - INTERVAL 30 MINUTE) AT TIME ZONE _z = _w "
    "THEN _w AT TIME ZONE _z - INTERVAL 30 MINUTE ELSE _w AT TIME ZONE _z END"
)


def earliest_instant(wall: exp.Expr, zone: exp.Expr) -> exp.Expr:
    """The instant whose wall clock in ``zone`` is ``wall`` (a DuckDB TIMESTAMP); of the
    two a change back from summer time gives, the earlier, as GoogleSQL takes it (DuckDB
    took the later)."""
    return exp.paren(duck_fragment(_EARLIER, _w=wall, _z=zone))


@handles(exp.Timestamp)
def timestamp_zone_values(tree: exp.Expr) -> exp.Expr:
    """``TIMESTAMP(dt, zone)``: the earliest instant whose wall clock in ``zone`` is ``dt``."""
    for node in list(tree.find_all(exp.Timestamp)):
        zone = node.args.get("zone")
        if zone is None:
            continue
        wall = exp.cast(node.this.copy(), "TIMESTAMP")
        node.replace(earliest_instant(wall, zone.copy()))
    return tree


def extract_at_time_zone(tree: exp.Expr) -> exp.Expr:
    """``EXTRACT(part FROM ts AT TIME ZONE zone)`` is the part of ``DATETIME(ts, zone)``,
    the wall clock in ``zone`` (run before annotation: the DATETIME is typed, the
    AT TIME ZONE was not and refused the query)."""
    for node in list(tree.find_all(exp.Extract)):
        value = node.expression
        if isinstance(value, exp.AtTimeZone) and value.args.get("zone") is not None:
            wall = exp.Datetime(this=value.this.copy(), expression=value.args["zone"].copy())
            wall.meta[_AT_TIME_ZONE] = True
            node.set("expression", wall)
    return tree


_AT_TIME_ZONE = "idcbq_at_time_zone"


@handles(exp.Datetime)
def at_time_zone_timestamps(tree: exp.Expr) -> exp.Expr:
    """``EXTRACT(... FROM x AT TIME ZONE z)`` of a DATE or DATETIME is refused, as GoogleSQL's
    analyzer does (DuckDB would read the wall clock as UTC)."""
    for node in tree.find_all(exp.Datetime):
        value = node.this
        if not node.meta.get(_AT_TIME_ZONE) or value.is_string:
            continue  # a string literal is read as a TIMESTAMP
        kind = value.type
        if kind is not None and kind.is_type(T.DATE, T.DATETIME, T.TIMESTAMP, T.TIME):
            name = {"TIMESTAMP": "DATETIME"}.get(kind.this.name, kind.this.name)
            raise TranspileError(f"EXTRACT from {name} does not support AT TIME ZONE")
    return tree


def needs_types(tree: exp.Expr) -> bool:
    """Whether a ``DATETIME(x, y)`` has a second argument that is not a literal."""
    return any(
        node.meta.get(_AT_TIME_ZONE) or _zone_or_time(node) is not None
        for node in tree.find_all(exp.Datetime)
    )


def _zone_or_time(node: exp.Datetime) -> exp.Expr | None:
    """The second argument of ``DATETIME(x, y)`` when types decide its reading: a value,
    or a string literal (a TIME after a DATE, a zone after a TIMESTAMP)."""
    second = node.args.get("expression")
    if second is None or (isinstance(second, exp.Literal) and not second.is_string):
        return None
    return second


@handles(exp.Datetime)
def datetime_zone_values(tree: exp.Expr) -> exp.Expr:
    """``DATETIME(ts, zone)`` with a zone whose reading types decide: a value, or a string
    literal after a TIMESTAMP (sqlglot read ``'2020-02-29'`` there as a TIME)."""
    for node in list(tree.find_all(exp.Datetime)):
        second = _zone_or_time(node)
        if second is None or _typed(second, T.TIME):
            continue
        if isinstance(second, exp.Literal):
            if _typed(node.this, T.DATE):
                continue  # DATETIME(date, 'hh:mm:ss'): the literal is a TIME
            if not _typed(node.this, T.TIMESTAMP, T.TIMESTAMPTZ):
                raise TranspileError(
                    f"unsupported on DuckDB: {node.sql(dialect='bigquery')}: the type of its "
                    "first argument (a DATE or a TIMESTAMP) is not known here",
                    hint="CAST the first argument to DATE or TIMESTAMP, or use --engine bigquery",
                )
        elif not _typed(second, *exp.DataType.TEXT_TYPES):
            raise TranspileError(
                f"unsupported on DuckDB: {node.sql(dialect='bigquery')}: the type of its "
                "second argument (a TIME or a time zone) is not known here",
                hint="CAST the argument to STRING or TIME, or use --engine bigquery",
            )
        instant = exp.cast(node.this.copy(), "TIMESTAMPTZ")
        wall = exp.Anonymous(this="timezone", expressions=[second.copy(), instant])
        node.replace(exp.cast(wall, "TIMESTAMP"))
    return tree


#: ``%Z``/``%z``/``%Ez`` not preceded by an escaping ``%`` (``%%Z`` is the text ``%Z``).
_ZONE_ELEMENT = re.compile(r"%(?:%|Ez|Z|z)")

#: The offset in whole minutes (toward zero) of instant ``_t`` in zone ``_z``.
_OFFSET_MINUTES = (
    "CAST(trunc((epoch_us(timezone(_z, CAST(_t AS TIMESTAMPTZ))) "
    "- epoch_us(CAST(_t AS TIMESTAMPTZ))) / 60000000) AS BIGINT)"
)
_HOURS = "CAST(abs(_m) // 60 AS VARCHAR)"
_MINUTES = "lpad(CAST(abs(_m) % 60 AS VARCHAR), 2, '0')"
_SIGN = "CASE WHEN _m < 0 THEN '-' ELSE '+' END"
_NUMERIC = f"{_SIGN} || lpad({_HOURS}, 2, '0') || {_MINUTES}"
_RFC3339 = f"{_SIGN} || lpad({_HOURS}, 2, '0') || ':' || {_MINUTES}"
_NAMED = (
    f"CASE WHEN _m = 0 THEN 'UTC' WHEN _m % 60 = 0 THEN 'UTC' || {_SIGN} || {_HOURS} "
    f"ELSE 'UTC' || {_NUMERIC} END"
)


#: The zone elements' text from the offset ``_m`` (``%Ez``: RFC 3339, ``+05:30``).
_ZONE_TEXT = {"%Z": _NAMED, "%z": _NUMERIC, "%Ez": _RFC3339}


@handles(exp.TimeToStr)
def format_zone_names(tree: exp.Expr) -> exp.Expr:
    """``FORMAT_TIMESTAMP`` with ``%Z``/``%z``/``%Ez``: the rest formatted as before, the
    zone's offset text in between."""
    for node in list(tree.find_all(exp.TimeToStr)):
        fmt = node.args.get("format")
        if not isinstance(node.this, exp.TsOrDsToTimestamp) or not (
            isinstance(fmt, exp.Literal) and fmt.is_string
        ):
            continue
        pieces = _split(fmt.this)
        if not _ZONE_TEXT.keys() & set(pieces):
            continue
        zone = node.args.get("zone") or exp.Literal.string("UTC")
        instant = node.this.this
        minutes = duck_fragment(_OFFSET_MINUTES, _z=zone, _t=instant)
        parts: list[exp.Expr] = []
        for piece in pieces:
            if piece in _ZONE_TEXT:
                parts.append(duck_fragment(_ZONE_TEXT[piece], _m=minutes))
            elif piece:
                part = node.copy()
                part.set("format", exp.Literal.string(piece))
                parts.append(part)
        answer = parts[0]
        for part in parts[1:]:
            answer = exp.DPipe(this=answer, expression=part, safe=True)
        node.replace(exp.Paren(this=answer))
    return tree


def _split(fmt: str) -> list[str]:
    """``'%H %Z'`` -> ``['%H ', '%Z']``: zone elements apart, other text kept whole."""
    out, start = [], 0
    for match in _ZONE_ELEMENT.finditer(fmt):
        if match.group() == "%%":
            continue
        out.append(fmt[start : match.start()])
        out.append(match.group())
        start = match.end()
    out.append(fmt[start:])
    return [p for p in out if p]


#: Rules run on every query.
UNTYPED = (timestamp_zone_values, format_zone_names)
#: Rules that read types.
TYPED = (at_time_zone_timestamps, datetime_zone_values)


def apply_untyped(tree: exp.Expr) -> exp.Expr:
    """Run every untyped rule of this module."""
    for rule in UNTYPED:
        tree = rule(tree)
    return tree
