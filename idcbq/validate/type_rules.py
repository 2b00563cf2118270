"""GoogleSQL's conversion rules, as far as the strict layer's type check needs them.

Types are read from ``node.type`` (sqlglot's annotation) and folded into families: the
numeric types coerce to one another (INT64 -> NUMERIC -> BIGNUMERIC -> FLOAT64), a
STRING literal or parameter coerces to the civil types (DATE, DATETIME, TIMESTAMP,
TIME), and nothing else coerces across families. A type the rules do not model
(INTERVAL, RANGE, a NULL, UNKNOWN) has no family: it never makes a refusal.

Example:
    >>> from sqlglot import exp
    >>> one, text = exp.Literal.number(1), exp.Literal.string("1")
    >>> one.type, text.type = exp.DataType.build("BIGINT"), exp.DataType.build("VARCHAR")
    >>> comparable(one, text, ordering=False)
    'mismatch'
    >>> day = exp.column("d")
    >>> day.type = exp.DataType.build("DATE")
    >>> comparable(day, text, ordering=True) is None  # the literal coerces to DATE
    True
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlglot import exp

from idcbq.validate.civil_text import civil_text_ok

T = exp.DataType.Type
#: A rule's way to refuse: the node to point at and the message.
Add = Callable[[exp.Expr, str], None]

NUM, STRING, BYTES, BOOL, CIVIL, TIME = "NUM", "STRING", "BYTES", "BOOL", "CIVIL", "TIME"
ARRAY, STRUCT, JSON, GEOGRAPHY = "ARRAY", "STRUCT", "JSON", "GEOGRAPHY"
_FAMILIES = {
    **dict.fromkeys(exp.DataType.INTEGER_TYPES, NUM),
    **dict.fromkeys((T.DECIMAL, T.BIGDECIMAL, T.DOUBLE, T.FLOAT), NUM),
    **dict.fromkeys(exp.DataType.TEXT_TYPES, STRING),
    **dict.fromkeys((T.BINARY, T.VARBINARY), BYTES),
    T.BOOLEAN: BOOL,
    **dict.fromkeys((T.DATE, T.DATETIME, T.TIMESTAMP, T.TIMESTAMPTZ, T.TIMESTAMPLTZ), CIVIL),
    T.TIME: TIME,
    T.ARRAY: ARRAY,
    T.STRUCT: STRUCT,
    T.JSON: JSON,
    T.GEOGRAPHY: GEOGRAPHY,
}
#: Families a value of which no comparison accepts.
_NOT_COMPARABLE = (ARRAY, JSON, GEOGRAPHY)
#: BigQuery groups (and DISTINCTs) arrays; GoogleSQL's probes agree (blind.yaml).
_NOT_GROUPABLE = (JSON, GEOGRAPHY)
_NOT_ORDERABLE = (ARRAY, STRUCT, JSON, GEOGRAPHY)


#: Nodes whose type is the supertype of their branches (computed here, not sqlglot's).
_BRANCHING = (exp.If, exp.Case, exp.Coalesce, exp.Nullif, exp.Greatest, exp.Least)
_ARITHMETIC = (exp.Add, exp.Sub, exp.Mul, exp.Div, exp.IntDiv)


def family(node: exp.Expr | None) -> str | None:
    """The conversion family of ``node``'s known type, or None when it is not known.

    sqlglot's type is distrusted where it may name the wrong family: EXTRACT of a
    DATE/TIME/DATETIME part (typed INT64), arithmetic on other than numbers (civil and
    interval arithmetic), and branching expressions (their family is recomputed from
    the branches; a STRING literal branch may have become a DATE in GoogleSQL).
    """
    while isinstance(node, exp.Paren):
        node = node.this
    if node is None or isinstance(node, exp.Null):
        return None
    if isinstance(node, exp.Extract):
        part = node.this.name.upper() if isinstance(node.this, exp.Var | exp.Column) else ""
        if not part or part in ("DATE", "TIME", "DATETIME"):
            return None
    if isinstance(node, _ARITHMETIC) and any(
        family(o) != NUM for o in (node.this, node.expression)
    ):
        return None
    if isinstance(node, _BRANCHING):
        return _branches_family(node)
    return type_family(node.type)


def _branches_family(node: exp.Expr) -> str | None:
    if isinstance(node, exp.Case):
        values = [i.args.get("true") for i in node.args.get("ifs") or ()]
        values.append(node.args.get("default"))
    elif isinstance(node, exp.If):
        values = [node.args.get("true"), node.args.get("false")]
    elif isinstance(node, exp.Nullif):
        values = [node.this]
    else:
        values = [node.this, *node.expressions]
    present = [v for v in values if v is not None and not isinstance(v, exp.Null)]
    if not present or any(coercible_text(v) for v in present):
        return None
    kinds = {family(v) for v in present}
    return kinds.pop() if len(kinds) == 1 else None


def type_family(kind: exp.DataType | None) -> str | None:
    """The conversion family of a type (None: not modelled here, or unknown)."""
    return None if kind is None else _FAMILIES.get(kind.this)


def is_float(node: exp.Expr) -> bool:
    """True if ``node`` is typed FLOAT64."""
    return node.type is not None and node.type.this in (T.DOUBLE, T.FLOAT)


def name_of(node: exp.Expr | None) -> str:
    """``node``'s type as GoogleSQL spells it (``INT64``, ``ARRAY<STRING>``)."""
    if node is None or node.type is None:
        return "NULL"
    return node.type.sql("bigquery")


