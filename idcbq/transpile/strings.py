"""Strings and bytes where DuckDB silently differs from GoogleSQL (issue 18 §5).

Probes in ``tests/probes/strings_structs.yaml`` compare with GoogleSQL's reference
implementation. Untyped (``UNTYPED``):

- ``full_case_mapping``: ``UPPER`` maps characters whose capital is several letters
  (``ﬁ`` -> ``FI``, ``ŉ`` -> ``ʼN``); ``LOWER`` maps ``İ`` to ``i̇`` and a final capital
  sigma to ``ς`` (DuckDB maps one character to one); both map the case pairs Unicode 16
  added (DuckDB's tables lack them).
- ``regexp_extract_all_end``: ``REGEXP_EXTRACT_ALL`` reports no empty match at the end
  of a non-empty string (DuckDB does).
- ``code_points_to_string``: ``CODE_POINTS_TO_STRING`` of an INT64 array.
- ``tuple_in``: ``(a, b) IN ((x, y), ...)`` compares field by field, so a NULL field
  gives NULL, not FALSE (DuckDB compares whole structs).
- ``unicode_empty``: ``UNICODE('')`` is 0 (DuckDB: -1).
- ``split_null_delimiter``: ``SPLIT(s, NULL)`` is NULL (DuckDB: ``[s]``).
- ``reverse_code_points``: ``REVERSE`` reverses code points, not grapheme clusters.
- ``trim_white_space``: one-argument ``TRIM``/``LTRIM``/``RTRIM`` remove Unicode white
  space, not only spaces.

Typed (``TYPED``):

- ``to_code_points``: ``TO_CODE_POINTS`` of a STRING.
- ``string_agg_bytes``: ``STRING_AGG`` of BYTES (DuckDB's joins only text): the values
  and the separator are joined as hex and the result turned back into bytes.
- ``bytes_text_casts``: ``CAST(bytes AS STRING)`` decodes UTF-8 (DuckDB writes ``\\xE2``
  escapes), ``SAFE_CAST`` gives NULL for invalid UTF-8; ``CAST(string AS BYTES)``
  encodes it (DuckDB refuses non-ASCII).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache

from sqlglot import exp

from idcbq.errors import TranspileError
from idcbq.transpile.case_mapping import LOWER_16, UPPER_16
from idcbq.transpile.numeric import duck_fragment
from idcbq.transpile.rewrites import detach
from idcbq.transpile.rules import handles, run_rules
from idcbq.transpile.semantics import T
from idcbq.transpile.semantics import is_typed as _typed

#: Unicode's special casings (several letters for one) all lie in the Basic Multilingual
#: Plane; scanning only it is 17x faster. tests/test_transpile_strings_fast.py checks
#: that the full range adds none for this Python's Unicode version.
_SPECIAL_CASING_END = 0xFFFF


@cache
def _multi_upper(last: int = _SPECIAL_CASING_END) -> tuple[tuple[str, str], ...]:
    """Characters whose full uppercase is more than one character (besides ``ß``)."""
    out = []
    for code in range(last + 1):
        if 0xD800 <= code <= 0xDFFF:
            continue
        char = chr(code)
        upper = char.upper()
        if len(upper) > 1 and char != "ß":
            out.append((char, upper))
    return tuple(out)


def _replace_all(value: exp.Expr, pairs: tuple[tuple[str, str], ...]) -> exp.Expr:
    for old, new in pairs:
        value = exp.Anonymous(
            this="replace",
            expressions=[value, exp.Literal.string(old), exp.Literal.string(new)],
        )
    return value


def _translated(node: exp.Expr, old: str, new: str) -> exp.Expr:
    """``node``'s argument with the Unicode 16 case pairs DuckDB lacks mapped first."""
    value = exp.Anonymous(
        this="translate",
        expressions=[node.this.copy(), exp.Literal.string(old), exp.Literal.string(new)],
    )
    node.set("this", value)
    return node.this


