"""Rewrites for BigQuery semantics DuckDB does not share (found by the GoogleSQL probes).

Each function takes and returns a BigQuery-dialect tree (before DuckDB generation).
Those marked *typed* read ``node.type`` set by ``idcbq.transpile.types.annotate`` and do
nothing where the type is unknown. Every one has probes in ``tests/probes/`` that run on
DuckDB and on GoogleSQL's reference implementation:

- ``output_names``: a field path is named after its last field, other unnamed
  expressions ``f0_``, ``f1_``, ... (DuckDB names them after their SQL text).
- ``float_to_string`` (typed): ``CAST(FLOAT64 AS STRING)`` is the shortest of 15 or 17
  significant digits that reads back exactly (``512`` not ``512.0``).
- ``string_casts`` (typed): ``CAST``/``SAFE_CAST`` of a STRING to BOOL accepts only
  ``true``/``false`` (any case); to FLOAT64 only decimal, exponent, ``inf``/``nan`` and
  ``0x`` hex text.
- ``date_results`` (typed): ``DATE_TRUNC``/``DATE_ADD``/``DATE_SUB`` of a DATE are DATEs.
- ``extract_parts``: ``DAYOFWEEK`` is 1 (Sunday) to 7; ``ISOWEEK``/``ISOYEAR``/``WEEK``.
- ``like_escape``: a backslash escapes ``%``, ``_`` and itself in a LIKE pattern.
- ``substr_positions``: position 0 is 1, a negative position before the start is 1,
  a negative length is an error.
- ``division_by_zero``: ``/``, ``DIV`` and ``MOD`` by zero raise, as in BigQuery.
- ``byte_length``: ``BYTE_LENGTH`` of a STRING counts UTF-8 bytes.
- ``string_agg_limit``: ``STRING_AGG(... ORDER BY ... LIMIT n)`` (DuckDB cannot parse it).
- ``regexp_groups``: a literal pattern with more than one capturing group is an error.
- ``ieee_divide``: ``IEEE_DIVIDE`` is float division giving inf/NaN.
- ``format_t`` (typed): ``FORMAT('%t', x)`` for STRING, INT64 and BOOL arguments.
"""

from __future__ import annotations

import re

from sqlglot import exp

from idcbq.errors import TranspileError

T = exp.DataType.Type


def _typed(node: exp.Expr, *types: T) -> bool:
    kind = node.type
    return kind is not None and kind.is_type(*types)


def _error(message: exp.Expr | str) -> exp.Expr:
    text = exp.Literal.string(message) if isinstance(message, str) else message
    return exp.Anonymous(this="error", expressions=[text])


def _int_value(node: exp.Expr) -> int | None:
    if isinstance(node, exp.Literal) and not node.is_string and re.fullmatch(r"\d+", node.this):
        return int(node.this)
    if isinstance(node, exp.Neg):
        inner = _int_value(node.this)
        return None if inner is None else -inner
    return None


# -- names ---------------------------------------------------------------------------


def output_names(tree: exp.Expr) -> exp.Expr:
    """Alias unnamed select-list expressions the way BigQuery names them."""
    for select in list(tree.find_all(exp.Select)):
        anonymous = 0
        for i, item in enumerate(list(select.expressions)):
            if isinstance(item, exp.Alias | exp.Star) or (
                isinstance(item, exp.Column) and isinstance(item.this, exp.Star)
            ):
                continue
            inner = item.this if isinstance(item, exp.Paren) else item
            if isinstance(inner, exp.Column | exp.Dot) and inner.name:
                name, quoted = inner.name, True  # as written (DuckDB: the schema's spelling)
            else:
                name, quoted = f"f{anonymous}_", False
                anonymous += 1
            select.expressions[i] = exp.alias_(item, name, quoted=quoted, copy=False)
            select.expressions[i].parent = select
        select.set("expressions", select.expressions)
    return tree