def coercible_text(node: exp.Expr) -> bool:
    """A STRING literal or parameter: it coerces to DATE/DATETIME/TIMESTAMP/TIME."""
    while isinstance(node, exp.Paren):
        node = node.this
    if isinstance(node, exp.Literal):
        return node.is_string
    return isinstance(node, exp.Parameter | exp.Placeholder) and family(node) == STRING


def comparable(a: exp.Expr, b: exp.Expr, *, ordering: bool) -> str | None:
    """None if ``a`` and ``b`` may be compared (or a type is unknown); else ``"mismatch"``
    or a sentence on the type that cannot be compared at all."""
    fa, fb = family(a), family(b)
    for fam, node in ((fa, a), (fb, b)):
        if fam in _NOT_COMPARABLE or (ordering and fam == STRUCT):
            word = "Ordering" if ordering else "Equality"
            return f"{word} is not defined for arguments of type {name_of(node)}"
    if fa == fb == CIVIL and _timestamp_mix(a, b):
        return "mismatch"
    if {fa, fb} == {STRING, BYTES}:  # sqlglot types a BYTES function's result STRING
        return "mismatch" if certain_text(a) and certain_text(b) else None
    if fa is None or fb is None or fa == fb:
        return None
    if _civil_text(fa, a, fb, b):
        for text, other in ((a, b), (b, a)):
            if not _may_be_civil(text) or _invalid_civil(text, other):
                return f'Could not cast literal "{text.name}" to type {name_of(other)}'
        return None
    return "mismatch"


def certain_text(node: exp.Expr) -> bool:
    """A STRING or BYTES value whose type sqlglot cannot have confused: a literal, a
    column, a CAST (a function's BYTES result may be typed STRING)."""
    while isinstance(node, exp.Paren):
        node = node.this
    if isinstance(node, exp.Literal):
        return node.is_string
    return isinstance(node, exp.ByteString | exp.Column | exp.Cast) and node.type is not None


def bytes_clash(values: Sequence[exp.Expr]) -> bool:
    """Certainly STRING and certainly BYTES values among ``values`` (no supertype)."""
    kinds = {family(v) for v in values if certain_text(v)}
    return {STRING, BYTES} <= kinds


