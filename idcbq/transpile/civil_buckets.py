"""``DATETIME_BUCKET`` and ``TIMESTAMP_BUCKET`` on DuckDB (typed note, untyped rule).

``DATETIME_BUCKET(dt, width[, origin])`` / ``TIMESTAMP_BUCKET(ts, width[, origin])`` is
the start of the ``width``-long bucket holding the value, buckets counted from ``origin``
(default ``1950-01-01 00:00:00``, UTC for a TIMESTAMP; earlier values floor). DuckDB's
``time_bucket`` counts the same way, in microseconds, given the origin. Accepted widths:
a literal ``INTERVAL n unit`` of MICROSECOND..DAY or WEEK with ``0 < n`` within the
INTERVAL range (a SECOND may be a decimal string of whole microseconds, ``'0.0005'``),
or NULL (NULL answer; a NULL operand or origin too). A month-based or compound width, or an operand not typed DATETIME
(TIMESTAMP for ``TIMESTAMP_BUCKET``) or a string literal, is refused. A bucket starting
before year 1 is GoogleSQL's error.

Example:
    >>> import sqlglot
    >>> tree = sqlglot.parse_one(
    ...     "SELECT DATETIME_BUCKET('2020-02-15 14:57:39', INTERVAL 3 HOUR) AS b", read="bigquery")
    >>> "TIME_BUCKET(INTERVAL '10800000000' MICROSECOND" in civil_bucket(tree).sql("duckdb")
    True
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from sqlglot import exp

from idcbq.errors import TranspileError
from idcbq.transpile.errors_guards import guard
from idcbq.transpile.rules import handles, inspects
from idcbq.transpile.semantics import T, is_typed

#: Function -> DuckDB type of its operand and answer.
_KINDS = {"DATETIME_BUCKET": "TIMESTAMP", "TIMESTAMP_BUCKET": "TIMESTAMPTZ"}
#: Unit -> (microseconds, largest count GoogleSQL's INTERVAL holds).
_UNITS = {
    "MICROSECOND": (1, 316_224_000_000_000_000),
    "MILLISECOND": (1_000, 316_224_000_000_000),
    "SECOND": (1_000_000, 316_224_000_000),
    "MINUTE": (60_000_000, 5_270_400_000),
    "HOUR": (3_600_000_000, 87_840_000),
    "DAY": (86_400_000_000, 3_660_000),
    "WEEK": (7 * 86_400_000_000, 3_660_000 // 7),
}
_TYPED = "idcbq_civil_bucket"
_LOWEST = {"TIMESTAMP": "0001-01-01 00:00:00", "TIMESTAMPTZ": "0001-01-01 00:00:00+00"}
_ORIGIN = {"TIMESTAMP": "1950-01-01 00:00:00", "TIMESTAMPTZ": "1950-01-01 00:00:00+00"}


def _buckets(tree: exp.Expr) -> list[exp.Anonymous]:
    return [n for n in tree.find_all(exp.Anonymous) if str(n.name).upper() in _KINDS]


def needs_types(tree: exp.Expr) -> bool:
    """The operand's type decides: a DATETIME or a TIMESTAMP bucket."""
    return bool(_buckets(tree))


@handles(exp.Anonymous)
@inspects  # notes in meta
def civil_bucket_operand(tree: exp.Expr) -> exp.Expr:
    """Typed: note each bucket whose operand has the function's type."""
    for node in _buckets(tree):
        operand = node.expressions[0] if node.expressions else None
        if operand is None:
            continue
        if isinstance(operand, exp.Null) or (
            isinstance(operand, exp.Literal) and operand.is_string
        ):
            node.meta[_TYPED] = True  # GoogleSQL reads the text as the function's type
        elif str(node.name).upper() == "DATETIME_BUCKET":
            node.meta[_TYPED] = is_typed(operand, T.TIMESTAMP, T.DATETIME)
        else:
            node.meta[_TYPED] = is_typed(operand, T.TIMESTAMPTZ)
    return tree


def _micros(width: exp.Expr) -> int | None:
    """The width's microseconds (None: NULL); refuses what is not translated."""
    if isinstance(width, exp.Null):
        return None
    unit = width.args.get("unit") if isinstance(width, exp.Interval) else None
    name = unit.name.upper() if isinstance(unit, exp.Var) else ""
    amount = width.this if isinstance(width, exp.Interval) else None
    if name in _UNITS and isinstance(amount, exp.Literal):
        try:
            count = Decimal(str(amount.this))
        except InvalidOperation:
            count = None
        size, most = _UNITS[name]
        if count is not None and count.is_finite():
            if count <= 0:
                raise TranspileError("bucket width INTERVAL must be positive")
            if count > most:
                raise TranspileError(f"INTERVAL {amount.this} {name} is out of range")
            micros = count * size
            if micros == micros.to_integral_value() and (name == "SECOND" or count % 1 == 0):
                return int(micros)
    raise TranspileError(
        "unsupported on DuckDB: a bucket width other than a literal INTERVAL n "
        "MICROSECOND|MILLISECOND|SECOND|MINUTE|HOUR|DAY|WEEK",
        hint="run it with --engine bigquery or --engine googlesql",
    )


@handles(exp.Anonymous)
def civil_bucket(tree: exp.Expr) -> exp.Expr:
    """``DATETIME_BUCKET``/``TIMESTAMP_BUCKET`` -> ``time_bucket`` with GoogleSQL's origin."""
    for node in _buckets(tree):
        name = str(node.name).upper()
        args = node.expressions
        if len(args) not in (2, 3):
            raise TranspileError(f"unsupported on DuckDB: {name} takes 2 or 3 arguments")
        operand = args[0]
        typed = node.meta.get(_TYPED)
        if typed is None and (
            isinstance(operand, exp.Null)
            or (isinstance(operand, exp.Literal) and operand.is_string)
        ):
            typed = True
        if not typed:
            raise TranspileError(
                f"unsupported on DuckDB: {name} of a value not known to be a "
                f"{'DATETIME' if name == 'DATETIME_BUCKET' else 'TIMESTAMP'}: "
                f"{operand.sql(dialect='bigquery')}",
                hint="CAST it first, or use --engine bigquery",
            )
        kind = _KINDS[name]
        micros = _micros(args[1])
        if micros is None:
            node.replace(exp.cast(exp.null(), kind, dialect="duckdb"))
            continue
        origin = args[2].copy() if len(args) == 3 else exp.Literal.string(_ORIGIN[kind])
        width = exp.Interval(this=exp.Literal.string(str(micros)), unit=exp.var("MICROSECOND"))
        bucket = exp.cast(
            exp.Anonymous(
                this="TIME_BUCKET",
                expressions=[
                    width,
                    exp.cast(operand.copy(), kind, dialect="duckdb"),
                    exp.cast(origin, kind, dialect="duckdb"),
                ],
            ),
            kind,
            dialect="duckdb",
        )
        lowest = exp.cast(exp.Literal.string(_LOWEST[kind]), kind, dialect="duckdb")
        early = exp.LT(this=bucket.copy(), expression=lowest)
        node.replace(guard(bucket, early, "Bucket is outside of the range of its type"))
    return tree