def unnest_alias_shadowing(tree: exp.Expr) -> exp.Expr:
    """``FROM t, UNNEST(col) AS col``: in BigQuery the UNNEST alias wins over the column.

    DuckDB calls ``col`` ambiguous. Rename the alias (and the references to it in that
    SELECT, outside the UNNEST's own argument) and keep the output column's name.
    """
    for unnest in list(tree.find_all(exp.Unnest)):
        alias = unnest.args.get("alias")
        if not alias or len(alias.columns) != 1 or len(unnest.expressions) != 1:
            continue
        arg = unnest.expressions[0]
        name = alias.columns[0].name
        if not isinstance(arg, exp.Column) or arg.name.lower() != name.lower():
            continue
        select = unnest.find_ancestor(exp.Select)
        if select is None:
            continue
        new = f"_idcbq_{name}"
        alias.set("columns", [exp.to_identifier(new)])
        for i, item in enumerate(list(select.expressions)):
            if (
                isinstance(item, exp.Column)
                and not item.table
                and item.name.lower() == name.lower()
            ):
                select.expressions[i] = exp.alias_(item, item.name, quoted=True)
                select.expressions[i].parent = select
        select.set("expressions", select.expressions)
        for column in list(select.find_all(exp.Column)):
            if column is arg or column.find_ancestor(exp.Unnest) is unnest:
                continue
            if not column.table and column.name.lower() == name.lower():
                column.set("this", exp.to_identifier(new))
            elif column.table.lower() == name.lower() and not column.args.get("db"):
                column.set("table", exp.to_identifier(new))
    return tree


# -- casts ---------------------------------------------------------------------------


def float_to_string(tree: exp.Expr) -> exp.Expr:
    """``CAST(x AS STRING)`` of a FLOAT64: 15 significant digits if exact, else 17."""
    for cast in list(tree.find_all(exp.Cast)):
        if not cast.to.is_type(*exp.DataType.TEXT_TYPES) or not _typed(cast.this, T.DOUBLE):
            continue
        value = cast.this

        def printf(digits: int, value: exp.Expr = value) -> exp.Expr:
            return exp.Anonymous(
                this="printf", expressions=[exp.Literal.string(f"%.{digits}g"), value.copy()]
            )

        exact = exp.EQ(this=exp.cast(printf(15), "DOUBLE"), expression=value.copy())
        cast.replace(exp.Case(ifs=[exp.If(this=exact, true=printf(15))], default=printf(17)))
    return tree


_BOOL_TEXT = {"true": True, "false": False}
#: What BigQuery reads as FLOAT64 (besides 0x hex integers), case-insensitively.
_FLOAT_TEXT = r"^\s*[+-]?((\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|inf|infinity|nan)\s*$"
_HEX_TEXT = r"^\s*[+-]?0[xX][0-9a-fA-F]+\s*$"


def string_casts(tree: exp.Expr) -> exp.Expr:
    """STRING -> BOOL / FLOAT64 casts that accept exactly what BigQuery accepts."""
    for cast in list(tree.find_all(exp.Cast)):
        value = cast.this
        literal = isinstance(value, exp.Literal)
        if not (value.is_string if literal else _typed(value, *exp.DataType.TEXT_TYPES)):
            continue
        safe = isinstance(cast, exp.TryCast) or bool(cast.args.get("safe"))
        if cast.to.is_type(T.BOOLEAN):
            lowered = exp.Lower(this=value.copy())
            ifs = [
                exp.If(
                    this=exp.EQ(this=lowered.copy(), expression=exp.Literal.string(t)),
                    true=exp.Boolean(this=v),
                )
                for t, v in _BOOL_TEXT.items()
            ]
            ifs.insert(
                0, exp.If(this=exp.Is(this=value.copy(), expression=exp.null()), true=exp.null())
            )
            default = (
                None
                if safe
                else _error(
                    exp.DPipe(this=exp.Literal.string("Bad bool value: "), expression=value.copy())
                )
            )
            cast.replace(exp.Case(ifs=ifs, default=default))
        elif cast.to.is_type(T.DOUBLE, T.FLOAT):
            hex_ = exp.RegexpLike(this=value.copy(), expression=exp.Literal.string(_HEX_TEXT))
            dec = exp.RegexpLike(
                this=exp.Lower(this=value.copy()), expression=exp.Literal.string(_FLOAT_TEXT)
            )
            as_int = exp.cast(exp.cast(value.copy(), "BIGINT"), "DOUBLE")
            plain = exp.cast(value.copy(), "DOUBLE")
            default = (
                None
                if safe
                else _error(
                    exp.DPipe(
                        this=exp.Literal.string("Bad double value: "), expression=value.copy()
                    )
                )
            )
            cast.replace(
                exp.Case(
                    ifs=[exp.If(this=dec, true=plain), exp.If(this=hex_, true=as_int)],
                    default=default,
                )
            )
    return tree


