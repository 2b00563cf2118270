"""Function arguments of a family no signature of the function takes, for every function.

``idcbq/data/bigquery_functions.json`` keeps, from GoogleSQL's own catalog, the
conversion families each function's arguments accept (``accepts``: ``SHA1`` takes
STRING and BYTES). A call is read from the query's tokens, as written: its name and its
arguments, each either a literal (``1.5``, ``b'x'``, ``DATE '2020-01-01'``, ``TRUE``) or
a column whose type the schema gives. An argument whose family no argument of any
signature accepts has no signature: ``SHA1(1.5)``, ``STRING(TRUE)``, ``SHA256(SeriesNumber)``.
Positions are not compared (never a false refusal from an argument order); a STRING
literal is taken where a civil type is (GoogleSQL coerces it); ``CONCAT`` converts any
type (BigQuery's mixed-type CONCAT) and is not checked.

Example:
    >>> from idcbq.validate import check
    >>> str(check("SELECT SHA1(1.5) AS h", googlesql=False)[1][0]).splitlines()[0]
    '<sql>:1:8: No matching signature for function SHA1 for argument types: FLOAT64'
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache
from typing import Any

from sqlglot import exp

from idcbq.errors import ValidationError
from idcbq.validate.strict_format import format_problem
from idcbq.validate.strict_positions import Argument, has_signatures, mixed_bytes, no_signature
from idcbq.validate.type_rules import (
    ARRAY,
    BOOL,
    BYTES,
    CIVIL,
    JSON,
    NUM,
    STRING,
    TIME,
    family,
)

#: Functions whose arguments GoogleSQL converts beyond their catalog signatures.
_CONVERTING = frozenset(["concat"])
#: Functions that are also type names with parameters (``CAST(x AS STRING(5))``).
_TYPE_NAMES = frozenset(["string", "bytes", "numeric", "bignumeric", "json", "bool", "int64"])
#: The family of a two-token typed literal (``DATE '...'``) by its keyword.
_TYPED_LITERALS = {
    "DATE": CIVIL,
    "DATETIME": CIVIL,
    "TIMESTAMP": CIVIL,
    "TIME": TIME,
    "JSON": JSON,
    "NUMERIC": NUM,
    "BIGNUMERIC": NUM,
}


@cache
def _accepts() -> dict[str, frozenset[str]]:
    from idcbq.validate.strict import function_table

    return {
        name: frozenset(entry["accepts"])
        for name, entry in function_table().items()
        if entry.get("accepts") is not None and name not in _CONVERTING
    }


def _literal(span: list[Any]) -> tuple[str, str] | None:
    """``(family, GoogleSQL type)`` of a span that is one literal, else None."""
    kinds = [t.token_type.name for t in span]
    if kinds == ["NUMBER"] or kinds == ["DASH", "NUMBER"]:
        text = span[-1].text
        floats = any(c in text for c in ".eE")
        return NUM, "FLOAT64" if floats else "INT64"
    if kinds == ["STRING"]:
        return STRING, "STRING"
    if kinds in (["BYTE_STRING"], ["HEX_STRING"]):
        return BYTES, "BYTES"
    if kinds in (["TRUE"], ["FALSE"]):
        return BOOL, "BOOL"
    if _whole_array(kinds):
        return ARRAY, "ARRAY"
    if len(span) == 2 and kinds[1] == "STRING":
        keyword = span[0].text.upper()
        kind = _TYPED_LITERALS.get(keyword)
        return (kind, keyword) if kind else None
    return None


def _whole_array(kinds: list[str]) -> bool:
    """``[...]`` or ``ARRAY<T>[...]`` as the whole span (not ``[...][OFFSET(0)]``)."""
    start = 0
    if kinds[:2] == ["ARRAY", "LT"]:
        start = kinds.index("GT") + 1 if "GT" in kinds else len(kinds)
    if start >= len(kinds) or kinds[start] != "L_BRACKET" or kinds[-1] != "R_BRACKET":
        return False
    depth = 0
    for at, kind in enumerate(kinds[start:], start):
        depth += {"L_BRACKET": 1, "R_BRACKET": -1}.get(kind, 0)
        if depth == 0:
            return at == len(kinds) - 1
    return False


def _column(span: list[Any], columns: dict[int, exp.Column]) -> tuple[str, str] | None:
    """``(family, GoogleSQL type)`` of a span that is one column reference, else None."""
    kinds = [t.token_type.name for t in span]
    if not kinds or kinds[0] not in ("VAR", "IDENTIFIER") or len(kinds) % 2 == 0:
        return None
    if any(k != "DOT" for k in kinds[1::2]) or any(
        k not in ("VAR", "IDENTIFIER") for k in kinds[::2]
    ):
        return None
    column = columns.get(span[-1].start)
    if column is None:
        return None
    kind = family(column)
    if kind is None or column.type is None:
        return None
    return kind, column.type.sql("bigquery")


def _calls(tokens: Sequence[Any]):
    """``(name token index, name, argument spans)`` of each ``name(...)`` call."""
    for i in range(len(tokens) - 1):
        if tokens[i + 1].token_type.name != "L_PAREN":
            continue
        word = tokens[i].text.lower()
        if tokens[i].token_type.name != "VAR" and not (
            word in _accepts() or word in _CONVERTING or has_signatures(word)
        ):
            continue
        before = tokens[i - 1].token_type.name if i else ""
        if before == "DOT" and (i < 2 or tokens[i - 2].text.lower() != "safe"):
            continue  # a namespaced or user function
        spans, span, depth = [], [], 0
        for tok in tokens[i + 2 :]:
            name = tok.token_type.name
            if name in ("L_PAREN", "L_BRACKET"):
                depth += 1
            elif name in ("R_PAREN", "R_BRACKET"):
                if depth == 0:
                    spans.append(span)
                    break
                depth -= 1
            if name == "COMMA" and depth == 0:
                spans.append(span)
                span = []
                continue
            span.append(tok)
        yield i, tokens[i].text.lower(), spans


def check_call_families(
    typed: exp.Expr,
    tokens: Sequence[Any],
    locate: Callable[[int], Any],
    add: Callable,
    said: set[str] = frozenset(),  # type: ignore[assignment]
) -> None:
    """Report each call with an argument of a family no signature of the function takes
    (a message already in ``said`` is not repeated)."""
    columns = {
        col.this.meta.get("start"): col
        for col in typed.find_all(exp.Column)
        if isinstance(col.this, exp.Identifier) and col.this._meta
    }

    def _say(message: str, at: int) -> None:
        if message not in said:
            add(ValidationError(message, location=locate(at)))

    for i, name, spans in _calls(tokens):
        if name in _TYPE_NAMES and _type_position(tokens, i):
            continue  # a parameterized type, STRING(5) or NUMERIC(2, 1), not a call
        accepted = _accepts().get(name)
        if accepted is None:
            if name in _CONVERTING or has_signatures(name):
                _check_positions(name, spans, columns, lambda m, at=tokens[i].start: _say(m, at))
            continue
        refused = False
        for span in spans:
            found = _literal(span) or _column(span, columns)
            if found is None:
                continue
            kind, spelled = found
            if kind in accepted or (kind == STRING and len(span) == 1 and accepted & {CIVIL, TIME}):
                continue
            message = (
                f"No matching signature for function {name.upper()} for argument types: {spelled}"
            )
            if message not in said:
                add(ValidationError(message, location=locate(tokens[i].start)))
            refused = True
            break
        if not refused:
            _check_positions(name, spans, columns, lambda m, at=tokens[i].start: _say(m, at))


def _type_position(tokens: list[Any], i: int) -> bool:
    """Whether the name at ``tokens[i]`` is a type (``AS STRING(5)``, ``STRUCT<a BYTES(4)>``,
    ``DECLARE x NUMERIC(3, 1)``), not a call such as ``STRING(64)``."""
    before = tokens[i - 1].token_type.name if i else ""
    if before in ("ALIAS", "LT", "VAR", "IDENTIFIER"):
        return True
    if before != "COMMA":
        return False
    depth = 0  # a comma inside ARRAY<...>/STRUCT<...>, not between a call's arguments
    for tok in reversed(tokens[: i - 1]):
        kind = tok.token_type.name
        if kind in ("R_PAREN", "GT"):
            depth += 1
        elif kind in ("L_PAREN", "LT"):
            if depth == 0:
                return kind == "LT"
            depth -= 1
    return False


def _check_positions(name: str, spans: list[list[Any]], columns, say: Callable[[str], None]):
    """Refuse a call no single signature takes, position by position (mixed STRING and
    BYTES, a DATE where only TIMESTAMP is taken, ...): :mod:`strict_positions`."""
    if any(not span or any(t.text == "=>" for t in span) for span in spans):
        return  # named arguments, or an empty one: not judged
    args: list[Argument] = []
    spelled: list[str] = []
    for span in spans:
        lit = _literal(span)
        col = None if lit else _column(span, columns)
        if lit:
            args.append((lit[1], True, span[-1].text))
        elif col:
            args.append((col[0], False, None))
        else:
            args.append(None)
        spelled.append((lit or col or ("", "?"))[1])
    if name == "format" and [t.token_type.name for t in spans[0]] == ["STRING"]:
        problem = format_problem(spans[0][0].text, args[1:])
        if problem:
            say(problem)
            return
    refused = mixed_bytes(args) if name in _CONVERTING else no_signature(name, args)
    if refused:
        say(
            f"No matching signature for function {name.upper()} for argument types: "
            f"{', '.join(spelled)}"
        )
