"""Function rules of the strict layer's type check (see :mod:`idcbq.validate.strict_types`).

Each takes a call whose arguments sqlglot typed and refuses only a signature GoogleSQL
certainly lacks: a text function of a number, ``MOD`` of a FLOAT64, a date part finer
than a day on a DATE, ...

Example:
    >>> from sqlglot import exp
    >>> call = exp.Length(this=exp.Literal.number(123))
    >>> call.this.type = exp.DataType.build("BIGINT")
    >>> found = []
    >>> _text_function(call, lambda node, message: found.append(message))
    >>> found
    ['No matching signature for function LENGTH for argument types: INT64']
"""

from __future__ import annotations

import re
from collections.abc import Callable

from sqlglot import exp

from idcbq.validate import strict_calls, strict_signatures, strict_values
from idcbq.validate.strict_literals import cast_literal
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
    is_float,
    name_of,
    one_signature,
    type_family,
)

T = exp.DataType.Type
_TIME_PARTS = frozenset(["HOUR", "MINUTE", "SECOND", "MILLISECOND", "MICROSECOND"])
_COARSE_PARTS = frozenset(["WEEK", "ISOWEEK", "MONTH", "QUARTER", "YEAR", "ISOYEAR"])
_DATE_PARTS = frozenset(["DAYOFWEEK", "DAY", "DAYOFYEAR", *_COARSE_PARTS])
_NOT_PARTS = frozenset(["EPOCH", "DOW", "DOY", "CENTURY", "DECADE", "MILLENNIUM", "JULIAN"])
_TEXT = (STRING, BYTES)
_NAMES = {
    exp.Length: "LENGTH",
    exp.Lower: "LOWER",
    exp.Upper: "UPPER",
    exp.GroupConcat: "STRING_AGG",
}
#: Text functions and their STRING/BYTES arguments (a number or date there has no signature).
_TEXT_ARGUMENTS = {
    exp.Substring: ("SUBSTR", ("this",)),
    exp.Pad: ("LPAD/RPAD", ("this", "fill_pattern")),
    exp.Replace: ("REPLACE", ("this", "expression", "replacement")),
    exp.StartsWith: ("STARTS_WITH", ("this", "expression")),
    exp.EndsWith: ("ENDS_WITH", ("this", "expression")),
    exp.RegexpLike: ("REGEXP_CONTAINS", ("this", "expression")),
    exp.StrPosition: ("STRPOS", ("this", "substr")),
    exp.Trim: ("TRIM", ("this",)),
    exp.Split: ("SPLIT", ("this", "expression")),
    exp.RegexpExtract: ("REGEXP_EXTRACT", ("this", "expression")),
    exp.RegexpReplace: ("REGEXP_REPLACE", ("this", "expression", "replacement")),
    exp.Initcap: ("INITCAP", ("this",)),
}
#: Families no text function reads.
_NOT_TEXT = (NUM, BOOL, CIVIL, TIME, ARRAY, STRUCT, JSON)
#: Families SUM/AVG do not take (numbers, and INTERVAL which is not modelled, only).
_NOT_SUMMABLE = (STRING, BYTES, BOOL, CIVIL, TIME, ARRAY, STRUCT, JSON, GEOGRAPHY)
#: Families no arithmetic operator takes.
_NOT_ARITHMETIC = (BOOL, BYTES, ARRAY, STRUCT, JSON, GEOGRAPHY)
_ARITHMETIC = {exp.Add: "+", exp.Sub: "-", exp.Mul: "*", exp.Div: "/"}
#: The start of a civil literal: a STRING literal that may coerce to DATE/TIMESTAMP.
_DATE_TEXT = re.compile(r"\s*\d{1,4}-\d{1,2}-\d{1,2}")


def _first_argument(node: exp.Expr | None) -> exp.Expr | None:
    """The value an aggregate reads, under DISTINCT / ORDER BY / LIMIT."""
    while isinstance(node, exp.Limit | exp.Order | exp.IgnoreNulls | exp.RespectNulls):
        node = node.this
    if isinstance(node, exp.Distinct):
        return node.expressions[0] if len(node.expressions) >= 1 else None
    return node