# -- dates ---------------------------------------------------------------------------


def date_results(tree: exp.Expr) -> exp.Expr:
    """A DATE truncated, or plus/minus an interval, stays a DATE (DuckDB gives TIMESTAMP)."""
    for node in list(tree.find_all(exp.DateTrunc, exp.DateAdd, exp.DateSub)):
        if _typed(node.this, T.DATE):
            marker = exp.Literal.string("_idcbq_date")
            node.replace(marker)
            marker.replace(exp.cast(node, "DATE"))
    return tree


def extract_from_timestamp(tree: exp.Expr) -> exp.Expr:
    """``EXTRACT(part FROM timestamp)``: the UTC wall clock (the DuckDB session is UTC)."""
    for node in list(tree.find_all(exp.Extract)):
        arg = node.expression
        if _typed(arg, T.TIMESTAMPTZ, T.TIMESTAMPLTZ):
            node.set("expression", exp.cast(arg.copy(), "TIMESTAMP"))
    return tree


def extract_parts(tree: exp.Expr) -> exp.Expr:
    """EXTRACT parts whose numbering or name differs in DuckDB."""
    for node in list(tree.find_all(exp.Extract)):
        part = node.this.name.upper() if isinstance(node.this, exp.Var) else ""
        arg = node.expression.copy()
        if part in ("DATE", "TIME", "DATETIME"):  # the session is UTC (engine connection)
            node.replace(exp.cast(arg, "TIMESTAMP" if part == "DATETIME" else part))
        elif part == "DAYOFWEEK":
            node.replace(
                exp.paren(
                    exp.Add(
                        this=exp.Anonymous(this="dayofweek", expressions=[arg]),
                        expression=exp.Literal.number(1),
                    )
                )
            )
        elif part == "ISOWEEK":
            node.replace(exp.Anonymous(this="week", expressions=[arg]))
        elif part == "ISOYEAR":
            node.replace(exp.Anonymous(this="isoyear", expressions=[arg]))
        elif part == "WEEK":  # weeks start on Sunday; days before the first Sunday are week 0
            days = exp.Add(
                this=exp.Anonymous(this="dayofyear", expressions=[arg.copy()]),
                expression=exp.Literal.number(6),
            )
            days = exp.Sub(this=days, expression=exp.Anonymous(this="dayofweek", expressions=[arg]))
            node.replace(exp.IntDiv(this=exp.paren(days), expression=exp.Literal.number(7)))
    return tree


# -- strings -------------------------------------------------------------------------


def like_escape(tree: exp.Expr) -> exp.Expr:
    """``x LIKE p`` -> ``x LIKE p ESCAPE '\\'`` (BigQuery's backslash escapes)."""
    for like in list(tree.find_all(exp.Like)):
        if isinstance(like.parent, exp.Escape):
            continue
        pattern = like.expression
        if isinstance(pattern, exp.Literal) and pattern.is_string and "\\" not in pattern.this:
            continue
        marker = exp.Literal.string("_idcbq_like")
        like.replace(marker)
        marker.replace(exp.Escape(this=like, expression=exp.Literal.string("\\")))
    return tree


def substr_positions(tree: exp.Expr) -> exp.Expr:
    """``SUBSTR(s, p[, n])`` with BigQuery's rules for p <= 0 and n < 0."""
    for node in list(tree.find_all(exp.Substring)):
        start = node.args.get("start")
        length = node.args.get("length")
        value = node.this
        p = _int_value(start) if start is not None else 1
        if start is not None and (p is None or p <= 0):
            if p == 0:
                new_start: exp.Expr = exp.Literal.number(1)
            else:
                from_end = exp.Add(
                    this=exp.Add(this=exp.Length(this=value.copy()), expression=start.copy()),
                    expression=exp.Literal.number(1),
                )
                clamp = exp.Greatest(this=from_end, expressions=[exp.Literal.number(1)])
                if p is None:
                    new_start = exp.Case(
                        ifs=[
                            exp.If(
                                this=exp.GT(this=start.copy(), expression=exp.Literal.number(0)),
                                true=start.copy(),
                            ),
                            exp.If(
                                this=exp.EQ(this=start.copy(), expression=exp.Literal.number(0)),
                                true=exp.Literal.number(1),
                            ),
                        ],
                        default=clamp,
                    )
                else:
                    new_start = clamp
            node.set("start", new_start)
        if length is not None:
            n = _int_value(length)
            if n is not None and n < 0:
                raise TranspileError(
                    "SUBSTR: third argument cannot be negative (BigQuery rejects it)"
                )
            if n is None:
                negative = exp.LT(this=length.copy(), expression=exp.Literal.number(0))
                node.set(
                    "length",
                    exp.Case(
                        ifs=[
                            exp.If(
                                this=negative,
                                true=_error("Third argument in SUBSTR() cannot be negative"),
                            )
                        ],
                        default=length.copy(),
                    ),
                )
    return tree


