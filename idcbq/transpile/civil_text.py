"""STRING -> DATE/DATETIME/TIME/TIMESTAMP casts that read only what GoogleSQL reads.

DuckDB's casts from text are lenient where GoogleSQL's are strict: they skip white
space (``' 2024-01-02'``), drop a seventh fractional digit, take ``HH:MM`` without
seconds, read a time part on a DATE (``'2024-01-02 00:00:00'``), ``24:00:00`` as a time
and a ``+15:00`` offset. GoogleSQL's ``SAFE_CAST`` gives NULL for each (``CAST`` an
error); DuckDB gave a value. A few texts GoogleSQL reads DuckDB does not (a leap second
``:60``, a lower-case ``t`` or ``z``, a one-digit offset ``+5``).

Each such cast of a STRING value becomes a CASE on the text's shape:

- the shapes both engines read alike: DuckDB's cast;
- the shapes only GoogleSQL may read: an error naming the text (loud, never a guess);
- anything else, which GoogleSQL does not read: NULL for ``SAFE_CAST``, an error for
  ``CAST``.

A cast of a value whose type annotation could not tell is refused
(:func:`~idcbq.transpile.semantics.is_typed`). String literals are the analyzer's; this
rule reads typed values, literals included, so both follow one rule.

Example:
    >>> import sqlglot
    >>> from idcbq.transpile.types import annotate
    >>> tree = sqlglot.parse_one("SELECT SAFE_CAST(s AS DATE) AS d FROM t", read="bigquery")
    >>> _ = annotate(tree, {"t": {"s": "STRING"}})
    >>> "REGEXP_MATCHES(s, '^(?:(?:000[1-9]" in civil_text_casts(tree).sql("duckdb")
    True
"""

from __future__ import annotations

import re

from sqlglot import exp

from idcbq.errors import TranspileError
from idcbq.transpile.civil_ranges import EPOCH_US_MAX, EPOCH_US_MIN
from idcbq.transpile.rules import handles
from idcbq.transpile.semantics import T, error_call, is_typed
from idcbq.transpile.zones import earliest_instant

_YEAR = r"(?:000[1-9]|00[1-9]\d|0[1-9]\d\d|[1-9]\d{3})"  # 0001..9999, four digits
_DATE = _YEAR + r"-\d{1,2}-\d{1,2}"
_HOUR_MINUTE = r"(?:[01]?\d|2[0-3]):[0-5]?\d:"
_FRACTION = r"(?:\.\d{1,6})?"
_TIME = _HOUR_MINUTE + r"[0-5]?\d" + _FRACTION
_LEAP_TIME = _HOUR_MINUTE + r"(?:[0-5]?\d|60)" + _FRACTION  # GoogleSQL reads :60
_OFFSET = r"[+-](?:(?:0\d|1[0-3])(?::?[0-5]\d)?|14(?::?00)?)"
_ZONE = rf"(?:Z|{_OFFSET}| UTC(?:[+-]\d{{1,2}}(?::\d\d)?)?| [A-Z][A-Za-z_]*(?:/[A-Za-z_]+)*)"
#: target -> (texts both engines read alike, texts GoogleSQL may read and DuckDB reads
#: otherwise or not at all: refused); any other text is not a GoogleSQL value.
_SHAPES: dict[T, tuple[str, str | None]] = {
    T.DATE: (_DATE, None),
    T.TIMESTAMP: (  # sqlglot's BigQuery DATETIME
        rf"{_DATE}(?:[ T]{_TIME})?",
        rf"{_DATE}(?:t{_LEAP_TIME}|[ T]{_LEAP_TIME})",
    ),
    T.TIME: (_TIME, _LEAP_TIME),
    T.TIMESTAMPTZ: (
        rf"{_DATE}(?:[ T]{_TIME})?{_ZONE}?",
        rf"{_DATE}(?:[ Tt]{_LEAP_TIME})?(?:[zZ]|[+-]\d(?::?\d\d)?| [A-Za-z][\w/+-]*)?",
    ),
}
_NAMES = {T.DATE: "date", T.TIMESTAMP: "datetime", T.TIME: "time", T.TIMESTAMPTZ: "timestamp"}


def _target(cast: exp.Cast) -> T | None:
    return next((kind for kind in _SHAPES if cast.to.is_type(kind)), None)


def needs_types(tree: exp.Expr) -> bool:
    """True if a cast to a date/time type reads a value that may be text (its type decides)."""
    return any(
        _target(cast) is not None and not isinstance(cast.this, exp.Literal | exp.Null)
        for cast in tree.find_all(exp.Cast)
    )


def _matches(value: exp.Expr, pattern: str) -> exp.Expr:
    # RE2's $ is the end of the text (Python's would also match before a final newline)
    return exp.RegexpLike(this=value.copy(), expression=exp.Literal.string(f"^(?:{pattern})$"))


def _message(text: str, value: exp.Expr) -> exp.Expr:
    return exp.DPipe(this=exp.Literal.string(text), expression=value.copy())