def _may_be_civil(node: exp.Expr) -> bool:
    """False for a STRING literal that cannot be a date, time or timestamp (it has no
    digit: ``'x'``); GoogleSQL refuses to coerce it ("Could not cast literal")."""
    while isinstance(node, exp.Paren):
        node = node.this
    if isinstance(node, exp.Literal) and node.is_string:
        return any(c.isdigit() for c in node.name)
    return True


def _invalid_civil(text: exp.Expr, other: exp.Expr) -> bool:
    """A STRING literal of the civil format whose fields are out of range
    (``'2020-13-45'``) beside a DATE, DATETIME or TIMESTAMP value: GoogleSQL coerces the
    literal when it analyzes the query, and refuses it there."""
    while isinstance(text, exp.Paren):
        text = text.this
    kind = other.type
    if not (isinstance(text, exp.Literal) and text.is_string) or kind is None:
        return False
    for target in (T.DATE, T.DATETIME, T.TIMESTAMP, T.TIMESTAMPTZ):
        if kind.is_type(target):
            return not civil_text_ok(text.name, target)
    return False  # TIME, or a type not known here


def _timestamp_mix(a: exp.Expr, b: exp.Expr) -> bool:
    """A TIMESTAMP against a DATE or DATETIME (GoogleSQL converts neither way), for
    columns and casts only (a function's civil type may be loosely typed)."""
    kinds = set()
    for node in (a, b):
        while isinstance(node, exp.Paren):
            node = node.this
        if not isinstance(node, exp.Column | exp.Cast) or node.type is None:
            return False
        kinds.add(node.type.this)
    return T.TIMESTAMPTZ in kinds and bool(kinds & {T.DATE, T.DATETIME, T.TIMESTAMP})


def _civil_text(fa: str, a: exp.Expr, fb: str, b: exp.Expr) -> bool:
    civil = (CIVIL, TIME)
    return (fa in civil and fb == STRING and coercible_text(b)) or (
        fb in civil and fa == STRING and coercible_text(a)
    )


def supertype_of(values: Sequence[exp.Expr]) -> bool | None:
    """False if ``values`` certainly have no common supertype; None otherwise."""
    if bytes_clash(values):
        return False
    kinds = {family(v) for v in values if not coercible_text(v)} - {None}
    if kinds & {CIVIL, TIME} and not all(_may_be_civil(v) for v in values):
        return False  # IFNULL(date, 'x'): 'x' is no DATE
    civil = [v for v in values if family(v) == CIVIL]
    if any(_invalid_civil(v, c) for v in values for c in civil):
        return False  # COALESCE(date, '2020-13-01'): no DATE either
    if BYTES in kinds:  # STRING and BYTES are not told apart (see comparable)
        kinds = (kinds - {BYTES}) | {STRING}
    texts = any(coercible_text(v) for v in values)
    if len(kinds) > 1:
        return False
    if texts and kinds and not kinds & {STRING, CIVIL, TIME}:
        return False
    return None


def orderable_problem(node: exp.Expr, purpose: str) -> str | None:
    """Why ``node`` cannot be a key of ``purpose`` (``ordering``, ``grouping``,
    ``partitioning``): ``"expressions of type ARRAY<INT64>"``; None if it can."""
    fam = family(node)
    banned = _NOT_ORDERABLE if purpose == "ordering" else _NOT_GROUPABLE
    if fam in banned or (purpose == "partitioning" and is_float(node)):
        return f"expressions of type {name_of(node)}"
    return None


def signature(what: str, a: exp.Expr, b: exp.Expr, problem: str | None) -> str:
    """GoogleSQL's wording for a call no signature matches."""
    if problem and problem != "mismatch":
        return problem
    return f"No matching signature for {what} for argument types: {name_of(a)}, {name_of(b)}"


def one_signature(what: str, value: exp.Expr) -> str:
    """GoogleSQL's wording for a one-argument call no signature matches."""
    return f"No matching signature for {what} for argument types: {name_of(value)}"
