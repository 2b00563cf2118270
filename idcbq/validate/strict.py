"""The strict BigQuery layer: refuse what is not BigQuery, with nothing extra installed.

sqlglot's BigQuery parser accepts syntax BigQuery does not (it reads many dialects'
idioms). This layer walks the tokens of the rendered SQL and refuses, at the
template's file:line:col:

- operators and clauses BigQuery lacks: ``%``, ``::``, ``ILIKE``, ``FILTER (WHERE ...)``,
  ``NATURAL JOIN``, ``LIKE ... ESCAPE``, ``OFFSET`` without ``LIMIT``, ``==``, ``->``;
- type names BigQuery lacks in ``CAST``/``SAFE_CAST`` (``VARCHAR``, ``TEXT``, ``FLOAT``, ...);
- functions that are not BigQuery's (``LEN``, ``SPLIT_PART``, ...), with "did you mean"
  from the function table (``idcbq/data/bigquery_functions.json``, generated from
  GoogleSQL's builtin catalog by ``python -m idcbq.scripts.bigquery_functions``), and
  calls with the wrong number of arguments;
- other dialects' clauses (``* EXCLUDE``, ``DISTINCT ON``, ``BETWEEN SYMMETRIC``,
  ``FETCH FIRST``, ``{'k': v}`` literals, ``SAFE.CAST``, a fractional ``LIMIT``);
- duplicate column names in the result.

Where GoogleSQL's analyzer does not run, :mod:`idcbq.validate.strict_types` then
refuses what is certainly badly typed.

Example:
    >>> from idcbq.validate import check
    >>> _, problems = check("SELECT LEN(Modality) FROM dicom_all", googlesql=False)
    >>> str(problems[0]).splitlines()[0]
    '<sql>:1:8: LEN is not a BigQuery function'
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

from idcbq.errors import ValidationError

if TYPE_CHECKING:
    from sqlglot import exp

    from idcbq.templates.locations import LocationMap

#: Type names BigQuery accepts (docs: data-types, "parameterized" and alias names).
BIGQUERY_TYPES = frozenset(
    [
        "INT64",
        "INT",
        "SMALLINT",
        "INTEGER",
        "BIGINT",
        "TINYINT",
        "BYTEINT",
        "NUMERIC",
        "DECIMAL",
        "BIGNUMERIC",
        "BIGDECIMAL",
        "FLOAT64",
        "BOOL",
        "BOOLEAN",  # GoogleSQL's alias of BOOL (its analyzer accepts it)
        "STRING",
        "BYTES",
        "DATE",
        "DATETIME",
        "TIME",
        "TIMESTAMP",
        "INTERVAL",
        "GEOGRAPHY",
        "JSON",
        "ARRAY",
        "STRUCT",
        "RANGE",
    ]
)
#: Hints for common functions of other dialects.
HINTS = {
    "len": "LENGTH",
    "split_part": "SPLIT(text, delimiter)[SAFE_OFFSET(n - 1)]",
    "nvl": "IFNULL",
    "isnull": "IFNULL",
    "charindex": "STRPOS",
    "position": "STRPOS",
    "now": "CURRENT_TIMESTAMP",
    "getdate": "CURRENT_TIMESTAMP",
    "dateadd": "DATE_ADD",
    "datediff": "DATE_DIFF",
    "to_char": "FORMAT_DATE / FORMAT_TIMESTAMP",
    "to_date": "PARSE_DATE",
    "listagg": "STRING_AGG",
    "group_concat": "STRING_AGG",
    "array_join": "ARRAY_TO_STRING",
    "lcase": "LOWER",
    "ucase": "UPPER",
    "ceiling": "CEIL",
    "list": "ARRAY_AGG",
    "regexp_matches": "REGEXP_CONTAINS",
    "regexp_like": "REGEXP_CONTAINS",
    "strftime": "FORMAT_TIMESTAMP",
    "strptime": "PARSE_TIMESTAMP",
    "cardinality": "ARRAY_LENGTH",
    "count_if": "COUNTIF",
    "median": "APPROX_QUANTILES(x, 2)[OFFSET(1)] or PERCENTILE_CONT(x, 0.5) OVER ()",
}
#: Words followed by "(" that are syntax, not function calls.
_SYNTAX = frozenset(
    [
        "cast",
        "safe_cast",
        "extract",
        "array",
        "struct",
        "unnest",
        "exists",
        "in",
        "any",
        "some",
        "all",
        "over",
        "values",
        "rollup",
        "cube",
        "sets",
        "system",
        "bernoulli",
        "options",
        "using",
        "interval",
        "range",
        "window",
        "as",
        "with",
        "except",
        "corresponding",  # UNION ALL CORRESPONDING (SELECT ...)
        "replace",
        "distinct",
        "filter",
        "by",
        "on",
        "partition",
        "week",
        "offset",
        "ordinal",
        "safe_offset",
        "safe_ordinal",
    ]
)
_GENERIC = ("STRUCT", "ARRAY", "RANGE")
_TYPE_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789_"


@cache
def function_table() -> dict[str, dict[str, Any]]:
    """``{lowercase name: {"arity": [[min, max|None], ...], "kind": ...}}``."""
    from importlib import resources

    path = resources.files("idcbq").joinpath("data", "bigquery_functions.json")
    return json.loads(path.read_text(encoding="utf-8"))["functions"]


@cache
def _namespaces() -> frozenset[str]:
    return frozenset(n.split(".")[0] for n in function_table() if "." in n)


def check_strict(
    tree: exp.Expression, sql: str, lmap: LocationMap, add: Callable[[ValidationError], None]
) -> None:
    """Report every non-BigQuery construct of ``sql`` (tokens) and ``tree`` (result names)."""
    from idcbq.validate.statements import tokens_of

    tokens = tokens_of(sql)  # shared with the call families' check
    scan = _Scan(tokens, sql, lmap, add)
    scan.run()
    from idcbq.validate.strict_tokens import check_tokens

    check_tokens(scan, len(tokens))
    from idcbq.validate.strict_lexical import check_lexical

    check_lexical(scan, len(tokens))
    from idcbq.validate.result_names import duplicate_names

    duplicate_names(tree, sql, lmap, add)


class _Scan:
    def __init__(self, tokens: Sequence[Any], sql: str, lmap: LocationMap, add: Callable) -> None:
        self.t = tokens
        self.sql = sql
        self.lmap = lmap
        self.add = add

    def refuse(self, i: int, message: str, hint: str | None = None) -> None:
        tok = self.t[i]
        loc = self.lmap.locate_offset(self.sql, tok.start, token=self.sql[tok.start : tok.end + 1])
        self.add(ValidationError(message, location=loc, hint=hint))

    def kind(self, i: int) -> str:
        return self.t[i].token_type.name if 0 <= i < len(self.t) else ""

    def text(self, i: int) -> str:
        return self.t[i].text if 0 <= i < len(self.t) else ""

    def raw(self, i: int) -> str:
        """The token's source text (a string's quotes, prefix and escapes as written)."""
        tok = self.t[i]
        return self.sql[tok.start : tok.end + 1]

    def run(self) -> None:
        depth = 0
        limit_seen: dict[int, bool] = {}
        casts: list[int] = []  # paren depths of open CAST( / SAFE_CAST(
        for i, tok in enumerate(self.t):
            k = tok.token_type.name
            if k == "L_PAREN":
                depth += 1
                continue
            if k == "R_PAREN":
                if casts and casts[-1] == depth:
                    casts.pop()
                limit_seen.pop(depth, None)
                depth -= 1
                continue
            if k == "SELECT":
                limit_seen[depth] = False
            elif k == "LIMIT":
                limit_seen[depth] = True
            self._operator(i, k)
            clause = self.kind(i + 1) in ("NUMBER", "PARAMETER", "SESSION_PARAMETER")
            if k == "OFFSET" and clause and not limit_seen.get(depth, False):
                self.refuse(
                    i,
                    "OFFSET without LIMIT is not BigQuery",
                    hint="add LIMIT n before OFFSET (BigQuery's syntax: LIMIT n OFFSET m)",
                )
            if k == "ALIAS" and casts and casts[-1] == depth:
                self._cast_type(i + 1)
            if self.kind(i + 1) == "L_PAREN":
                name = tok.text.lower()
                if name in ("cast", "safe_cast"):
                    casts.append(depth + 1)
                    if self.kind(i - 1) == "DOT" and self.text(i - 2).lower() == "safe":
                        self.refuse(
                            i - 2, "the SAFE. prefix does not apply to CAST", hint="use SAFE_CAST"
                        )
                elif (k == "VAR" or name in function_table()) and not (
                    self._star_modifier(i) or self._unpivot_nulls(i)
                ):
                    self._call(i, name)

    def _unpivot_nulls(self, i: int) -> bool:
        """``UNPIVOT INCLUDE NULLS (...)`` / ``EXCLUDE NULLS``: syntax, not a call."""
        return self.text(i).upper() == "NULLS" and self.text(i - 1).upper() in (
            "INCLUDE",
            "EXCLUDE",
        )

    def _star_modifier(self, i: int) -> bool:
        """``* REPLACE (...)`` / ``* EXCEPT (...) REPLACE (...)``: syntax, not a call."""
        if self.kind(i - 1) == "STAR":
            return True
        if self.kind(i - 1) != "R_PAREN":
            return False
        depth, j = 0, i - 1
        while j >= 0:  # back to the "(" that closes at i - 1
            depth += {"R_PAREN": 1, "L_PAREN": -1}.get(self.kind(j), 0)
            if depth == 0:
                break
            j -= 1
        return self.kind(j - 1) == "EXCEPT" and self.kind(j - 2) == "STAR"

    def _operator(self, i: int, k: str) -> None:
        text = self.text(i)
        if k == "MOD" and text == "%":
            self.refuse(i, "% is not a BigQuery operator", hint="use MOD(x, y)")
        elif k == "DCOLON":
            self.refuse(i, ":: casts are not BigQuery", hint="use CAST(x AS type)")
        elif k == "ILIKE":
            self.refuse(i, "ILIKE is not BigQuery", hint="use LOWER(x) LIKE LOWER(pattern)")
        elif k == "NATURAL":
            self.refuse(i, "NATURAL JOIN is not BigQuery", hint="join with USING (columns)")
        elif k == "ESCAPE":
            self.refuse(
                i,
                "LIKE ... ESCAPE is not BigQuery",
                hint="BigQuery's escape character in LIKE patterns is always the backslash",
            )
        elif k == "FILTER" and self.kind(i + 1) == "L_PAREN":
            self.refuse(
                i,
                "aggregate FILTER (WHERE ...) is not BigQuery",
                hint="use COUNTIF(cond) or an aggregate of IF(cond, x, NULL)",
            )
        elif k in ("SIMILAR_TO", "RLIKE"):
            self.refuse(i, f"{text.upper()} is not BigQuery", hint="use REGEXP_CONTAINS(x, r'...')")
        elif text in ("==", "->", "->>", "@>", "<@", "&&", "**", "//", "!~", "~~", "!~~"):
            self.refuse(i, f"operator {text} is not BigQuery")
        else:
            self._clause(i, k, text.upper())

    def _clause(self, i: int, k: str, word: str) -> None:
        """Other dialects' clauses sqlglot's BigQuery parser reads."""
        after = self.text(i + 1).upper()
        if k == "VAR" and word == "EXCLUDE" and self.kind(i - 1) == "STAR":
            self.refuse(i, "* EXCLUDE (...) is not BigQuery", hint="use * EXCEPT (columns)")
        elif k == "DISTINCT" and self.kind(i + 1) == "ON":
            self.refuse(
                i,
                "DISTINCT ON is not BigQuery",
                hint="keep one row per key with QUALIFY ROW_NUMBER() OVER (PARTITION BY key ...) = 1",
            )
        elif k == "BETWEEN" and after in ("SYMMETRIC", "ASYMMETRIC"):
            self.refuse(i, f"BETWEEN {after} is not BigQuery", hint="order the bounds yourself")
        elif k == "FETCH":
            self.refuse(i, "FETCH FIRST/NEXT is not BigQuery", hint="use LIMIT n")
        elif k == "L_BRACE" and self.kind(i + 1) == "STRING" and self.kind(i + 2) == "COLON":
            self.refuse(
                i,
                "{'key': value} struct literals are not BigQuery",
                hint="use STRUCT(value AS key)",
            )
        elif k == "LIMIT" and self.kind(i + 1) == "NUMBER" and not _integral(after):
            self.refuse(i, f"LIMIT expects an integer, got {after}")
        elif k == "LIMIT" and self.kind(i + 2) == "COMMA" and self.kind(i + 3) == "NUMBER":
            self.refuse(
                i, "LIMIT offset, count is not BigQuery", hint="use LIMIT count OFFSET offset"
            )

    def _cast_type(self, i: int) -> None:
        name = self.text(i).upper()
        if not name or not all(c in _TYPE_CHARS for c in name.lower()):
            return
        if name not in BIGQUERY_TYPES:
            hint = {
                "VARCHAR": "STRING",
                "TEXT": "STRING",
                "CHAR": "STRING",
                "FLOAT": "FLOAT64",
                "DOUBLE": "FLOAT64",
                "REAL": "FLOAT64",
                "BLOB": "BYTES",
            }.get(name)
            self.refuse(
                i, f"type {name} is not a BigQuery type", hint=f"use {hint}" if hint else None
            )

    def _call(self, i: int, name: str) -> None:
        table = function_table()
        full, start = name, i
        # Dotted names: SAFE.f(...), NET.HOST(...), a UDF project.dataset.f(...)
        j = i
        while self.kind(j - 1) == "DOT" and self.kind(j - 2) in ("VAR", "IDENTIFIER"):
            j -= 2
            full = f"{self.text(j).lower()}.{full}"
            start = j
        parts = full.split(".")
        if parts[0] == "safe" and len(parts) == 2:
            full = parts[1]
        elif len(parts) > 1 and parts[0] not in _namespaces():
            return  # a user's function: the analyzer (or BigQuery) judges it
        if full in _SYNTAX and full not in table:
            return
        entry = table.get(full)
        if entry is None:
            hint = HINTS.get(full)
            if hint is None:
                close = difflib.get_close_matches(full, table, n=1, cutoff=0.75)
                hint = close[0].upper() if close else None
            self.refuse(
                start,
                f"{full.upper()} is not a BigQuery function",
                hint=f"did you mean {hint}?" if hint else None,
            )
            return
        counted = self._argc(i + 1)
        if counted is None:
            return
        got, intervals = counted
        arities = entry["arity"]
        # The catalog counts INTERVAL n DAY as two arguments (n, DAY).
        fits = [
            n
            for n in {got, got + intervals}
            if any(lo <= n and (hi is None or n <= hi) for lo, hi in arities)
        ]
        if full in ("lead", "lag") and got == 3:
            self._constant_default(start, i + 1, full)
        if not fits:
            self.refuse(
                start,
                f"{full.upper()} takes {_describe(arities)} argument(s), got {got}",
            )

    def _constant_default(self, start: int, open_index: int, name: str) -> None:
        """LEAD/LAG's default (third argument) must be a constant (BigQuery)."""
        depth, commas = 0, 0
        for k in range(open_index, len(self.t)):
            kind = self.kind(k)
            if kind in ("L_PAREN", "L_BRACKET"):
                depth += 1
            elif kind in ("R_PAREN", "R_BRACKET"):
                depth -= 1
                if depth == 0:
                    return
            elif kind == "COMMA" and depth == 1:
                commas += 1
            elif commas == 2 and kind in ("VAR", "IDENTIFIER") and self.kind(k + 1) != "L_PAREN":
                self.refuse(
                    start,
                    f"{name.upper()}'s default value must be a constant",
                    hint="a literal or a query parameter",
                )
                return

    def _argc(self, open_index: int) -> tuple[int, int] | None:
        """(arguments, INTERVALs) of the call whose "(" is at ``open_index`` (None: unknown)."""
        depth, count, any_token, intervals = 0, 0, False, 0
        for k in range(open_index, len(self.t)):
            kind = self.kind(k)
            if kind in ("L_BRACKET", "L_BRACE"):
                depth += 1
            elif kind in ("R_BRACKET", "R_BRACE"):
                depth -= 1
            elif depth == 1 and self.kind(k + 1) == "LT" and self.text(k).upper() in _GENERIC:
                return None  # STRUCT<a T, b U>(...): commas inside the type
            elif kind == "L_PAREN":
                depth += 1
                if depth == 1:
                    continue
            elif kind == "R_PAREN":
                depth -= 1
                if depth == 0:
                    return (count + 1 if any_token else 0), intervals
            if depth == 1:
                if kind in ("ORDER_BY", "ORDER", "LIMIT", "HAVING", "IGNORE", "RESPECT"):
                    return (count + 1 if any_token else 0), intervals
                if self.text(k).upper() in ("IGNORE", "RESPECT", "HAVING"):
                    return (count + 1 if any_token else 0), intervals
                if kind == "INTERVAL":
                    intervals += 1
                if kind in ("FROM", "FARROW") or self.text(k) == "=>":
                    return None  # special or named-argument syntax
                if kind == "COMMA":
                    count += 1
                    continue
            any_token = True
        return None


def _integral(number: str) -> bool:
    """True for an integer literal's text (decimal or hexadecimal)."""
    return number.isdigit() or number.startswith("0X")


def _describe(arities: list[list[int | None]]) -> str:
    lo = min(a[0] for a in arities)
    his = [a[1] for a in arities]
    hi = None if any(h is None for h in his) else max(h for h in his if h is not None)
    if hi is None:
        return f"at least {lo}"
    return f"{lo}" if lo == hi else f"{lo} to {hi}"