@handles(exp.Upper, exp.Lower)
def full_case_mapping(tree: exp.Expr) -> exp.Expr:
    """Full Unicode case mapping for UPPER and LOWER (only where such characters occur)."""
    uppers = list(tree.find_all(exp.Upper))
    pairs = _multi_upper() if uppers else ()  # the table is built on first need
    chars = "".join(c for c, _ in pairs)
    for node in uppers:
        if node.meta.get("idcbq_full_case"):
            continue
        value = _translated(node, LOWER_16, UPPER_16)
        special = exp.RegexpLike(this=value.copy(), expression=exp.Literal.string(f"[{chars}]"))
        mapped = exp.Upper(this=_replace_all(value.copy(), pairs))
        mapped.meta["idcbq_full_case"] = True
        node.meta["idcbq_full_case"] = True
        hole = detach(node)
        hole.replace(exp.Case(ifs=[exp.If(this=special, true=mapped)], default=node))
    for node in list(tree.find_all(exp.Lower)):
        if node.meta.get("idcbq_full_case"):
            continue
        node.meta["idcbq_full_case"] = True
        value = _translated(node, UPPER_16, LOWER_16)
        dotted = exp.Anonymous(
            this="replace",
            expressions=[value.copy(), exp.Literal.string("İ"), exp.Literal.string("i̇")],
        )
        lowered = exp.Lower(this=dotted)
        lowered.meta["idcbq_full_case"] = True
        # a capital sigma after a letter and not before one is final: ς
        final = duck_fragment(
            r"regexp_replace(_l, '(\pL)σ(\PL|$)', '\1ς\2', 'g')",
            _l=lowered,
        )
        special = exp.RegexpLike(this=value.copy(), expression=exp.Literal.string("[İΣ]"))
        hole = detach(node)
        hole.replace(exp.Case(ifs=[exp.If(this=special, true=final)], default=node))
    return tree


@handles(exp.RegexpExtractAll)
def regexp_extract_all_end(tree: exp.Expr) -> exp.Expr:
    """Drop DuckDB's extra empty match at the end of a non-empty string."""
    for node in list(tree.find_all(exp.RegexpExtractAll)):
        if node.meta.get("idcbq_end"):
            continue
        node.meta["idcbq_end"] = True
        pattern = node.expression
        if isinstance(pattern, exp.RawString):
            pattern = exp.Literal.string(pattern.this)
        text = node.this
        matches_empty = exp.Anonymous(
            this="regexp_full_match", expressions=[exp.Literal.string(""), pattern.copy()]
        )
        trimmed = duck_fragment("list_slice(_r, 1, len(_r) - 1)", _r=node.copy())
        nonempty = exp.GT(this=exp.Length(this=text.copy()), expression=exp.Literal.number(0))
        hole = detach(node)
        hole.replace(
            exp.Case(
                ifs=[exp.If(this=exp.and_(nonempty, matches_empty), true=trimmed)],
                default=node,
            )
        )
    return tree


@handles(exp.In)
def tuple_in(tree: exp.Expr) -> exp.Expr:
    """``(a, b) IN ((x, y), ...)``: ``(a = x AND b = y) OR ...`` (three-valued)."""
    for node in list(tree.find_all(exp.In)):
        if isinstance(node.parent, exp.Pivot):
            continue  # PIVOT/UNPIVOT's FOR x IN (...): no comparison
        left = node.this
        rows = node.expressions
        if not isinstance(left, exp.Tuple) or not rows:
            continue
        if not all(
            isinstance(r, exp.Tuple) and len(r.expressions) == len(left.expressions) for r in rows
        ):
            continue
        alternatives = [
            exp.paren(
                exp.and_(
                    *(
                        exp.EQ(this=a.copy(), expression=b.copy())
                        for a, b in zip(left.expressions, row.expressions, strict=True)
                    )
                )
            )
            for row in rows
        ]
        node.replace(exp.paren(exp.or_(*alternatives)))
    return tree