@handles(exp.Cast)
def literal_casts(tree: exp.Expr) -> exp.Expr:
    """Decide each cast of a string literal now (also BigQuery's ``DATE '...'`` literals)."""
    for cast in list(tree.find_all(exp.Cast)):
        kind = _target(cast)
        if kind is None or not (isinstance(cast.this, exp.Literal) and cast.this.is_string):
            continue
        both, googlesql_only = _SHAPES[kind]
        text = cast.this.this
        if re.fullmatch(both, text, re.ASCII):
            named = _NAMED_ZONE.fullmatch(text) if kind is T.TIMESTAMPTZ else None
            if named and named[2] != "UTC":
                tried = exp.TryCast(this=cast.this.copy(), to=cast.to.copy())
                cast.replace(_zoned(cast.this, tried, otherwise=cast.copy()))
            continue
        name = _NAMES[kind]
        if googlesql_only and re.fullmatch(googlesql_only, text, re.ASCII):
            raise TranspileError(
                f"unsupported on DuckDB: the {name} text {text!r} is read differently by DuckDB",
                hint="write it as YYYY-MM-DD[ HH:MM:SS[.ffffff]][+HH:MM], or --engine bigquery",
            )
        safe = isinstance(cast, exp.TryCast) or bool(cast.args.get("safe"))
        invalid = exp.cast(exp.null(), cast.to.copy()) if safe else None
        # typed: DuckDB folds a function of an untyped error() (a NULL) to NULL unraised
        error = exp.cast(error_call(f"Invalid {name} string: {text}"), cast.to.copy())
        cast.replace(invalid or error)
    return tree


@handles(exp.Cast)
def civil_text_casts(tree: exp.Expr) -> exp.Expr:
    """Guard every cast of a STRING value to DATE/DATETIME/TIME/TIMESTAMP by its shape."""
    for cast in list(tree.find_all(exp.Cast)):
        kind = _target(cast)
        value = cast.this
        if kind is None or isinstance(value, exp.Literal) or cast.meta.get("idcbq_civil_text"):
            continue
        if not is_typed(value, *exp.DataType.TEXT_TYPES):
            continue
        cast.meta["idcbq_civil_text"] = True
        both, googlesql_only = _SHAPES[kind]
        name = _NAMES[kind]
        safe = isinstance(cast, exp.TryCast) or bool(cast.args.get("safe"))
        refused = error_call(
            _message(
                f"unsupported on DuckDB: the {name} text is read differently by DuckDB: ", value
            )
        )
        invalid = None if safe else error_call(_message(f"Invalid {name} string: ", value))
        read = cast.copy()
        if kind is T.TIMESTAMPTZ:  # a zone's repeated hour: the earlier instant
            read = exp.Case(
                ifs=[exp.If(this=_named_zone(value), true=_zoned(value, read))], default=read
            )
        if kind is T.TIMESTAMPTZ:  # an offset can move the instant out of GoogleSQL's range
            read = exp.Case(
                ifs=[exp.If(this=_in_range(read), true=read.copy())],
                default=invalid.copy() if invalid else None,
            )
        ifs = [
            exp.If(this=exp.Is(this=value.copy(), expression=exp.null()), true=exp.null()),
            exp.If(this=_matches(value, both), true=read),
        ]
        if googlesql_only:
            ifs.append(exp.If(this=_matches(value, googlesql_only), true=refused))
        replacement = exp.Case(ifs=ifs, default=invalid)
        replacement.type = cast.type  # for the typed rules after this one
        wrapped = exp.paren(replacement)
        wrapped.type = cast.type
        cast.replace(wrapped)
    return tree


#: a timestamp text ending in a zone name: (wall clock, zone)
_NAMED_ZONE = re.compile(r"(.*\d) ([A-Za-z][A-Za-z_]*(?:/[A-Za-z_]+)*)", re.ASCII)


def _named_zone(value: exp.Expr) -> exp.Expr:
    return exp.RegexpLike(
        this=value.copy(), expression=exp.Literal.string(f"^(?:{_NAMED_ZONE.pattern})$")
    )


def _zoned(value: exp.Expr, plain: exp.Expr, otherwise: exp.Expr | None = None) -> exp.Expr:
    """The earlier instant of a wall clock in a named zone; where ``plain`` is NULL (a
    zone DuckDB does not know) ``otherwise`` (``TRY_CAST``'s NULL or ``CAST``'s error)."""

    def part(group: int) -> exp.Expr:
        pattern = exp.Literal.string(f"^(?:{_NAMED_ZONE.pattern})$")
        # DuckDB's own function (idcbq's REGEXP_EXTRACT rules are BigQuery's: one group)
        return exp.Anonymous(
            this="regexp_extract", expressions=[value.copy(), pattern, exp.Literal.number(group)]
        )

    instant = earliest_instant(exp.cast(part(1), "TIMESTAMP"), part(2))
    unread = exp.Is(this=plain.copy(), expression=exp.null())
    return exp.Case(ifs=[exp.If(this=unread, true=otherwise or exp.null())], default=instant)


def _in_range(instant: exp.Expr) -> exp.Expr:
    micros = exp.Anonymous(this="epoch_us", expressions=[instant.copy()])
    return exp.Between(
        this=micros,
        low=exp.Literal.number(EPOCH_US_MIN),
        high=exp.Literal.number(EPOCH_US_MAX),
    )


TYPED = (civil_text_casts,)
