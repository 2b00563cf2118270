"""Values GoogleSQL's analyzer refuses where DuckDB converts them (strict layer).

- ``STRUCT<a INT64>(1.5)``: a typed STRUCT constructor's field takes only a value that
  coerces to the field's type (DuckDB cast 1.5 to 2; NUMERIC -> INT64, FLOAT64 ->
  NUMERIC and DATE -> TIMESTAMP are no coercions either, but a FLOAT64 *literal*
  becomes a NUMERIC, a STRING literal a date or time, and a DATE a DATETIME).
- ``1 IS TRUE``: ``IS [NOT] TRUE/FALSE`` tests only a BOOL (DuckDB cast the operand).

Example:
    >>> from idcbq.validate import check
    >>> _, problems = check("SELECT STRUCT<a INT64>(1.5) AS s", googlesql=False)
    >>> str(problems[0]).splitlines()[0]
    '<sql>:1:24: Struct field 1 has type FLOAT64 which does not coerce to INT64'
    >>> _, problems = check("SELECT 1 IS TRUE AS b", googlesql=False)
    >>> str(problems[0]).splitlines()[0]
    '<sql>:1:8: No matching signature for operator IS TRUE for argument types: INT64'
"""

from __future__ import annotations

from sqlglot import exp

from idcbq.validate.type_rules import (
    ARRAY,
    BOOL,
    BYTES,
    CIVIL,
    NUM,
    STRING,
    STRUCT,
    TIME,
    Add,
    coercible_text,
    family,
    name_of,
    type_family,
)

T = exp.DataType.Type
#: Families whose coercions this module models; any other pair is left to the engines.
_MODELLED = (NUM, STRING, BYTES, BOOL, CIVIL, TIME, ARRAY, STRUCT)
#: Civil types in a BigQuery tree (DATE coerces to DATETIME; no other pair coerces).
_CIVIL_NAMES = {
    T.DATE: "DATE",
    T.DATETIME: "DATETIME",
    T.TIMESTAMP: "DATETIME",  # sqlglot's BigQuery DATETIME
    T.TIMESTAMPTZ: "TIMESTAMP",
}
_INTEGERS = exp.DataType.INTEGER_TYPES
_FLOATS = (T.DOUBLE, T.FLOAT)
#: Number types each number type coerces to (GoogleSQL's conversion rules: widening only).
_WIDER = {
    T.DECIMAL: (T.DECIMAL, T.BIGDECIMAL, *_FLOATS),
    T.BIGDECIMAL: (T.BIGDECIMAL, *_FLOATS),
    **dict.fromkeys(_FLOATS, _FLOATS),
}


def typed_struct_fields(node: exp.Cast, refuse: Add) -> None:
    """``STRUCT<a T, ...>(v, ...)``: each ``v`` must coerce to its field's ``T``."""
    value, target = node.this, node.to
    if not isinstance(value, exp.Struct) or not target.is_type(T.STRUCT):
        return
    fields = target.expressions
    if len(fields) != len(value.expressions):
        return  # the arity is the analyzer's (and DuckDB's) to refuse
    for position, (item, field) in enumerate(zip(value.expressions, fields, strict=True), 1):
        kind = field.args.get("kind") if isinstance(field, exp.ColumnDef) else None
        if isinstance(item, exp.PropertyEQ | exp.Alias):
            continue  # a named field inside a typed constructor: not this shape
        if isinstance(kind, exp.DataType) and not _coerces(item, kind):
            refuse(
                item,
                f"Struct field {position} has type {name_of(item)} which does not coerce "
                f"to {kind.sql('bigquery')}",
            )


def _coerces(value: exp.Expr, kind: exp.DataType) -> bool:
    """False only where ``value`` certainly does not coerce to ``kind``."""
    source, target = family(value), type_family(kind)
    if source == STRING and target in (CIVIL, TIME) and coercible_text(value):
        return True  # a STRING literal becomes the date or time it spells
    if source == NUM and target == NUM and _float_literal(value):
        return kind.this not in _INTEGERS  # a FLOAT64 literal becomes a NUMERIC
    if source == ARRAY and target == ARRAY and isinstance(value, exp.Array):
        want = kind.expressions[0] if kind.expressions else None
        return not isinstance(want, exp.DataType) or all(
            _coerces(item, want) for item in value.expressions
        )  # an array literal coerces element by element ([1.5] to ARRAY<NUMERIC>)
    if source is None or value.type is None:
        return True  # NULL or an unknown type
    return _type_coerces(value.type, kind)


def _type_coerces(have: exp.DataType, want: exp.DataType) -> bool:
    """GoogleSQL's implicit coercion of a value's type (no literal), as far as modelled."""
    source, target = type_family(have), type_family(want)
    if source not in _MODELLED or target not in _MODELLED:
        return True  # a family not modelled here
    if source != target:
        return False
    if source == NUM:
        return have.this in _INTEGERS or want.this in _WIDER.get(have.this, (want.this,))
    if source == CIVIL:
        pair = (_CIVIL_NAMES.get(have.this), _CIVIL_NAMES.get(want.this))
        return None in pair or pair[0] == pair[1] or pair == ("DATE", "DATETIME")
    if source == ARRAY:
        inner = (have.expressions[:1], want.expressions[:1])
        if not all(len(i) == 1 and isinstance(i[0], exp.DataType) for i in inner):
            return True
        return _type_coerces(inner[0][0], inner[1][0])
    return True


def _float_literal(node: exp.Expr) -> bool:
    """``1.5``, ``-2e3``: a number literal typed FLOAT64 (an integer literal is INT64)."""
    typed_float = node.type is not None and node.type.this in _FLOATS
    while isinstance(node, exp.Paren | exp.Neg):
        node = node.this
    return typed_float and isinstance(node, exp.Literal) and not node.is_string


def bool_test(node: exp.Is, refuse: Add) -> None:
    """``x IS [NOT] TRUE/FALSE`` of a value that is no BOOL."""
    test = node.expression
    if not isinstance(test, exp.Boolean):
        return  # IS NULL takes any type
    if family(node.this) not in (None, BOOL):
        word = "TRUE" if test.this else "FALSE"
        refuse(
            node,
            f"No matching signature for operator IS {word} for argument types: "
            f"{name_of(node.this)}",
        )
