"""BYTES through the STRING functions: one character per byte (typed rewrites).

DuckDB's text functions (``substring``, ``strpos``, ``lpad``, ``replace``...) take no
BLOB, so a BYTES argument was a binder error. GoogleSQL's BYTES versions are the STRING
versions with bytes for characters, and UPPER/LOWER change only the ASCII letters. So a
BYTES argument becomes a STRING of as many characters as it has bytes: bytes 1..127 stay
the ASCII characters they are (LIKE's ``%``/``_``/``\\``, LPAD's default space and the
ASCII letters' cases keep their meaning), byte 0 and bytes 128..255 become the private
use characters U+E000 + byte (no case, no white space, one code point each, and valid
UTF-8 whatever the bytes were). The function runs as the STRING one (idcbq's own string
rules apply to it afterwards) and a BYTES result is turned back, character by character.

- ``bytes_as_text``: SUBSTR, LEFT, RIGHT, REVERSE, UPPER, LOWER, LPAD, RPAD, TRIM/LTRIM/
  RTRIM with bytes to remove, REPLACE, TRANSLATE, SPLIT (BYTES results); STRPOS, INSTR,
  STARTS_WITH, ENDS_WITH, LIKE (others).
- ``bytes_ascii``: ``ASCII(bytes)`` is the first byte (0 for ``b''``).
- ``bytes_length``: ``LENGTH(bytes)`` counts bytes, whatever spelled the value.
- ``bytes_refused``: the REGEXP functions and one-argument TRIM of BYTES are refused by
  name (they were a DuckDB binder error).

Probes: ``tests/probes/loud30.yaml``.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache

from sqlglot import exp

from idcbq.errors import TranspileError
from idcbq.transpile.nan_unknown import parsed_fragment
from idcbq.transpile.rewrites import detach
from idcbq.transpile.rules import datatype, dup, handles
from idcbq.transpile.semantics import T

BINARY = (T.VARBINARY, T.BINARY, T.BLOB)

#: Private use characters stand for byte 0 and bytes 128..255 (code point BASE + byte).
BASE = 0xE000

_BYTE = "CAST('0x' || _idcbq_h AS INTEGER)"
#: BYTES ``_b`` as characters (NULL stays NULL, ``b''`` is ``''``).
TO_TEXT = (
    "array_to_string(list_transform(regexp_extract_all(hex(CAST(_b AS BLOB)), '..'), "
    f"_idcbq_h -> chr(CASE WHEN {_BYTE} BETWEEN 1 AND 127 THEN {_BYTE} "
    f"ELSE {BASE} + {_BYTE} END)), '')"
)


def _from_text(var: str) -> str:
    """The characters of ``var`` back to BYTES (``% BASE`` undoes both mappings)."""
    return (
        f"unhex(array_to_string(list_transform(list_filter(string_split({var}, ''), "
        f"_idcbq_c -> _idcbq_c <> ''), _idcbq_c -> printf('%02X', unicode(_idcbq_c) % {BASE})),"
        " ''))"
    )


FROM_TEXT = _from_text("_s")
#: An ARRAY of such STRINGs back to ARRAY<BYTES> (SPLIT).
FROM_TEXTS = f"list_transform(_l, _idcbq_p -> {_from_text('_idcbq_p')})"

#: Node type -> its text arguments, and whether it returns BYTES for BYTES.
_TEXT_ARGS: dict[type[exp.Expr], tuple[tuple[str, ...], bool]] = {
    exp.Substring: (("this",), True),
    exp.Left: (("this",), True),
    exp.Right: (("this",), True),
    exp.Reverse: (("this",), True),
    exp.Upper: (("this",), True),
    exp.Lower: (("this",), True),
    exp.Pad: (("this", "fill_pattern"), True),
    exp.Trim: (("this", "expression"), True),
    exp.Replace: (("this", "expression", "replacement"), True),
    exp.Translate: (("this", "from_", "to"), True),
    exp.Split: (("this", "expression"), True),
    exp.StrPosition: (("this", "substr"), False),
    exp.StartsWith: (("this", "expression"), False),
    exp.EndsWith: (("this", "expression"), False),
    exp.Like: (("this", "expression"), False),
}

#: Functions of BYTES with no exact translation here (a pattern's bytes are not text).
_REFUSED = (
    exp.RegexpExtract,
    exp.RegexpExtractAll,
    exp.RegexpReplace,
    exp.RegexpLike,
    exp.RegexpInstr,
)


#: Meta key of a text function rewritten to run on BYTES as one character per byte.
BYTES_AS_TEXT = "idcbq_bytes_as_text"


def _is_bytes(node: exp.Expr | None) -> bool:
    """Whether annotation typed ``node`` BYTES. An unknown type is no evidence either way:
    such a node is left as it was (DuckDB then refuses a BLOB loudly, as before)."""
    kind = None if node is None else node.type
    return kind is not None and kind.is_type(*BINARY)


def _of_bytes(node: exp.Expr, keys: tuple[str, ...]) -> bool:
    return any(_is_bytes(node.args.get(key)) for key in keys)


#: DuckDB functions the fragments call, by the node sqlglot parses them to: made
#: anonymous calls so that no later rule reads them as BigQuery's (ARRAY_TO_STRING's
#: NULL elements, SPLIT's NULL delimiter...).
_DUCK_NAMES = {
    exp.RegexpExtractAll: "regexp_extract_all",
    exp.Hex: "hex",
    exp.Unhex: "unhex",
    exp.Chr: "chr",
    exp.ArrayToString: "array_to_string",
    exp.Transform: "list_transform",
    exp.ArrayFilter: "list_filter",
    exp.Split: "string_split",
    exp.Unicode: "unicode",
    exp.Left: "left",
}


@lru_cache(maxsize=16)
def _opaque(template: str) -> exp.Expr:
    """``template`` parsed, its DuckDB calls anonymous (callers copy it)."""
    tree = dup(parsed_fragment(template))
    for node in list(tree.find_all(*_DUCK_NAMES)):
        args = node.expressions if isinstance(node, exp.Chr) else [node.this, node.expression]
        call = exp.Anonymous(this=_DUCK_NAMES[type(node)], expressions=[a for a in args if a])
        call.meta.update(node.meta)
        if node is tree:  # the root has no parent to replace it in
            tree = call
        else:
            node.replace(call)
    return tree


def fragment(template: str, **parts: exp.Expr) -> exp.Expr:
    """``template`` (DuckDB SQL) with its ``_x`` columns replaced by ``parts``."""
    tree = dup(_opaque(template))
    for column in list(tree.find_all(exp.Column)):
        if column.name in parts and not column.table:
            column.replace(dup(parts[column.name]))
    return tree


def to_text(value: exp.Expr) -> exp.Expr:
    """BYTES ``value`` as a STRING of one character per byte (see the module's note)."""
    return fragment(TO_TEXT, _b=value)


def _patterns_to_text(quantified: exp.Any | exp.All) -> None:
    """The patterns of ``LIKE ANY/ALL (p1, p2...)`` as text; a subquery or array of
    patterns is refused (it would need its elements mapped)."""
    inner = quantified.this
    if isinstance(inner, exp.Tuple):
        for pattern in list(inner.expressions):
            pattern.replace(to_text(pattern))
    elif isinstance(inner, exp.Paren) and not isinstance(inner.this, exp.Query):
        inner.set("this", to_text(inner.this))
    else:
        raise TranspileError(
            "unsupported on DuckDB: LIKE ANY/ALL of BYTES with patterns from a subquery or array"
        )


@handles(*_TEXT_ARGS)
def bytes_as_text(tree: exp.Expr) -> exp.Expr:
    """A text function of BYTES runs on their characters; a BYTES result is turned back."""
    for node in reversed(list(tree.find_all(*_TEXT_ARGS))):  # inner first: copied below
        keys, returns_bytes = _TEXT_ARGS[type(node)]
        if not _of_bytes(node, keys):
            continue
        node.meta[BYTES_AS_TEXT] = True  # (LPAD's 1 MB limit counts bytes, not these chars)
        for key in keys:
            arg = node.args.get(key)
            if isinstance(arg, exp.Any | exp.All):  # LIKE ANY/ALL (patterns...)
                _patterns_to_text(arg)
            elif arg is not None:
                node.set(key, to_text(arg))
        if not returns_bytes:
            continue
        slot = detach(node)
        template, part = (FROM_TEXTS, "_l") if isinstance(node, exp.Split) else (FROM_TEXT, "_s")
        back = fragment(template, **{part: node})
        # BYTES whatever annotation made of it (a NULL first argument types TRIM NULL)
        back.type = datatype("ARRAY<VARBINARY>" if part == "_l" else "VARBINARY")
        slot.replace(back)
    return tree


@handles(exp.Ascii)
def bytes_ascii(tree: exp.Expr) -> exp.Expr:
    """``ASCII(bytes)``: the first byte's value, 0 for ``b''``, NULL for NULL."""
    for node in list(tree.find_all(exp.Ascii)):
        if not _is_bytes(node.this):
            continue
        answer = fragment(
            "CASE WHEN hex(_b) = '' THEN CAST(0 AS BIGINT) "
            "ELSE CAST('0x' || left(hex(_b), 2) AS BIGINT) END",
            _b=node.this,
        )
        answer.type = node.type
        node.replace(answer)
    return tree


@handles(exp.Length)
def bytes_length(tree: exp.Expr) -> exp.Expr:
    """``LENGTH(bytes)`` counts bytes (DuckDB has no ``length`` of BLOB)."""
    for node in list(tree.find_all(exp.Length)):
        if _is_bytes(node.this):
            size = exp.Anonymous(this="octet_length", expressions=[node.this])
            size.type = node.type
            node.replace(size)
    return tree


@handles(exp.Trim, *_REFUSED)
def bytes_refused(tree: exp.Expr) -> exp.Expr:
    """Refuse, by name, what DuckDB would only fail to bind: REGEXP of BYTES, and a TRIM
    of BYTES without the bytes to remove."""
    for node in tree.find_all(exp.Trim, *_REFUSED):
        if isinstance(node, exp.Trim):
            if node.expression is None and _is_bytes(node.this):
                raise TranspileError(
                    "unsupported on DuckDB: TRIM/LTRIM/RTRIM of BYTES without the bytes to trim"
                )
        elif any(_is_bytes(arg) for arg in (node.this, node.expression)):
            name = node.sql_name() if hasattr(node, "sql_name") else type(node).__name__
            raise TranspileError(
                f"unsupported on DuckDB: {name} of BYTES (DuckDB's regular expressions "
                "read only text)"
            )
    return tree


#: Where a BYTES value comes from without a column (IDC's tables have none).
_BYTES_SOURCES = (
    exp.ByteString,
    exp.SHA2Digest,
    exp.MD5Digest,
    exp.SHA1Digest,
    exp.FromBase64,
    exp.Unhex,
    exp.CodePointsToBytes,
)

TYPED = (bytes_refused, bytes_ascii, bytes_length, bytes_as_text)


def needs_types(
    tree: exp.Expr, schema: Mapping | None = None, params: Mapping | None = None
) -> bool:
    """True if a text function may see BYTES: a bytes literal or function, or a column,
    parameter or cast the cheap evidence of :func:`~idcbq.transpile.known.may_hold` finds."""
    from idcbq.transpile.known import may_hold

    if not tree.find(*_TEXT_ARGS, exp.Ascii, exp.Length, *_REFUSED):
        return False
    if tree.find(*_BYTES_SOURCES):
        return True
    return may_hold(tree, schema or {}, params or {}, ("BYTES",))
