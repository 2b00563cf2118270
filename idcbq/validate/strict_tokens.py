"""Token shapes the strict layer refuses that sqlglot's parser forgives or rewrites.

sqlglot reads these, so the tree no longer shows the mistake; the tokens still do:

- different set operations (``UNION ALL`` then ``INTERSECT DISTINCT``, ``UNION ALL``
  then ``UNION DISTINCT``, different modes) in one query level without parentheses:
  sqlglot nests them by precedence, GoogleSQL refuses;
- ``INTERVAL '1 day'``: GoogleSQL's interval literal names its part after the string
  (``INTERVAL '1' DAY``); sqlglot splits the string;
- DuckDB's FROM-first query (``FROM t SELECT x``): GoogleSQL reads FROM-first only as
  pipe syntax (``FROM t |> SELECT x``);
- ORDER BY or LIMIT in a set operation's branch without parentheses (sqlglot moves it
  to the whole operation);
- other dialects' array slices (``a[1:2]``), ``WITH ORDINALITY`` (read as WITH
  OFFSET) and ``DATE_TRUNC('month', d)`` (sqlglot drops ``d``).

Example:
    >>> from idcbq.validate import check
    >>> _, problems = check("SELECT 1 UNION ALL SELECT 2 UNION DISTINCT SELECT 3", googlesql=False)
    >>> str(problems[0]).splitlines()[0]
    '<sql>:1:29: Different set operations cannot be used in the same query without parentheses'
"""

from __future__ import annotations

from typing import Protocol

#: Parts an interval literal may name (GoogleSQL's datetime parts of INTERVAL).
_PARTS = frozenset(
    [
        "YEAR",
        "QUARTER",
        "MONTH",
        "WEEK",
        "DAY",
        "HOUR",
        "MINUTE",
        "SECOND",
        "MILLISECOND",
        "MICROSECOND",
    ]
)
_TRUNCS = frozenset(["DATE_TRUNC", "DATETIME_TRUNC", "TIMESTAMP_TRUNC", "TIME_TRUNC"])
_MODES = frozenset(["FULL", "LEFT", "INNER", "OUTER"])
_AFTER = frozenset(["ALL", "DISTINCT", "STRICT", "CORRESPONDING"])


class _Tokens(Protocol):
    def kind(self, i: int) -> str: ...

    def text(self, i: int) -> str: ...

    def refuse(self, i: int, message: str, hint: str | None = None) -> None: ...


def check_tokens(scan: _Tokens, count: int) -> None:
    """One pass over ``count`` tokens of ``scan`` (the strict layer's token scanner)."""
    groups: list[dict] = [_group(False)]
    for i in range(count):
        k = scan.kind(i)
        if k in ("L_PAREN", "L_BRACKET"):
            groups.append(_group(k == "L_BRACKET"))
            continue
        if k in ("R_PAREN", "R_BRACKET"):
            if len(groups) > 1:
                groups.pop()
            continue
        group = groups[-1]
        if k == "PIPE_GT":
            group["pipe"] = True
        elif k in ("ORDER_BY", "LIMIT") or (k == "ORDER" and scan.kind(i + 1) == "BY"):
            group["tail"] = group["tail"] or i
        elif k == "COLON" and group["bracket"]:
            scan.refuse(i, "array slices a[i:j] are not BigQuery", hint="use ARRAY(SELECT ...)")
        elif (
            scan.text(i).upper() in _TRUNCS
            and scan.kind(i + 1) == "L_PAREN"
            and scan.kind(i + 2) == "STRING"
            and scan.text(i + 2).upper() in _PARTS
            and scan.kind(i + 3) == "COMMA"
        ):
            scan.refuse(
                i + 2,
                f"A valid date part name is required: {scan.text(i).upper()}'s part comes "
                "second, unquoted",
                hint=f"{scan.text(i).upper()}(value, {scan.text(i + 2).upper()})",
            )
        elif k == "WITH" and scan.text(i + 1).upper() == "ORDINALITY":
            scan.refuse(i, "WITH ORDINALITY is not BigQuery", hint="use WITH OFFSET")
        elif k == "INTERVAL" and scan.kind(i + 1) == "STRING":
            if scan.text(i + 2).upper() not in _PARTS:
                scan.refuse(
                    i,
                    "an INTERVAL literal names its date part after the string",
                    hint="write INTERVAL '1' DAY (or INTERVAL 1 DAY)",
                )
        elif k == "FROM" and scan.kind(i - 1) in ("", "L_PAREN"):
            group["from_first"] = i
        elif k == "SELECT" and group["from_first"] is not None and not group["pipe"]:
            scan.refuse(
                group["from_first"],
                "a query that starts with FROM is not followed by SELECT in BigQuery",
                hint="write SELECT ... FROM ... (or pipe syntax: FROM t |> SELECT ...)",
            )
            group["from_first"] = None
        elif _set_operation(scan, i, k):
            if group["tail"] is not None and not group["pipe"]:
                scan.refuse(
                    group["tail"],
                    f"{scan.text(group['tail']).upper()} before {scan.text(i).upper()} needs "
                    "parentheses around its branch",
                    hint="(SELECT ... ORDER BY ... LIMIT n) UNION ALL (SELECT ...)",
                )
                group["tail"] = None
            kind = _signature(scan, i)
            if group["ops"] is None:
                group["ops"] = kind
            elif group["ops"] != kind and not group["pipe"]:
                scan.refuse(
                    i,
                    "Different set operations cannot be used in the same query without parentheses",
                    hint=f"put parentheses around the {group['ops']} part or the {kind} part",
                )
                group["ops"] = kind


def _group(bracket: bool) -> dict:
    """What one parenthesized (or bracketed) level has seen so far."""
    return {"ops": None, "from_first": None, "pipe": False, "tail": None, "bracket": bracket}


def _set_operation(scan: _Tokens, i: int, k: str) -> bool:
    if k in ("UNION", "INTERSECT"):
        return True
    # EXCEPT DISTINCT/ALL is the set operation; * EXCEPT (...) is not
    return k == "EXCEPT" and scan.kind(i + 1) in ("ALL", "DISTINCT")


def _signature(scan: _Tokens, i: int) -> str:
    """``FULL OUTER UNION ALL CORRESPONDING``: the operation with its modifiers."""
    words = [scan.text(i).upper()]
    j = i - 1
    while scan.text(j).upper() in _MODES and scan.kind(j) != "STRING":
        words.insert(0, scan.text(j).upper())
        j -= 1
    j = i + 1
    while scan.text(j).upper() in _AFTER and scan.kind(j) != "STRING":
        words.append(scan.text(j).upper())
        j += 1
    return " ".join(words)