@handles(exp.Cast)
def bytes_text_casts(tree: exp.Expr) -> exp.Expr:
    """BYTES <-> STRING casts through UTF-8 (``decode``/``encode``)."""
    binary = (T.VARBINARY, T.BINARY, T.BLOB)
    for cast in reversed(list(tree.find_all(exp.Cast))):  # inner casts first: copied below
        value = cast.this
        # unknown=False: a cast to text of an unknown value is rule-built (typed.RULE_BUILT)
        if cast.to.is_type(*exp.DataType.TEXT_TYPES) and _typed(value, *binary, unknown=False):
            decoded = exp.Anonymous(this="decode", expressions=[value.copy()])
            if isinstance(cast, exp.TryCast) or cast.args.get("safe"):
                # SAFE_CAST: NULL for invalid UTF-8 (DuckDB's decode raises; TRY catches it)
                decoded = exp.Anonymous(this="try", expressions=[decoded])
            decoded.type = cast.type  # the typed rules after this one still see it
            cast.replace(decoded)
        elif cast.to.is_type(*binary) and _typed(value, *exp.DataType.TEXT_TYPES):
            encoded = exp.Anonymous(this="encode", expressions=[value.copy()])
            encoded.type = cast.type
            cast.replace(encoded)
    return tree


def _hex(value: exp.Expr) -> exp.Expr:
    return exp.Anonymous(this="hex", expressions=[value])


def _bytes_value(value: exp.Expr, separator: exp.Expr | None) -> bool:
    """Whether STRING_AGG joins BYTES: by the value's type, else by a bytes literal
    separator (GoogleSQL wants both of one type). An unknown type is not asked strictly:
    it is no reason to refuse every STRING_AGG of a column sqlglot cannot type."""
    kind = value.type
    if kind is not None and not kind.is_type(T.UNKNOWN):
        return kind.is_type(T.VARBINARY, T.BINARY, T.BLOB)
    return isinstance(separator, exp.ByteString)


@handles(exp.GroupConcat)
def string_agg_bytes(tree: exp.Expr) -> exp.Expr:
    """``STRING_AGG(bytes [, sep])``: hex joined, then ``unhex`` (exact: hex digits pair)."""
    for agg in list(tree.find_all(exp.GroupConcat)):
        holder = agg
        while isinstance(holder.this, exp.Limit | exp.Order | exp.Distinct):
            holder = holder.this
        if isinstance(holder, exp.Distinct):
            values, key = holder.expressions, "expressions"
        else:
            values, key = [holder.this], "this"
        separator = agg.args.get("separator")
        if len(values) != 1 or not _bytes_value(values[0], separator):
            continue
        value = values[0]
        # hex text sorts as its bytes do; a DISTINCT aggregate's ORDER BY key must be
        # its argument, so a key that is the value is hexed too
        order = agg.find(exp.Order)
        for ordered in order.expressions if order is not None else ():
            if ordered.this == value:
                ordered.set("this", _hex(value.copy()))
        hexed = _hex(value.copy())
        holder.set(key, [hexed] if key == "expressions" else hexed)
        default = exp.Literal.string(",")
        agg.set("separator", _hex(separator.copy() if separator is not None else default))
        target = agg.parent if isinstance(agg.parent, exp.Window) else agg
        slot = detach(target)
        joined = exp.Anonymous(this="unhex", expressions=[target])
        joined.type = agg.type
        slot.replace(joined)
    return tree


@handles(exp.ToCodePoints)
def to_code_points(tree: exp.Expr) -> exp.Expr:
    """``TO_CODE_POINTS(string)``: the characters' code points (``[]`` for ``''``)."""
    for node in list(tree.find_all(exp.ToCodePoints)):
        if not _typed(node.this, *exp.DataType.TEXT_TYPES):
            continue  # BYTES: left to DuckDB, which refuses it (loud)
        node.replace(
            duck_fragment(
                "CASE WHEN _s = '' THEN CAST([] AS BIGINT[]) ELSE "
                "list_transform(string_split(_s, ''), c -> CAST(unicode(c) AS BIGINT)) END",
                _s=node.this,
            )
        )
    return tree