def upper_sharp_s(tree: exp.Expr) -> exp.Expr:
    """``UPPER``: BigQuery maps ``ß`` to ``SS`` (full case mapping); DuckDB to ``ẞ``."""
    for node in list(tree.find_all(exp.Upper)):
        if node.meta.get("idcbq_upper"):
            continue
        node.meta["idcbq_upper"] = True
        node.set(
            "this",
            exp.Anonymous(
                this="replace",
                expressions=[node.this.copy(), exp.Literal.string("ß"), exp.Literal.string("SS")],
            ),
        )
    return tree


def byte_length(tree: exp.Expr) -> exp.Expr:
    """``BYTE_LENGTH(string)`` -> ``strlen`` (bytes of the UTF-8 text)."""
    for node in list(tree.find_all(exp.ByteLength)):
        if _typed(node.this, T.VARBINARY, T.BINARY, T.BLOB):
            continue
        node.replace(exp.Anonymous(this="strlen", expressions=[node.this.copy()]))
    return tree


def regexp_groups(tree: exp.Expr) -> exp.Expr:
    """REGEXP_EXTRACT(_ALL) with a literal pattern of 2+ capturing groups: BigQuery errors."""
    for node in list(tree.find_all(exp.RegexpExtract, exp.RegexpExtractAll)):
        pattern = node.expression
        if isinstance(pattern, exp.Literal | exp.RawString):
            groups = len(re.findall(r"(?<!\\)\((?!\?)", pattern.this))
            if groups > 1:
                raise TranspileError(
                    "regular expressions passed into extraction functions must not have more "
                    f"than 1 capturing group: {pattern.this!r}"
                )
    return tree


def format_t(tree: exp.Expr) -> exp.Expr:
    """``FORMAT('%t', x)`` where x is STRING, INT64 or BOOL: its text, ``NULL`` for NULL."""
    for node in list(tree.find_all(exp.Format)):
        fmt = node.this
        if not (isinstance(fmt, exp.Literal) and fmt.is_string) or "%t" not in fmt.this:
            continue
        specs = re.findall(r"%[-+ #0]*\d*(?:\.\d+)?(.)", fmt.this.replace("%%", ""))
        args = list(node.expressions)
        if len(specs) != len(args):
            continue
        for i, (conv, arg) in enumerate(zip(specs, args, strict=True)):
            if conv != "t":
                continue
            if not _typed(arg, *exp.DataType.TEXT_TYPES, *exp.DataType.INTEGER_TYPES, T.BOOLEAN):
                raise TranspileError(
                    "unsupported on DuckDB: FORMAT '%t' of a value that is not STRING, INT64 or BOOL"
                )
            text = exp.Coalesce(
                this=exp.cast(arg.copy(), "TEXT"), expressions=[exp.Literal.string("NULL")]
            )
            args[i] = text
        node.set("expressions", args)
        node.set("this", exp.Literal.string(re.sub(r"%t", "%s", fmt.this)))
    return tree


# -- arithmetic ----------------------------------------------------------------------


def _nonzero(divisor: exp.Expr) -> exp.Expr:
    value = _int_value(divisor)
    if value is not None and value != 0:
        return divisor
    if isinstance(divisor, exp.Literal) and not divisor.is_string:
        try:
            if float(divisor.this) != 0:
                return divisor
        except ValueError:
            pass
    zero = exp.EQ(this=divisor.copy(), expression=exp.Literal.number(0))
    return exp.Case(ifs=[exp.If(this=zero, true=_error("division by zero"))], default=divisor)


