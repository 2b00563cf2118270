"""GoogleSQL's literal coercion: a FLOAT64 literal beside a NUMERIC value is NUMERIC.

GoogleSQL types the columns of ``SELECT CAST(x AS NUMERIC) UNION ALL SELECT 3.5`` and
the elements of ``[CAST(x AS NUMERIC), 1.25]`` as NUMERIC: a literal coerces to the
other operands' type. DuckDB makes ``3.5`` a DOUBLE (see :mod:`idcbq.transpile.literals`)
and the column DOUBLE. Without GoogleSQL's analyzer nothing would convert the result back,
so the literal is written as the NUMERIC it becomes, before anything is typed.

Only where the coercion is certain: every operand at the position is a ``CAST(... AS
NUMERIC)``, a number literal or NULL, and each FLOAT64 literal's digits fit
the type exactly. Anything else (a column, an expression, an exponent) is left to the
typed rule :mod:`idcbq.transpile.numeric_supertypes`, which reads the other values' types.

Example:
    >>> import sqlglot
    >>> sql = "SELECT CAST(NULL AS NUMERIC) v UNION ALL SELECT -1.25"
    >>> numeric_literals(sqlglot.parse_one(sql, read="bigquery")).sql("bigquery")
    'SELECT CAST(NULL AS NUMERIC) AS v UNION ALL SELECT CAST(-1.25 AS NUMERIC)'
"""

from __future__ import annotations

import re

from sqlglot import exp

from idcbq.transpile.shapes import set_operation_leaves

T = exp.DataType.Type
#: Integer and fraction digits each decimal type holds exactly.
_DIGITS = {T.DECIMAL: (29, 9)}  # BIGNUMERIC is refused (numeric.refused)
_FLOAT = re.compile(r"(\d*)\.(\d*)")


def numeric_literals(tree: exp.Expr) -> exp.Expr:
    """Write FLOAT64 literals beside NUMERIC operands as NUMERIC (see the module).

    Where another operand is not a literal nor a NUMERIC cast (a column), the typed rule
    :mod:`idcbq.transpile.numeric_supertypes` decides once types are known.
    """
    for node in list(tree.find_all(exp.SetOperation, exp.Array)):
        if isinstance(node, exp.Array):
            _coerce([[e] for e in node.expressions])
        elif not isinstance(node.parent, exp.SetOperation):  # the outermost of a chain
            leaves = _leaves(node)
            if leaves is not None:
                _coerce([list(s.expressions) for s in leaves])
    return tree


def _leaves(node: exp.Expr) -> list[exp.Select] | None:
    """The chain's SELECTs, or None if one is not a plain SELECT of listed columns."""
    leaves = set_operation_leaves(node)
    if leaves is None or any(
        s.args.get("kind") or any(isinstance(e, exp.Star) for e in s.expressions) for s in leaves
    ):
        return None
    return leaves


def _coerce(rows: list[list[exp.Expr]]) -> None:
    if not rows or len({len(r) for r in rows}) != 1:
        return
    for column in zip(*rows, strict=True):
        values = [c.this if isinstance(c, exp.Alias) else c for c in column]
        decimals = {_decimal(v) for v in values} - {None}
        if len(decimals) != 1:
            continue
        (kind,) = decimals
        floats = [v for v in values if float_text(v) is not None]
        if not all(_decimal(v) or float_text(v) or _plain(v) for v in values):
            continue  # a column or expression: numeric_supertypes reads its type
        for value in floats:
            text = float_text(value)
            if _fits(text, kind):
                target = exp.DataType.build(kind)
                slot = value.copy()
                value.replace(exp.cast(slot, target))


def _decimal(node: exp.Expr) -> T | None:
    """The NUMERIC type of ``CAST(x AS NUMERIC)`` (no precision), else None."""
    if isinstance(node, exp.Cast | exp.TryCast) and not node.to.expressions:
        kind = node.to.this
        return kind if kind in _DIGITS else None
    return None


