"""Calls whose shape the analyzer's signature lists cannot give: a date part as an
argument (``DATE_TRUNC(d, WEEK(MONDAY))``), ``INTERVAL n part``, ``EXTRACT``,
variadic functions, ``FORMAT`` with its specifiers, ``CAST``/``SAFE_CAST`` between types.

Each form is ``(function, template, kinds)``: ``{0}``, ``{1}``... are values of the
listed types, ``{part}`` a date part the value's type admits, ``{n}`` a small INT64.
"""

from __future__ import annotations

import random

from tests.fuzz.values import POOL, value

DATE_PARTS = (
    "DAY",
    "WEEK",
    "WEEK(MONDAY)",
    "WEEK(SATURDAY)",
    "ISOWEEK",
    "MONTH",
    "QUARTER",
    "YEAR",
    "ISOYEAR",
)
TIME_PARTS = ("MICROSECOND", "MILLISECOND", "SECOND", "MINUTE", "HOUR")
PARTS = {
    "DATE": DATE_PARTS,
    "DATETIME": DATE_PARTS + TIME_PARTS,
    "TIMESTAMP": DATE_PARTS + TIME_PARTS,
    "TIME": TIME_PARTS,
}
#: The parts INTERVAL arithmetic takes (no WEEK(<day>), ISOWEEK, ISOYEAR).
ADD_PARTS = {
    "DATE": ("DAY", "WEEK", "MONTH", "QUARTER", "YEAR"),
    "DATETIME": ("DAY", "WEEK", "MONTH", "QUARTER", "YEAR", *TIME_PARTS),
    "TIMESTAMP": ("DAY", *TIME_PARTS),
    "TIME": TIME_PARTS,
}
EXTRACT_PARTS = {
    "DATE": (*DATE_PARTS, "DAYOFWEEK", "DAYOFYEAR"),
    "DATETIME": (*DATE_PARTS, "DAYOFWEEK", "DAYOFYEAR", *TIME_PARTS, "DATE", "TIME"),
    "TIMESTAMP": (*DATE_PARTS, "DAYOFWEEK", "DAYOFYEAR", *TIME_PARTS, "DATE", "DATETIME", "TIME"),
    "TIME": TIME_PARTS,
}
FORMAT_SPECS = (
    "%d",
    "%i",
    "%s",
    "%5d",
    "%-5s|",
    "%05d",
    "%x",
    "%X",
    "%o",
    "%f",
    "%.2f",
    "%e",
    "%E",
    "%g",
    "%G",
    "%t",
    "%T",
    "%'d",
    "%+d",
    "% d",
    "%%",
    "%10.3f",
    "%.0f",
    "%#x",
)
CAST_TYPES = (
    "INT64",
    "FLOAT64",
    "NUMERIC",
    "STRING",
    "BYTES",
    "BOOL",
    "DATE",
    "DATETIME",
    "TIMESTAMP",
    "TIME",
)
SMALL = ("0", "1", "-1", "2", "7", "-13", "100", "10000", "3000000", "-9223372036854775807 - 1")


def part_calls(rng: random.Random, per_form: int) -> list[tuple[str, str]]:
    """Date-part functions of each civil type."""
    out = []
    for kind in ("DATE", "DATETIME", "TIMESTAMP", "TIME"):
        low = kind.lower()
        for _ in range(per_form):
            v, w = value(kind, rng), value(kind, rng)
            part = rng.choice(PARTS[kind])
            out.append((f"{low}_trunc", f"SELECT {kind}_TRUNC({v}, {part}) AS v"))
            out.append((f"{low}_diff", f"SELECT {kind}_DIFF({v}, {w}, {part}) AS v"))
            add = rng.choice(ADD_PARTS[kind])
            n = rng.choice(SMALL)
            verb = rng.choice(("ADD", "SUB"))
            out.append(
                (f"{low}_{verb.lower()}", f"SELECT {kind}_{verb}({v}, INTERVAL {n} {add}) AS v")
            )
            piece = rng.choice(EXTRACT_PARTS[kind])
            out.append(("extract", f"SELECT EXTRACT({piece} FROM {v}) AS v"))
            if kind != "TIME":
                last = rng.choice(
                    ("MONTH", "WEEK", "WEEK(SUNDAY)", "ISOWEEK", "QUARTER", "YEAR", "ISOYEAR")
                )
                out.append(("last_day", f"SELECT LAST_DAY({v}, {last}) AS v"))
    return out


def variadic_calls(rng: random.Random, per_form: int) -> list[tuple[str, str]]:
    """CONCAT, COALESCE, GREATEST, LEAST, IFNULL, NULLIF, IF over one type."""
    out = []
    for _ in range(per_form):
        kind = rng.choice(
            ("INT64", "FLOAT64", "NUMERIC", "STRING", "BYTES", "DATE", "TIMESTAMP", "BOOL")
        )
        args = ", ".join(value(kind, rng, 0.2) for _ in range(rng.randint(1, 4)))
        two = ", ".join(value(kind, rng, 0.2) for _ in range(2))
        if kind in ("STRING", "BYTES"):
            out.append(("concat", f"SELECT CONCAT({args}) AS v"))
        out.append(("coalesce", f"SELECT COALESCE({args}) AS v"))
        out.append(("greatest", f"SELECT GREATEST({args}) AS v"))
        out.append(("least", f"SELECT LEAST({args}) AS v"))
        out.append(("ifnull", f"SELECT IFNULL({two}) AS v"))
        out.append(("nullif", f"SELECT NULLIF({two}) AS v"))
        cond = value("BOOL", rng, 0.2)
        out.append(("if", f"SELECT IF({cond}, {two}) AS v"))
    return out


def format_calls(rng: random.Random, per_form: int) -> list[tuple[str, str]]:
    """FORMAT with one specifier and a value of some type."""
    out = []
    for _ in range(per_form):
        spec = rng.choice(FORMAT_SPECS)
        kind = rng.choice(
            ("INT64", "FLOAT64", "NUMERIC", "STRING", "BOOL", "DATE", "TIMESTAMP", "BYTES")
        )
        out.append(("format", f"SELECT FORMAT('<{spec}>', {value(kind, rng)}) AS v"))
    return out


def cast_calls(rng: random.Random, per_form: int) -> list[tuple[str, str]]:
    """CAST and SAFE_CAST between the types of the pool (string texts of every kind)."""
    out = []
    for _ in range(per_form):
        source = rng.choice(tuple(k for k in POOL if k not in ("JSON", "INTERVAL")))
        target = rng.choice(CAST_TYPES)
        how = rng.choice(("CAST", "SAFE_CAST"))
        out.append((how.lower(), f"SELECT {how}({value(source, rng)} AS {target}) AS v"))
    return out


def all_forms(seed: int, per_form: int) -> list[tuple[str, str]]:
    """Every form's calls, the same for the same seed."""
    rng = random.Random(seed * 7919)
    return [
        *part_calls(rng, per_form),
        *variadic_calls(rng, per_form),
        *format_calls(rng, per_form),
        *cast_calls(rng, per_form * 4),
    ]