def division_by_zero(tree: exp.Expr) -> exp.Expr:
    """``a / 0``, ``DIV(a, 0)``, ``MOD(a, 0)`` raise "division by zero" (DuckDB: inf/NULL)."""
    for node in list(tree.find_all(exp.Div, exp.IntDiv, exp.Mod)):
        if node.meta.get("idcbq_div"):
            continue
        node.meta["idcbq_div"] = True
        node.set("expression", _nonzero(node.expression.copy()))
    return tree


def ieee_divide(tree: exp.Expr) -> exp.Expr:
    """``IEEE_DIVIDE(a, b)`` -> DuckDB double division (inf and NaN, no error)."""
    for node in list(tree.find_all(exp.Anonymous)):
        if str(node.this).upper() == "IEEE_DIVIDE" and len(node.expressions) == 2:
            a, b = (exp.cast(e.copy(), "DOUBLE") for e in node.expressions)
            div = exp.Div(this=a, expression=b)
            div.meta["idcbq_div"] = True
            node.replace(exp.paren(div))
    return tree


# -- aggregates ----------------------------------------------------------------------


def string_agg_limit(tree: exp.Expr) -> exp.Expr:
    """``STRING_AGG(x, sep ORDER BY k LIMIT n)`` -> the first n non-NULL values joined."""
    for agg in list(tree.find_all(exp.GroupConcat)):
        limit = agg.this
        if not isinstance(limit, exp.Limit):
            continue
        n = limit.expression
        if _int_value(n) is None:
            raise TranspileError(f"unsupported on DuckDB: STRING_AGG ... LIMIT {n.sql('bigquery')}")
        ordered = limit.this
        value = ordered.this if isinstance(ordered, exp.Order) else ordered
        if isinstance(value, exp.Distinct):
            value = value.expressions[0]
        listed = exp.Filter(
            this=exp.ArrayAgg(this=ordered.copy()),
            expression=exp.Where(
                this=exp.Not(this=exp.Is(this=value.copy(), expression=exp.null()))
            ),
        )
        sliced = exp.Anonymous(
            this="list_slice", expressions=[listed, exp.Literal.number(1), n.copy()]
        )
        separator = agg.args.get("separator") or exp.Literal.string(",")
        joined = exp.Anonymous(this="array_to_string", expressions=[sliced, separator.copy()])
        empty = exp.EQ(this=exp.ArraySize(this=sliced.copy()), expression=exp.Literal.number(0))
        agg.replace(exp.Case(ifs=[exp.If(this=empty, true=exp.null())], default=joined))
    return tree


def timestamp_to_string(tree: exp.Expr) -> exp.Expr:
    """``CAST(TIMESTAMP AS STRING)``: BigQuery writes the fraction in 3 or 6 digits, ``+00``."""
    for cast in list(tree.find_all(exp.Cast)):
        value = cast.this
        if not cast.to.is_type(*exp.DataType.TEXT_TYPES) or not _typed(
            value, T.TIMESTAMPTZ, T.TIMESTAMPLTZ
        ):
            continue
        whole = exp.Anonymous(
            this="strftime", expressions=[value.copy(), exp.Literal.string("%Y-%m-%d %H:%M:%S")]
        )
        micros = exp.Mod(
            this=exp.Anonymous(this="epoch_us", expressions=[value.copy()]),
            expression=exp.Literal.number(1000000),
        )
        micros.meta["idcbq_div"] = True

        def fraction(fmt: str, divisor: int, micros: exp.Expr = micros) -> exp.Expr:
            part = exp.IntDiv(this=micros.copy(), expression=exp.Literal.number(divisor))
            part.meta["idcbq_div"] = True
            return exp.Anonymous(this="printf", expressions=[exp.Literal.string(fmt), part])

        frac = exp.Case(
            ifs=[
                exp.If(
                    this=exp.EQ(this=micros.copy(), expression=exp.Literal.number(0)),
                    true=exp.Literal.string(""),
                ),
                exp.If(
                    this=exp.EQ(
                        this=exp.Mod(this=micros.copy(), expression=exp.Literal.number(1000)),
                        expression=exp.Literal.number(0),
                    ),
                    true=fraction(".%03d", 1000),
                ),
            ],
            default=fraction(".%06d", 1),
        )
        text = exp.DPipe(
            this=exp.DPipe(this=whole, expression=frac), expression=exp.Literal.string("+00")
        )
        cast.replace(exp.paren(text))
    return tree


