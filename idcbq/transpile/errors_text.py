"""Runtime errors of text functions and time zones BigQuery raises and DuckDB does not.

- ``ascii_non_ascii``: ``ASCII`` of a string starting with a non-ASCII character;
- ``regexp_instr_groups``: ``REGEXP_INSTR`` with two or more capturing groups (one group,
  or a pattern that is not a literal, is refused: BigQuery reports the group);
- ``regexp_extract_positions``: ``REGEXP_EXTRACT``/``REGEXP_SUBSTR`` with a position or
  occurrence below 1 (sqlglot's DuckDB SQL drops a position of 0 and reads a negative
  one from the end);
- ``offset_zones``: a time zone written as a UTC offset beyond whole hours (DuckDB reads
  ``UTC+1234`` as +12).

Example:
    >>> capturing_groups("(a)(?:b)(c)")
    2
"""

from __future__ import annotations

import re

from sqlglot import exp

from idcbq.errors import TranspileError
from idcbq.transpile.errors_guards import GUARDED, fresh, guard, raise_error
from idcbq.transpile.rewrites import detach
from idcbq.transpile.rules import handles


@handles(exp.Ascii)
def ascii_non_ascii(tree: exp.Expr) -> exp.Expr:
    """``ASCII(s)`` of a STRING whose first character is not ASCII raises (DuckDB gives its
    code point). ``ASCII`` of BYTES has no DuckDB overload: DuckDB refuses it (loud)."""
    for node in fresh(tree, exp.Ascii):
        bad = exp.GT(this=node.copy(), expression=exp.Literal.number(127))
        detach(node).replace(
            guard(node, bad, "Argument to ASCII is not a structurally valid ASCII string")
        )
    return tree


def capturing_groups(pattern: str) -> int:
    """How many capturing groups an RE2 pattern has (``(x)`` and ``(?P<name>x)``).

    Example:
        >>> capturing_groups(r"a(b)c(?:d)[(]\\(")
        1
    """
    count, i, in_class = 0, 0, False
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            i += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
            if pattern[i + 1 : i + 2] == "]":
                i += 1  # a ``]`` first in a class is a literal
        elif char == "(" and (
            not pattern.startswith("(?", i) or pattern.startswith(("(?P<", "(?<"), i)
        ):
            count += 1
        i += 1
    return count


@handles(exp.RegexpInstr)
def regexp_instr_groups(tree: exp.Expr) -> exp.Expr:
    """``REGEXP_INSTR`` with a literal pattern of no capturing group only.

    Two or more groups raise, as in BigQuery; one group (BigQuery reports the group's
    position, DuckDB's translation the whole match's) or a pattern that is not a literal
    is refused."""
    for node in fresh(tree, exp.RegexpInstr):
        pattern = node.expression
        if not (isinstance(pattern, exp.RawString) or pattern.is_string):
            raise TranspileError(
                "unsupported on DuckDB: REGEXP_INSTR with a pattern that is not a literal "
                "(its capturing groups decide the answer)",
                hint="write the pattern as a literal, or use --engine bigquery",
            )
        groups = capturing_groups(pattern.this)
        if groups == 1:
            raise TranspileError(
                "unsupported on DuckDB: REGEXP_INSTR with a capturing group (BigQuery reports "
                "the group's position)",
                hint="use a non-capturing group (?:...), or --engine bigquery",
            )
        if groups > 1:
            detach(node).replace(
                raise_error(
                    "Regular expressions passed into extraction functions must not have "
                    "more than 1 capturing group"
                )
            )
            continue
        checks: list[tuple[exp.Expr, str]] = []
        one = exp.Literal.number(1)
        for key, message in (("position", "Position"), ("occurrence", "Occurrence")):
            value = node.args.get(key)
            if value is not None:
                checks.append(
                    (exp.LT(this=value.copy(), expression=one), f"{message} must be positive")
                )
        option = node.args.get("option")
        if option is not None:
            bad_option = exp.Not(
                this=exp.In(this=option.copy(), expressions=[exp.Literal.number(0), one])
            )
            checks.append((bad_option, "Invalid return_position_after_match."))
        # an empty source has no match, not even an empty one (DuckDB's translation: 1)
        empty = exp.EQ(this=node.this.copy(), expression=exp.Literal.string(""))
        hole = detach(node)
        answer: exp.Expr = exp.Case(
            ifs=[exp.If(this=empty, true=exp.Literal.number(0))], default=node
        )
        for bad, message in reversed(checks):
            answer = guard(answer, bad, message)
        hole.replace(answer)
    return tree


