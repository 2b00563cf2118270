"""FORMAT's pattern against its arguments, as GoogleSQL's analyzer checks them.

GoogleSQL reads a literal pattern when it analyzes ``FORMAT(pattern, ...)``: each
specifier takes one argument of given types (``%d`` an INT64 only, ``%f`` a FLOAT64,
NUMERIC or BIGNUMERIC, ``%s`` a STRING only, ``%p`` JSON, ``%t``/``%T`` any), a ``*``
width or precision takes one more INT64, and the count must match. DuckDB's printf
would format ``FORMAT('%d', 1.5)`` or ``FORMAT('%s', 1)`` where BigQuery refuses.

Only what is certain is judged: a pattern written as one STRING literal whose
specifiers are all known, arguments that are literals (exact type) or columns (family);
a NULL or an expression matches every type.

Example:
    >>> format_problem("%d items", [("FLOAT64", True, "1.5")])
    'Invalid type for argument 2 to FORMAT; Expected integer; Got FLOAT64'
    >>> format_problem("%5.2f %% %s", [("FLOAT64", True, "1.5"), ("STRING", True, "a")]) is None
    True
"""

from __future__ import annotations

import re

from idcbq.validate.strict_positions import Argument

_SPEC = re.compile(r"%([-+ #0']*)(\*|\d+)?(?:\.(\*|\d*))?(.)", re.S)
_INTEGER = frozenset(["INT64"])
_DECIMAL = frozenset(["FLOAT64", "NUMERIC", "BIGNUMERIC"])
#: Conversion character -> (the types it takes, GoogleSQL's word for them); None: any.
_TAKES: dict[str, tuple[frozenset[str] | None, str]] = {
    **dict.fromkeys("dioxX", (_INTEGER, "integer")),
    **dict.fromkeys("fFeEgG", (_DECIMAL, "floating point")),
    "s": (frozenset(["STRING"]), "STRING"),
    **dict.fromkeys("pP", (frozenset(["JSON"]), "JSON")),
    **dict.fromkeys("tT", (None, "")),
}
#: The exact types a column of each family may hold.
_FAMILY = {
    "NUM": frozenset(["INT64", "FLOAT64", "NUMERIC", "BIGNUMERIC"]),
    "CIVIL": frozenset(["DATE", "DATETIME", "TIMESTAMP"]),
}


def _wants(pattern: str) -> list[tuple[frozenset[str] | None, str]] | None:
    """The argument each specifier takes, in order; None if some specifier is not known."""
    out: list[tuple[frozenset[str] | None, str]] = []
    for m in _SPEC.finditer(pattern):
        flags, width, precision, conv = m.groups()
        if conv == "%" and not (flags or width or precision):
            continue
        if conv not in _TAKES:
            return None  # left to GoogleSQL ("Invalid format specifier character")
        out += [(_INTEGER, "integer")] * [width, precision].count("*")
        out.append(_TAKES[conv])
    return out


def _fits(types: frozenset[str], arg: Argument) -> bool:
    if arg is None:
        return True
    kind, literal, _ = arg
    if literal:
        return kind in types
    return bool(_FAMILY.get(kind, frozenset([kind])) & types)


def format_problem(pattern: str, args: list[Argument]) -> str | None:
    """GoogleSQL's complaint about ``FORMAT(pattern, *args)``, or None."""
    wants = _wants(pattern)
    if wants is None:
        return None
    if len(wants) != len(args):
        word = "few" if len(args) < len(wants) else "many"
        return (
            f'Too {word} arguments to FORMAT for pattern "{pattern}"; '
            f"Expected {len(wants) + 1}; Got {len(args) + 1}"
        )
    for at, ((types, word), arg) in enumerate(zip(wants, args, strict=True), 2):
        if types is not None and not _fits(types, arg):
            got = arg[0] if arg is not None else "?"
            return f"Invalid type for argument {at} to FORMAT; Expected {word}; Got {got}"
    return None