def _text_function(node: exp.Expr, refuse: Add) -> None:
    if isinstance(node, exp.GroupConcat) and strict_calls.null_separator(node, refuse):
        return
    value = _first_argument(node.this)
    fam = family(value)
    if value is not None and fam is not None and fam not in _TEXT:
        refuse(node, one_signature(f"function {_NAMES[type(node)]}", value))


def _array_to_string(node: exp.ArrayToString, refuse: Add) -> None:
    kind = node.this.type
    if kind is None or not kind.is_type(T.ARRAY) or not kind.expressions:
        return
    element = type_family(kind.expressions[0])
    if element is not None and element not in _TEXT:
        types = ", ".join(name_of(a) for a in (node.this, node.expression) if a is not None)
        refuse(
            node, f"No matching signature for function ARRAY_TO_STRING for argument types: {types}"
        )


def _mod(node: exp.Mod, refuse: Add) -> None:
    operands = [node.this, node.expression]
    if any(is_float(o) or family(o) not in (None, NUM) for o in operands):
        types = ", ".join(name_of(o) for o in operands)
        refuse(node, f"No matching signature for function MOD for argument types: {types}")


def _array_agg(node: exp.ArrayAgg, refuse: Add) -> None:
    value = _first_argument(node.this)
    if family(value) == ARRAY:
        refuse(
            node,
            f"ARRAY_AGG cannot aggregate values of type {name_of(value)} (arrays of arrays are not allowed)",
        )


def _part(node: exp.Expr | None) -> str | None:
    if isinstance(node, exp.WeekStart):
        return "WEEK"
    if isinstance(node, exp.Var | exp.Literal | exp.Column) and not isinstance(node, exp.Dot):
        return node.name.upper() or None
    return None


def _extract(node: exp.Extract, refuse: Add) -> None:
    part, value = _part(node.this), node.expression
    if strict_calls.extract_at_time_zone(node, refuse):
        return
    if strict_signatures.not_civil(value):
        refuse(
            node, f"No matching signature for function EXTRACT for argument types: {name_of(value)}"
        )
        return
    if part in _NOT_PARTS:
        refuse(node, f"{part} is not a date part BigQuery's EXTRACT supports")
    elif _is(value, T.DATE) and part in _TIME_PARTS:
        refuse(node, f"EXTRACT from DATE does not support the {part} date part")
    elif _is(value, T.TIME) and part in _DATE_PARTS:
        refuse(node, f"EXTRACT from TIME does not support the {part} date part")


def _date_function(node: exp.Expr, refuse: Add) -> None:
    """DATE_ADD/SUB/DIFF/TRUNC of a DATE by a part finer than a day, or of a non-date."""
    part = _part(node.args.get("unit"))
    values = [node.this, *([node.expression] if isinstance(node, exp.DateDiff) else [])]
    name = {exp.DateAdd: "DATE_ADD", exp.DateSub: "DATE_SUB", exp.DateDiff: "DATE_DIFF"}
    for value in values:
        if strict_signatures.not_civil(value):
            words = f"{name.get(type(node), 'DATE_TRUNC')} for argument types: {name_of(value)}"
            refuse(node, f"No matching signature for function {words}")
            return
    if part in _TIME_PARTS and all(_is(v, T.DATE) for v in values):
        name = {exp.DateAdd: "DATE_ADD", exp.DateSub: "DATE_SUB", exp.DateDiff: "DATE_DIFF"}
        refuse(node, f"{name.get(type(node), 'DATE_TRUNC')} does not support the {part} date part")


def _date_diff(node: exp.DateDiff, refuse: Add) -> None:
    """DATE_DIFF of a DATE and a TIMESTAMP: the two have no common supertype."""
    if strict_calls.part_first(node, refuse):
        return
    values = (node.this, node.expression)
    if any(_is(v, T.DATE) for v in values) and any(_is(v, T.TIMESTAMPTZ) for v in values):
        types = ", ".join(name_of(v) for v in values)
        refuse(node, f"No matching signature for function DATE_DIFF for argument types: {types}")
    else:
        _date_function(node, refuse)


