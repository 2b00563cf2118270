"""A call's arguments against each signature of the function, position by position.

:mod:`idcbq.validate.strict_families` asks whether some signature takes each argument's
family anywhere; this asks whether ONE signature takes every argument at its position,
with GoogleSQL's coercions (``signatures`` in ``idcbq/data/bigquery_functions.json``,
from GoogleSQL's catalog). So ``STRPOS('a', b'b')`` (STRING and BYTES),
``UNIX_MICROS(DATE '2020-01-01')`` (DATE is not TIMESTAMP), ``DIV(7, 0.5)`` (a FLOAT64
is not INT64; a FLOAT64 literal becomes NUMERIC only beside a NUMERIC) and
``STRING('ß')`` (no date in the text) have no signature.

An argument is known exactly when it is a literal; a column is known by its family only
(a STRING column is never BYTES, but sqlglot's INT64 may be GoogleSQL's NUMERIC); any
other argument matches every type. A call whose written arguments no signature's count
fits (``DATE_ADD(d, INTERVAL 1 DAY)``, a special form) is not judged.

Example:
    >>> no_signature("strpos", [("STRING", True, "'a'"), ("BYTES", True, "b'b'")])
    True
    >>> no_signature("strpos", [("STRING", False, None), None])
    False
"""

from __future__ import annotations

from functools import cache

#: Exact coercions of a value of the key type (GoogleSQL's conversion rules; DATE to
#: DATETIME as FORMAT_TIMESTAMP(fmt, DATE) shows). A FLOAT64 literal does not become
#: NUMERIC (``DIV(7, 2.0)`` has no signature).
_COERCES = {
    "INT64": {"NUMERIC", "BIGNUMERIC", "FLOAT64"},
    "NUMERIC": {"BIGNUMERIC", "FLOAT64"},
    "BIGNUMERIC": {"FLOAT64"},
    "DATE": {"DATETIME"},
}
_CIVIL = {"DATE", "DATETIME", "TIMESTAMP", "TIME"}
#: The exact types of each family a column may hold (sqlglot's type is trusted this far).
_FAMILY_TYPES = {
    "NUM": {"INT64", "NUMERIC", "BIGNUMERIC", "FLOAT64"},
    "STRING": {"STRING"},
    "BYTES": {"BYTES"},
    "BOOL": {"BOOL"},
    "CIVIL": {"DATE", "DATETIME", "TIMESTAMP"},
    "TIME": {"TIME"},
    "JSON": {"JSON"},
    "GEOGRAPHY": {"GEOGRAPHY"},
    "ARRAY": set(),
    "STRUCT": set(),
}

#: ``(type or family, is a literal, literal text)``; None: not known.
Argument = tuple[str, bool, str | None] | None


@cache
def _signatures() -> dict[str, list[list[str]]]:
    from idcbq.validate.strict import function_table

    return {
        name: [sig.split(",") if sig else [] for sig in entry["signatures"]]
        for name, entry in function_table().items()
        if entry.get("signatures")
    }


def has_signatures(name: str) -> bool:
    """Whether the table keeps ``name``'s signatures by position."""
    return name in _signatures()


def _spread(sig: list[str], count: int) -> list[str] | None:
    """The parameter type at each of ``count`` written positions, None if the count does
    not fit (or the signature's shape is not required, then optional, then repeated)."""
    required = [t for t in sig if t[-1:] not in ("?", "*")]
    optional = [t[:-1] for t in sig if t.endswith("?")]
    repeated = [t[:-1] for t in sig if t.endswith("*")]
    if [t.rstrip("?*") for t in sig] != required + optional + repeated or len(repeated) > 1:
        return ["ANY"] * count  # an unusual shape: every position matches
    fixed = required + optional
    if count < len(required) or (count > len(fixed) and not repeated):
        return None
    return (fixed + repeated * count)[:count]


def _takes(param: str, arg: Argument, numeric: bool) -> bool:
    """Whether a parameter of type ``param`` takes ``arg`` (coercions included);
    ``numeric``: another argument may be NUMERIC, so a FLOAT64 literal becomes one."""
    if arg is None or param == "ANY":
        return True
    kind, literal, text = arg
    if literal and kind == "FLOAT64" and numeric and param in ("NUMERIC", "BIGNUMERIC"):
        return True  # DIV(NUMERIC '2', 2.0) is DIV(NUMERIC, NUMERIC); DIV(2, 2.0) is none
    if not literal:  # a column: any exact type of its family, and their coercions
        types = _FAMILY_TYPES.get(kind)
        if types is None:
            return True
        return any(param == t or param in _COERCES.get(t, ()) for t in types)
    if param == kind or param in _COERCES.get(kind, ()):
        return True
    # a STRING literal coerces to a civil type when its text may be one (it has digits)
    return kind == "STRING" and param in _CIVIL and any(c.isdigit() for c in text or "")


def no_signature(name: str, args: list[Argument]) -> bool:
    """True if signatures of ``name`` fit the call's argument count and none takes every
    argument at its position."""
    sigs = _signatures().get(name)
    if not sigs or all(a is None for a in args):
        return False
    fitting = [p for p in (_spread(s, len(args)) for s in sigs) if p is not None]
    if not fitting:
        return False  # a special form or a count the arity check judges
    numeric = any(a is None or a[0] in ("NUM", "NUMERIC", "BIGNUMERIC") for a in args)
    return not any(
        all(_takes(p, a, numeric) for p, a in zip(ps, args, strict=True)) for ps in fitting
    )


def mixed_bytes(args: list[Argument]) -> bool:
    """CONCAT's rule: it converts most types to STRING, but BYTES joins only BYTES."""
    kinds = {a[0] for a in args if a is not None}
    return "BYTES" in kinds and len(kinds) > 1