@handles(exp.CodePointsToString)
def code_points_to_string(tree: exp.Expr) -> exp.Expr:
    """``CODE_POINTS_TO_STRING(array)``: ``''`` for ``[]``, NULL if an element is NULL."""
    for node in list(tree.find_all(exp.CodePointsToString)):
        node.replace(
            duck_fragment(
                "CASE WHEN _a IS NULL THEN NULL WHEN len(_a) = 0 THEN '' "
                "WHEN len(list_filter(_a, c -> c IS NULL)) > 0 THEN NULL "
                "ELSE array_to_string(list_transform(_a, c -> chr(CAST(c AS INTEGER))), '') END",
                _a=node.this,
            )
        )
    return tree


@handles(exp.Unicode)
def unicode_empty(tree: exp.Expr) -> exp.Expr:
    """``UNICODE('')`` is 0 (DuckDB: -1)."""
    for node in list(tree.find_all(exp.Unicode)):
        if node.meta.get("idcbq_unicode"):
            continue
        node.meta["idcbq_unicode"] = True
        empty = exp.EQ(this=node.this.copy(), expression=exp.Literal.string(""))
        hole = detach(node)
        hole.replace(exp.Case(ifs=[exp.If(this=empty, true=exp.Literal.number(0))], default=node))
    return tree


@handles(exp.Split)
def split_null_delimiter(tree: exp.Expr) -> exp.Expr:
    """``SPLIT(s, NULL)`` is NULL (DuckDB splits on nothing: ``[s]``)."""
    for node in list(tree.find_all(exp.Split)):
        delimiter = node.expression
        if delimiter is None or node.meta.get("idcbq_split"):
            continue  # SPLIT(s): the comma, never NULL
        if isinstance(delimiter, exp.Literal):
            continue
        node.meta["idcbq_split"] = True
        null = exp.Is(this=delimiter.copy(), expression=exp.null())
        hole = detach(node)
        hole.replace(exp.Case(ifs=[exp.If(this=null, true=exp.null())], default=node))
    return tree


@handles(exp.Reverse)
def reverse_code_points(tree: exp.Expr) -> exp.Expr:
    """``REVERSE`` reverses code points (DuckDB reverses grapheme clusters, so a
    combining accent stays on its letter). DuckDB has no ``reverse`` of BLOB: BYTES stay
    an error there, as before."""
    for node in list(tree.find_all(exp.Reverse)):
        if node.meta.get("idcbq_reverse"):
            continue
        node.meta["idcbq_reverse"] = True
        node.replace(
            duck_fragment("array_to_string(list_reverse(string_split(_s, '')), '')", _s=node.this)
        )
    return tree


#: Unicode's White_Space (RE2's \\s is only ASCII, and lacks \\v).
_WHITE = r"[\t\n\v\f\r\x{85}\p{Z}]+"


@handles(exp.Trim)
def trim_white_space(tree: exp.Expr) -> exp.Expr:
    """``TRIM``/``LTRIM``/``RTRIM`` of one argument remove Unicode white space (tabs,
    newlines, no-break spaces...); DuckDB's remove only the space character."""
    for node in list(tree.find_all(exp.Trim)):
        if node.expression is not None or node.meta.get("idcbq_trim"):
            continue
        position = (node.args.get("position") or "").upper()
        ends = {"LEADING": [f"^{_WHITE}"], "TRAILING": [f"{_WHITE}$"]}
        pattern = "|".join(ends.get(position, [f"^{_WHITE}", f"{_WHITE}$"]))
        node.replace(
            exp.Anonymous(
                this="regexp_replace",
                expressions=[
                    node.this,
                    exp.Literal.string(pattern),
                    exp.Literal.string(""),
                    exp.Literal.string("g"),
                ],
            )
        )
    return tree


#: ``SPLIT_SUBSTR``'s value: the ``_c`` parts of ``_v`` split on ``_d`` from part ``_i``
#: (1-based, after the NULL and error checks), joined again by ``_d``.
_SPLIT_SUBSTR = """
CASE WHEN _i > len(string_split(_v, _d)) THEN ''
ELSE array_to_string(list_slice(string_split(_v, _d), _i,
  _i + least(_c, len(string_split(_v, _d))) - 1), _d) END
"""
#: Where part ``_s`` starts: 0 is 1, -k the k-th part from the end (at least the first).
_SPLIT_START = """
CASE WHEN _s > 0 THEN _s WHEN _s = 0 THEN 1
ELSE greatest(len(string_split(_v, _d)) + _s + 1, 1) END
"""