def _cast(node: exp.Cast, refuse: Add) -> None:
    """An ARRAY or STRUCT casts only to an ARRAY or STRUCT; a BOOL only to BOOL, INT64
    or STRING; a literal only to a value of the type (strict_literals)."""
    cast_literal(node, refuse)
    strict_signatures.cast_matrix(node, refuse)
    strict_values.typed_struct_fields(node, refuse)
    source, target = family(node.this), type_family(node.to)
    to_int_or_text = node.to.is_type(*exp.DataType.INTEGER_TYPES, *exp.DataType.TEXT_TYPES)
    wrong = (source in (ARRAY, STRUCT) and target is not None and target != source) or (
        (isinstance(node.this, exp.Boolean) or _is(node.this, T.BOOLEAN))
        and target not in (None, BOOL)
        and not to_int_or_text
    )
    if wrong:
        word = "SAFE_CAST" if isinstance(node, exp.TryCast) else "CAST"
        refuse(node, f"Invalid {word} from {name_of(node.this)} to {node.to.sql('bigquery')}")


def _concat(node: exp.Concat, refuse: Add) -> None:
    for value in node.expressions:
        if family(value) in (ARRAY, STRUCT, JSON):
            types = ", ".join(name_of(v) for v in node.expressions)
            refuse(node, f"No matching signature for function CONCAT for argument types: {types}")
            return


def _timestamp_function(node: exp.Expr, refuse: Add) -> None:
    """TIMESTAMP_ADD/SUB of a TIMESTAMP by a part coarser than a day."""
    part = _part(node.args.get("unit"))
    if part in _COARSE_PARTS and _is(node.this, T.TIMESTAMPTZ):
        name = "TIMESTAMP_ADD" if isinstance(node, exp.TimestampAdd) else "TIMESTAMP_SUB"
        refuse(node, f"{name} does not support the {part} date part")


def _timestamp_diff(node: exp.TimestampDiff, refuse: Add) -> None:
    """TIMESTAMP_DIFF of TIMESTAMPs by a part coarser than a day."""
    part = _part(node.args.get("unit"))
    if part in _COARSE_PARTS and _is(node.this, T.TIMESTAMPTZ):
        refuse(node, f"TIMESTAMP_DIFF does not support the {part} date part")


def nested_array(node: exp.Array, refuse: Add) -> None:
    """An array of arrays (``[[1, 2]]``): BigQuery has no such type."""
    if any(isinstance(v, exp.Array) for v in node.expressions):
        refuse(node, "Cannot construct array with element type ARRAY (arrays of arrays)")


def _is(node: exp.Expr | None, kind: T) -> bool:
    """``node`` is a column, a cast or a typed literal of type ``kind``: a value whose
    type sqlglot cannot have mistaken (a function's result may be typed loosely)."""
    while isinstance(node, exp.Paren):
        node = node.this
    if not isinstance(node, exp.Column | exp.Cast | exp.Parameter):
        return False
    return node.type is not None and node.type.this == kind


def _certain(node: exp.Expr | None) -> exp.Expr | None:
    """``node`` (parentheses off) if its type cannot be mistaken: a column, a cast, a
    literal, a comparison, an array or struct constructor; else None."""
    while isinstance(node, exp.Paren):
        node = node.this
    sure = (exp.Column, exp.Cast, exp.Literal, exp.Boolean, exp.Predicate, exp.Array, exp.Struct)
    return node if isinstance(node, sure) else None


def _text_arguments(node: exp.Expr, refuse: Add) -> None:
    name, keys = _TEXT_ARGUMENTS[type(node)]
    if isinstance(node, exp.Pad):
        name = "LPAD" if node.args.get("is_left") else "RPAD"
    for key in keys:
        value = _certain(node.args.get(key))
        if value is not None and family(value) in _NOT_TEXT:
            refuse(node, one_signature(f"function {name}", value))
            return


def _sum_avg(node: exp.Expr, refuse: Add) -> None:
    value = _certain(_first_argument(node.this))
    if value is not None and family(value) in _NOT_SUMMABLE:
        name = "SUM" if isinstance(node, exp.Sum) else "AVG"
        refuse(node, one_signature(f"aggregate function {name}", value))