def _has_float(kind: exp.DataType | None) -> bool:
    if kind is None:
        return False
    return kind.is_type(T.DOUBLE, T.FLOAT) or any(
        _has_float(sub if isinstance(sub, exp.DataType) else getattr(sub, "kind", None))
        for sub in kind.expressions
    )


def json_of_floats(tree: exp.Expr) -> exp.Expr:
    """``TO_JSON_STRING`` of FLOAT64 values: DuckDB writes ``1.0`` where BigQuery writes ``1``."""
    for node in list(tree.find_all(exp.JSONFormat)):
        if _has_float(node.this.type):
            raise TranspileError(
                "unsupported on DuckDB: TO_JSON_STRING of FLOAT64 values (DuckDB formats "
                "numbers differently)",
                hint="CAST the floats to STRING first, or use --engine bigquery",
            )
    return tree


def sign_of_float(tree: exp.Expr) -> exp.Expr:
    """``SIGN(FLOAT64)`` is a FLOAT64 (DuckDB gives TINYINT)."""
    for node in list(tree.find_all(exp.Sign)):
        if _typed(node.this, T.DOUBLE, T.FLOAT) and not isinstance(node.parent, exp.Cast):
            marker = exp.Literal.string("_idcbq_sign")
            node.replace(marker)
            marker.replace(exp.cast(node, "DOUBLE"))
    return tree


def null_outputs(tree: exp.Expr) -> exp.Expr:
    """An output column that holds a NULL literal gets the type BigQuery gives it.

    DuckDB types ``SELECT NULL`` and ``'a' || NULL`` as INTEGER; BigQuery as INT64 and
    STRING. Cast the scalar outputs of the outermost select lists to their known type.
    """
    for select in _output_selects(tree):
        for i, item in enumerate(select.expressions):
            value = item.this if isinstance(item, exp.Alias) else item
            if not value.find(exp.Null) or value.type is None:
                continue
            kind = value.type
            if isinstance(value, exp.Null):
                kind = exp.DataType.build("BIGINT")  # BigQuery's type for a bare NULL
            elif kind.is_type(T.NULL, T.UNKNOWN, *exp.DataType.NESTED_TYPES):
                continue
            cast = exp.cast(value.copy(), kind.copy())
            if isinstance(item, exp.Alias):
                item.set("this", cast)
            else:
                select.expressions[i] = exp.alias_(cast, item.alias_or_name or f"_c{i}")
    return tree


def _output_selects(tree: exp.Expr) -> list[exp.Select]:
    node = tree
    out = []
    stack = [node]
    while stack:
        node = stack.pop()
        if isinstance(node, exp.SetOperation):
            stack.extend([node.left, node.right])
        elif isinstance(node, exp.Subquery):
            stack.append(node.this)
        elif isinstance(node, exp.Select):
            out.append(node)
    return out


#: Rewrites that need types; ``needs_types`` tells whether annotation is worth it.
TYPED = (
    float_to_string,
    string_casts,
    date_results,
    byte_length,
    format_t,
    sign_of_float,
    extract_from_timestamp,
    timestamp_to_string,
    json_of_floats,
    null_outputs,
)
UNTYPED = (
    unnest_alias_shadowing,
    output_names,
    extract_parts,
    like_escape,
    substr_positions,
    regexp_groups,
    ieee_divide,
    division_by_zero,
    string_agg_limit,
    upper_sharp_s,
)


def needs_types(tree: exp.Expr) -> bool:
    """True if a typed rewrite could apply (a cast, date function, BYTE_LENGTH, FORMAT %t)."""
    for node in tree.find_all(
        exp.Cast,
        exp.DateTrunc,
        exp.DateAdd,
        exp.DateSub,
        exp.ByteLength,
        exp.Format,
        exp.Sign,
        exp.Extract,
        exp.JSONFormat,
    ):
        if isinstance(node, exp.Cast) and not node.to.is_type(
            *exp.DataType.TEXT_TYPES, T.BOOLEAN, T.DOUBLE, T.FLOAT
        ):
            continue
        if isinstance(node, exp.Format) and "%t" not in node.this.sql():
            continue
        return True
    return any(
        item.find(exp.Null) for select in _output_selects(tree) for item in select.expressions
    )