def float_text(node: exp.Expr) -> str | None:
    """The text of a FLOAT64 literal (``-`` kept), or None."""
    sign = ""
    if isinstance(node, exp.Neg):
        sign, node = "-", node.this
    if isinstance(node, exp.Literal) and not node.is_string and _FLOAT.fullmatch(node.this):
        return sign + node.this
    return None


def _plain(node: exp.Expr) -> bool:
    """An INT64 literal or NULL: coerced by DuckDB itself without loss."""
    if isinstance(node, exp.Neg):
        node = node.this
    return isinstance(node, exp.Null) or (
        isinstance(node, exp.Literal) and not node.is_string and node.this.isdigit()
    )


def fits_numeric(text: str) -> bool:
    """True if the FLOAT64 literal ``text`` is a NUMERIC exactly (29 + 9 digits)."""
    return _fits(text, T.DECIMAL)


def _fits(text: str, kind: T) -> bool:
    whole, fraction = _FLOAT.fullmatch(text.lstrip("-")).groups()
    most_whole, most_fraction = _DIGITS[kind]
    return len(whole.lstrip("0")) <= most_whole and len(fraction.rstrip("0")) <= most_fraction


#: Functions whose first argument, a STRING literal, GoogleSQL coerces to this type.
_COERCED: dict[type[exp.Expr], str] = {
    exp.DateTrunc: "DATE",
    exp.DateAdd: "DATE",
    exp.DateSub: "DATE",
    exp.LastDay: "DATE",
    exp.TimestampTrunc: "TIMESTAMP",
    exp.TimestampAdd: "TIMESTAMP",
    exp.TimestampSub: "TIMESTAMP",
    exp.UnixSeconds: "TIMESTAMP",
    exp.UnixMillis: "TIMESTAMP",
    exp.UnixMicros: "TIMESTAMP",
    exp.TimeTrunc: "TIME",
    exp.TimeAdd: "TIME",
    exp.TimeSub: "TIME",
}
#: The bucket functions (sqlglot keeps them as calls): their value and origin.
_BUCKETS = {"DATE_BUCKET": "DATE", "DATETIME_BUCKET": "DATETIME", "TIMESTAMP_BUCKET": "TIMESTAMP"}


def civil_argument_literals(tree: exp.Expr) -> exp.Expr:
    """``DATE_TRUNC('2015-06-15', YEAR)``, ``TIMESTAMP_ADD('2008-12-25 15:30:00+00', ...)``:
    the STRING literal is the DATE/TIMESTAMP/TIME it coerces to, written as a CAST before
    types (DuckDB found no function of a string and refused, or read the string as its
    own TIMESTAMP: a DATETIME where GoogleSQL answers a DATE). ``FORMAT_TIME``'s value
    and the ``*_BUCKET`` functions' value and origin too; ``DATETIME_*`` and ``*_DIFF``
    sqlglot casts already.

    Example:
        >>> import sqlglot
        >>> sql = "SELECT DATE_TRUNC('2015-06-15', MONTH)"
        >>> civil_argument_literals(sqlglot.parse_one(sql, read="bigquery")).sql("bigquery")
        "SELECT DATE_TRUNC(CAST('2015-06-15' AS DATE), MONTH)"
    """
    for node in tree.find_all(*_COERCED, exp.TsOrDsToTime, exp.Anonymous):
        to = _COERCED.get(type(node))
        values = [node.this]
        if isinstance(node, exp.Anonymous):  # *_BUCKET(value, width[, origin])
            to = _BUCKETS.get(str(node.this).upper())
            values = node.expressions[0:1] + node.expressions[2:3]
        elif to is None:  # TIME(text) reads a TIMESTAMP's text: only FORMAT_TIME's value
            to = "TIME" if isinstance(node.parent, exp.TimeToStr) else None
        if to is None:
            continue
        for value in values:
            if isinstance(value, exp.Literal) and value.is_string:
                # BigQuery's TIMESTAMP: an instant (the zone argument reads it as one)
                target = exp.DataType.build(to, dialect="bigquery")
                value.replace(exp.cast(value.copy(), target))
    return tree