def _arithmetic(node: exp.Binary, refuse: Add) -> None:
    """``1 + NULL``, ``TRUE + 1``, ``'ab' * 2``: no arithmetic signature matches."""
    symbol = _ARITHMETIC[type(node)]
    operands = (node.this, node.expression)
    if symbol in "+-" and strict_calls.number_plus_interval(node, refuse):
        return
    for operand in operands:
        if isinstance(_certain(operand) or operand, exp.Null):
            refuse(operand, f"Operands of {symbol} cannot be literal NULL")
            return
    for operand in operands:
        value = _certain(operand)
        fam = family(value) if value is not None else None
        # a STRING literal may become a DATE/TIMESTAMP in + and - (date arithmetic)
        text = fam == STRING and not (symbol in "+-" and _civil_text(value))
        if fam in _NOT_ARITHMETIC or text:
            types = ", ".join(name_of(o) for o in operands)
            refuse(node, f"No matching signature for operator {symbol} for argument types: {types}")
            return


def _civil_text(node: exp.Expr) -> bool:
    """A STRING literal that may read as a date (``'2020-01-01'``), or a parameter."""
    if isinstance(node, exp.Literal):
        return bool(_DATE_TEXT.match(node.this))
    return coercible_text(node)


def _subscript(node: exp.Bracket, refuse: Add) -> None:
    """``'abc'[1]``: only arrays, JSON and STRUCTs take a subscript; an array's position is
    an INT64."""
    outer = node
    while isinstance(outer.parent, exp.Bracket):
        outer = outer.parent
    if isinstance(outer.parent, exp.ParseJSON) and outer.parent.args.get("is_literal"):
        return  # JSON '{...}'['a']: sqlglot reads the subscript as the text's, not the JSON's
    value = _certain(node.this)
    fam = family(value) if value is not None else None
    if fam in (NUM, STRING, BYTES, BOOL, CIVIL, TIME):
        refuse(node, f"Subscript access is not supported on values of type {name_of(value)}")
    elif fam == ARRAY and len(node.expressions) == 1:
        position = _certain(node.expressions[0])
        if position is not None and family(position) not in (None, NUM):
            refuse(
                node,
                "Array position in [] must be coercible to INT64 type, but has type "
                f"{name_of(position)}",
            )


def _negation(node: exp.Neg, refuse: Add) -> None:
    value = _certain(node.this) or node.this
    if isinstance(value, exp.Null):
        refuse(value, "Operands of - cannot be literal NULL")
    elif family(_certain(node.this)) in (*_NOT_ARITHMETIC, STRING):
        refuse(node, one_signature("operator -", node.this))


def _array_argument(node: exp.Expr, refuse: Add) -> None:
    """UNNEST and ARRAY_LENGTH read arrays only."""
    values = node.expressions if isinstance(node, exp.Unnest) else [node.this]
    for value in values:
        sure = _certain(value)
        fam = family(sure) if sure is not None else None
        if fam is not None and fam != ARRAY:
            if isinstance(node, exp.Unnest):
                refuse(
                    node,
                    f"Values referenced in UNNEST must be arrays. UNNEST contains expression of type {name_of(value)}",
                )
            else:
                refuse(node, one_signature("function ARRAY_LENGTH", value))
            return


FUNCTION_RULES: dict[type, Callable[[exp.Expr, Add], None]] = {
    **dict.fromkeys(_NAMES, _text_function),
    exp.ArrayToString: _array_to_string,
    exp.Mod: _mod,
    exp.ArrayAgg: _array_agg,
    exp.Extract: _extract,
    exp.DateAdd: _date_function,
    exp.DateSub: _date_function,
    exp.DateDiff: _date_diff,
    exp.DateTrunc: _date_function,
    exp.TimestampAdd: _timestamp_function,
    exp.TimestampSub: _timestamp_function,
    exp.TimestampDiff: _timestamp_diff,
    exp.Cast: _cast,
    exp.Is: strict_values.bool_test,
    exp.Concat: _concat,
    **dict.fromkeys(_TEXT_ARGUMENTS, _text_arguments),
    exp.Sum: _sum_avg,
    exp.Avg: _sum_avg,
    **dict.fromkeys(_ARITHMETIC, _arithmetic),
    exp.Neg: _negation,
    exp.Unnest: _array_argument,
    exp.ArraySize: _array_argument,
    exp.Bracket: _subscript,
    exp.Count: strict_calls.count_distinct_star,
    **dict.fromkeys(strict_calls.BIT_NAMES, strict_calls.bit_aggregate),
    exp.Date: strict_calls.date_of_number,
    exp.GenerateTimestampArray: strict_calls.timestamp_array_step,
    exp.Anonymous: strict_calls.array_is_distinct,
    **strict_signatures.SIGNATURE_RULES,
}