@handles(exp.Anonymous)
def split_substr(tree: exp.Expr) -> exp.Expr:
    """``SPLIT_SUBSTR(value, delimiter, start[, count])`` (DuckDB has no such function).

    The parts of ``value`` split on ``delimiter``, from part ``start`` (1-based; 0 is 1; a
    negative one counts from the end, at least the first), ``count`` of them (all by
    default), joined by ``delimiter``; ``''`` past the end; NULL if an argument is NULL;
    an empty delimiter or a negative count is an error.
    """
    from idcbq.transpile.errors_guards import raise_error

    for node in list(tree.find_all(exp.Anonymous)):
        if str(node.name).upper() != "SPLIT_SUBSTR":
            continue
        args = node.expressions
        if len(args) not in (3, 4):
            raise TranspileError("unsupported on DuckDB: SPLIT_SUBSTR takes 3 or 4 arguments")
        value, delimiter, start = args[:3]
        count = args[3] if len(args) == 4 else None
        parts = {"_v": value, "_d": delimiter}
        first = duck_fragment(_SPLIT_START, _s=start, **parts)
        # all the parts: no more than there are (an INT64 sum never overflows)
        many = count if count is not None else exp.Literal.number(9223372036854775807)
        answer = duck_fragment(_SPLIT_SUBSTR, _i=first, _c=many, **parts)
        nulls = exp.or_(*(exp.Is(this=a.copy(), expression=exp.null()) for a in args))
        checks = [
            exp.If(this=nulls, true=exp.null()),
            exp.If(
                this=exp.EQ(this=delimiter.copy(), expression=exp.Literal.string("")),
                true=raise_error("Delimiter of SPLIT_SUBSTR function must be non-empty"),
            ),
        ]
        if count is not None:
            checks.append(
                exp.If(
                    this=exp.LT(this=count.copy(), expression=exp.Literal.number(0)),
                    true=raise_error("Count of SPLIT_SUBSTR function must be non-negative"),
                )
            )
        node.replace(exp.Case(ifs=checks, default=answer))
    return tree


UNTYPED = (
    split_substr,
    trim_white_space,
    reverse_code_points,
    full_case_mapping,
    regexp_extract_all_end,
    tuple_in,
    code_points_to_string,
    unicode_empty,
    split_null_delimiter,
)
TYPED = (bytes_text_casts, to_code_points, string_agg_bytes)


#: Where a BYTES value a STRING_AGG may join comes from (IDC's tables have no BYTES
#: column): only then is STRING_AGG a reason to annotate.
_BYTES_SOURCES = (
    exp.ByteString,
    exp.SHA2Digest,
    exp.MD5Digest,
    exp.SHA1Digest,
    exp.FromBase64,
    exp.Unhex,
    exp.CodePointsToBytes,
)


def needs_types(
    tree: exp.Expr, schema: Mapping | None = None, params: Mapping | None = None
) -> bool:
    """True if a typed rewrite here could apply (a cast to or from BYTES, TO_CODE_POINTS,
    STRING_AGG of a value that may be BYTES: a bytes source, or a column or parameter
    :func:`~idcbq.transpile.known.may_hold` finds)."""
    from idcbq.transpile.known import may_hold

    if tree.find(exp.ToCodePoints):
        return True
    if tree.find(exp.GroupConcat) and (
        tree.find(*_BYTES_SOURCES) or may_hold(tree, schema or {}, params or {}, ("BYTES",))
    ):
        return True
    return any(
        c.to.is_type(*exp.DataType.TEXT_TYPES, T.VARBINARY, T.BINARY, T.BLOB)
        for c in tree.find_all(exp.Cast)
    )


def apply_untyped(tree: exp.Expr) -> exp.Expr:
    """Run every untyped rewrite of this module."""
    return run_rules(tree, UNTYPED)