@handles(exp.RegexpExtract)
def regexp_extract_positions(tree: exp.Expr) -> exp.Expr:
    """``REGEXP_EXTRACT(s, re, position, occurrence)`` raises where the position or the
    occurrence is below 1, as GoogleSQL does; a NULL one gives NULL (unguarded)."""
    for node in fresh(tree, exp.RegexpExtract):
        checks = [
            (node.args.get(key), f"{label} must be positive")
            for key, label in (("position", "Position"), ("occurrence", "Occurrence"))
            if node.args.get(key) is not None
        ]
        if not checks:
            continue
        hole = detach(node)
        answer: exp.Expr = node
        for value, message in reversed(checks):  # the position is checked first
            answer = guard(
                answer, exp.LT(this=value.copy(), expression=exp.Literal.number(1)), message
            )
        hole.replace(answer)
    return tree


#: A zone written as a UTC offset (``+12:34``, ``UTC-8``, ``-08``): DuckDB's ICU reads
#: ``UTC+1234`` as ``+12`` and knows no bare offsets. Whole hours after ``UTC`` it reads.
_OFFSET_ZONE = r"^\s*(UTC|utc)?\s*[+-]"
_HOURS_ZONE = r"^(UTC|utc)[+-][0-9]{1,2}(:00)?$"


def _zones(tree: exp.Expr) -> list[exp.Expr]:
    out = []
    for node in tree.walk():
        zone = node.args.get("zone")
        if isinstance(node, exp.Datetime) and isinstance(node.expression, exp.Literal):
            zone = node.expression  # DATETIME(ts, zone) keeps its zone as "expression"
        if isinstance(zone, exp.Expr):
            out.append(zone)
        elif isinstance(node, exp.Anonymous | exp.Func) and (
            str(node.name).lower() == "timezone" and node.expressions
        ):
            out.append(node.expressions[0])
    return out


def offset_zones(tree: exp.Expr) -> exp.Expr:
    """A time zone given as a UTC offset other than ``UTC±H`` is refused (a literal) or
    raises (a value): DuckDB would read another offset or none."""
    for zone in _zones(tree):
        if zone.meta.get(GUARDED) or isinstance(zone, exp.Case):
            continue
        zone.meta[GUARDED] = True
        if zone.is_string:
            text = zone.this
            if re.match(_OFFSET_ZONE, text) and not re.match(_HOURS_ZONE, text):
                raise TranspileError(
                    f"unsupported on DuckDB: the time zone {text!r} (DuckDB reads UTC offsets "
                    "other than 'UTC+H' differently)",
                    hint="name the zone (e.g. 'Asia/Kolkata'), or use --engine bigquery",
                )
            continue
        if zone.find(exp.Column, exp.Parameter, exp.Placeholder) is None:
            continue  # a constant expression of literals: no value to check
        bad = exp.and_(
            exp.RegexpLike(this=zone.copy(), expression=exp.Literal.string(_OFFSET_ZONE)),
            exp.Not(
                this=exp.RegexpLike(this=zone.copy(), expression=exp.Literal.string(_HOURS_ZONE))
            ),
        )
        detach(zone).replace(
            guard(zone, bad, "unsupported on DuckDB: a time zone written as a UTC offset")
        )
    return tree
