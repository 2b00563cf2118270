"""Pattern errors GoogleSQL raises and DuckDB answers past.

- ``like_trailing_backslash``: a LIKE pattern ending in an unpaired backslash. GoogleSQL
  raises "LIKE pattern ends with a backslash" for a literal pattern even on no rows (it
  checks the pattern once), so a literal one is refused here; a computed one raises
  where a row's pattern ends so. DuckDB's ``ESCAPE '\\'`` just never matches.
- ``regexp_replace_rewrite``: a ``REGEXP_REPLACE`` replacement that asks for a group the
  pattern lacks (``\\2`` with one group) or has a backslash before anything but a digit
  or a backslash. GoogleSQL raises on each non-NULL row; DuckDB (RE2's GlobalReplace)
  returns the input unchanged or drops the backslash.

Example:
    >>> rewrite_ok(r"\\1-\\0\\\\", 1), rewrite_ok(r"\\2", 1), rewrite_ok(r"\\q", 3)
    (True, False, False)
"""

from __future__ import annotations

import re

from sqlglot import exp

from idcbq.errors import TranspileError
from idcbq.transpile.errors_guards import duck_call, fresh, guard
from idcbq.transpile.errors_text import capturing_groups
from idcbq.transpile.rewrites import detach
from idcbq.transpile.rules import handles

_LIKE_MESSAGE = "LIKE pattern ends with a backslash"
#: Text ending in an odd run of backslashes (DuckDB regexp, read as RE2).
_ODD_TRAILING = r"(^|[^\\])(\\\\)*\\$"
_REWRITE_MESSAGE = "Invalid REGEXP_REPLACE pattern: bad rewrite string for the pattern's groups"


def _literal_text(node: exp.Expr) -> str | None:
    if isinstance(node, exp.RawString) or (isinstance(node, exp.Literal) and node.is_string):
        return node.this
    return None


def _odd_trailing(text: str) -> bool:
    return (len(text) - len(text.rstrip("\\"))) % 2 == 1


def _valid_rewrite(groups: int) -> str:
    """An RE2 regexp matching the replacement strings valid for ``groups`` groups."""
    top = min(groups, 9)
    return rf"^([^\\]|\\[0-{top}\\])*$"


def rewrite_ok(replacement: str, groups: int) -> bool:
    """Whether GoogleSQL accepts ``replacement`` for a pattern of ``groups`` groups."""
    return re.fullmatch(_valid_rewrite(groups), replacement, flags=re.DOTALL) is not None


@handles(exp.Like)
def like_trailing_backslash(tree: exp.Expr) -> exp.Expr:
    """Refuse a literal LIKE pattern ending in an unpaired backslash; guard a computed one."""
    for like in fresh(tree, exp.Like, key="idcbq_like_backslash"):
        pattern = like.expression
        patterns = pattern.expressions if isinstance(pattern, exp.Tuple) else [pattern]
        if isinstance(pattern, (exp.Any, exp.All)):
            inner = pattern.this
            patterns = inner.expressions if isinstance(inner, exp.Tuple) else [inner]
        texts = [_literal_text(p) for p in patterns]
        if any(t is not None and _odd_trailing(t) for t in texts):
            raise TranspileError(_LIKE_MESSAGE + " (BigQuery raises)")
        if len(patterns) != 1 or texts[0] is not None or pattern is not patterns[0]:
            continue  # literals checked; a computed pattern inside ANY/ALL stays as is
        bad = duck_call("regexp_matches", pattern.copy(), exp.Literal.string(_ODD_TRAILING))
        target = like.parent if isinstance(like.parent, exp.Escape) else like
        hole = detach(target)
        hole.replace(guard(target, bad, _LIKE_MESSAGE))
    return tree


@handles(exp.RegexpReplace)
def regexp_replace_rewrite(tree: exp.Expr) -> exp.Expr:
    """Raise where GoogleSQL rejects the replacement; refuse what cannot be checked."""
    for node in fresh(tree, exp.RegexpReplace, key="idcbq_rewrite_checked"):
        replacement = node.args.get("replacement")
        if replacement is None:
            continue
        pattern = _literal_text(node.expression)
        text = _literal_text(replacement)
        if pattern is None:
            if text is not None and rewrite_ok(text, 0):
                continue  # no group asked for: valid whatever the pattern
            raise TranspileError(
                "unsupported on DuckDB: REGEXP_REPLACE with a computed pattern and a "
                "replacement that may name a group (BigQuery checks it against the "
                "pattern's groups)",
                hint="write the pattern as a literal, or use --engine bigquery",
            )
        groups = capturing_groups(pattern)
        if text is not None:
            if rewrite_ok(text, groups):
                continue
            bad: exp.Expr = exp.Not(this=exp.Is(this=node.this.copy(), expression=exp.null()))
        else:
            valid = duck_call(
                "regexp_full_match", replacement.copy(), exp.Literal.string(_valid_rewrite(groups))
            )
            bad = exp.and_(
                exp.Not(this=exp.Is(this=node.this.copy(), expression=exp.null())),
                exp.Not(this=valid),
                copy=False,
            )
        detach(node).replace(guard(node, bad, _REWRITE_MESSAGE))
    return tree
