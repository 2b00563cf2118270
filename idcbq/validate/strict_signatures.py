"""Signatures GoogleSQL lacks that DuckDB's implicit casts would answer.

DuckDB casts a STRING to a number or a date when a function needs one; GoogleSQL coerces
only literals and parameters, and only to the civil types. Refused here, for values whose
type is certain (a column, a cast, a literal):

- a math function (``ROUND``, ``ABS``, ``SQRT``, ``LOG``, ``POW``, ``SAFE_DIVIDE``, ...)
  of a STRING, BOOL, date or other non-number;
- ``LIKE`` of a non-text value;
- a date function (``DATE_ADD``, ``DATE_TRUNC``, ``EXTRACT``, ``FORMAT_DATE``, ...) of a
  number, or of a STRING that is not a literal or parameter;
- a CAST GoogleSQL has no conversion for (FLOAT64/NUMERIC to BOOL, numbers to dates,
  dates to numbers, TIME to DATE, BYTES to numbers, a scalar to an ARRAY or STRUCT and
  back, ...).

Example:
    >>> from idcbq.validate import check
    >>> str(check("SELECT ROUND('1.5') AS a", googlesql=False)[1][0]).splitlines()[0]
    '<sql>:1:8: No matching signature for function ROUND for argument types: STRING'
"""

from __future__ import annotations

from sqlglot import exp

from idcbq.validate.type_rules import (
    ARRAY,
    BOOL,
    BYTES,
    CIVIL,
    GEOGRAPHY,
    JSON,
    NUM,
    STRING,
    STRUCT,
    TIME,
    Add,
    coercible_text,
    family,
    name_of,
    one_signature,
    type_family,
)

T = exp.DataType.Type
_MATH = {
    exp.Round: ("ROUND", ("this", "decimals")),
    exp.Abs: ("ABS", ("this",)),
    exp.Sqrt: ("SQRT", ("this",)),
    exp.Ceil: ("CEIL", ("this",)),
    exp.Floor: ("FLOOR", ("this",)),
    exp.Ln: ("LN", ("this",)),
    exp.Log: ("LOG", ("this", "expression")),
    exp.Exp: ("EXP", ("this",)),
    exp.Pow: ("POW", ("this", "expression")),
    exp.Sign: ("SIGN", ("this",)),
    exp.Trunc: ("TRUNC", ("this", "decimals")),
    exp.SafeDivide: ("SAFE_DIVIDE", ("this", "expression")),
    exp.IntDiv: ("DIV", ("this", "expression")),
}
_NOT_NUMBER = (STRING, BYTES, BOOL, CIVIL, TIME, ARRAY, STRUCT, JSON, GEOGRAPHY)
_NOT_TEXT = (NUM, BOOL, CIVIL, TIME, ARRAY, STRUCT, JSON, GEOGRAPHY)
_NOT_CIVIL = (NUM, BOOL, BYTES, ARRAY, STRUCT, JSON, GEOGRAPHY)
_SCALARS = (NUM, BOOL, BYTES, CIVIL, TIME, STRING)


def certain(node: exp.Expr | None) -> exp.Expr | None:
    """``node`` if its type cannot be mistaken (a column, a cast, a literal), else None."""
    while isinstance(node, exp.Paren):
        node = node.this
    return node if isinstance(node, exp.Column | exp.Cast | exp.Literal | exp.Boolean) else None


def math_function(node: exp.Expr, refuse: Add) -> None:
    name, keys = _MATH[type(node)]
    for key in keys:
        value = certain(node.args.get(key))
        if value is not None and family(value) in _NOT_NUMBER:
            refuse(node, one_signature(f"function {name}", value))
            return


def like(node: exp.Like, refuse: Add) -> None:
    for value in (node.this, node.expression):
        sure = certain(value)
        if sure is not None and family(sure) in _NOT_TEXT:
            types = ", ".join(name_of(v) for v in (node.this, node.expression))
            refuse(node, f"No matching signature for operator LIKE for argument types: {types}")
            return


def not_civil(value: exp.Expr | None) -> bool:
    """A certain value no date function takes: a number, or a STRING column."""
    sure = certain(value)
    if sure is None:
        return False
    fam = family(sure)
    return fam in _NOT_CIVIL or (fam == STRING and not coercible_text(sure))


def format_civil(node: exp.TimeToStr, refuse: Add) -> None:
    """FORMAT_DATE/FORMAT_DATETIME/FORMAT_TIMESTAMP of a number or a STRING column."""
    value = node.this
    if isinstance(value, exp.TsOrDsToDate | exp.TsOrDsToTimestamp | exp.TsOrDsToDatetime):
        value = value.this
    if not_civil(value):
        refuse(
            node,
            f"No matching signature for function FORMAT_DATE/FORMAT_TIMESTAMP for argument types: {name_of(value)}",
        )


def cast_matrix(node: exp.Cast, refuse: Add) -> None:
    """A CAST between scalar types GoogleSQL does not convert."""
    source = certain(node.this)
    if source is None:
        return
    src, tgt = family(source), type_family(node.to)
    word = "SAFE_CAST" if isinstance(node, exp.TryCast) else "CAST"
    if (src in _SCALARS and tgt in (ARRAY, STRUCT)) or (src in (ARRAY, STRUCT) and tgt in _SCALARS):
        # no conversion between a scalar and an ARRAY/STRUCT, not even SAFE_CAST's NULL
        refuse(node, f"Invalid {word} from {name_of(source)} to {node.to.sql('bigquery')}")
        return
    if isinstance(source, exp.Literal) and source.is_string:
        return
    if src not in _SCALARS or tgt not in _SCALARS or src == STRING or tgt == STRING:
        return
    integer = source.type is not None and source.type.this in exp.DataType.INTEGER_TYPES
    kind = source.type.this
    wrong = (
        (src == NUM and (tgt in (CIVIL, TIME, BYTES) or (tgt == BOOL and not integer)))
        or (src == BYTES and tgt != BYTES)
        or (src == CIVIL and (tgt in (NUM, BOOL, BYTES) or (kind == T.DATE and tgt == TIME)))
        or (src == TIME and tgt != TIME)
    )
    if wrong:
        refuse(node, f"Invalid {word} from {name_of(source)} to {node.to.sql('bigquery')}")


SIGNATURE_RULES = {
    **dict.fromkeys(_MATH, math_function),
    exp.Like: like,
    exp.TimeToStr: format_civil,
}
