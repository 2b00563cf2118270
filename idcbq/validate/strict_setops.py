"""Set operations that match columns by name (``CORRESPONDING``, ``BY NAME``): GoogleSQL's
errors, which DuckDB's ``UNION BY NAME`` (it pads missing columns with NULL) would answer.

Judged where both queries are plain SELECTs whose items are all named or anonymous
expressions (a ``*`` leaves the operation to the analyzer):

- an anonymous column (``SELECT 1, ...``) or a name twice in one query (without a
  ``BY (...)`` list, which ignores the other columns);
- ``CORRESPONDING`` (inner mode) without a column in common, ``BY NAME`` with other
  names on each side, a ``BY (...)`` list naming a column twice or one a query lacks
  (in inner mode; the first query in LEFT mode);
- a common column whose types have no supertype (``INT64`` and ``STRING``).

Example:
    >>> from idcbq.validate import check
    >>> sql = "SELECT 1 AS a UNION ALL CORRESPONDING SELECT 2 AS b"
    >>> str(check(sql, googlesql=False)[1][0]).splitlines()[0]  # doctest: +ELLIPSIS
    '<sql>:1:...: Queries of the set operation using CORRESPONDING do not have any columns in common'
"""

from __future__ import annotations

from sqlglot import exp

from idcbq.validate.type_rules import Add, name_of, supertype_of


def _items(query: exp.Expr) -> list[tuple[str | None, exp.Expr]] | None:
    """``(lowercase name or None if anonymous, value)`` per column; None: not known."""
    while isinstance(query, exp.Subquery):
        query = query.this
    if not isinstance(query, exp.Select) or query.args.get("kind"):
        return None
    out: list[tuple[str | None, exp.Expr]] = []
    for item in query.expressions:
        if isinstance(item, exp.Star) or (isinstance(item, exp.Column) and item.is_star):
            return None
        if isinstance(item, exp.Alias):
            out.append((item.alias.lower(), item.this))
        elif isinstance(item, exp.Column | exp.Dot):
            out.append((item.name.lower(), item))
        else:
            out.append((None, item))
    return out


def check_by_name(node: exp.SetOperation, refuse: Add) -> None:
    """Refuse a CORRESPONDING / BY NAME operation GoogleSQL rejects (see the module)."""
    if not node.args.get("by_name"):
        return
    sides = [_items(node.left), _items(node.right)]
    if sides[0] is None or sides[1] is None:
        return
    mode = "CORRESPONDING" if node.args.get("kind") or node.args.get("side") else "BY NAME"
    word = type(node).__name__.upper()
    by = [c.name.lower() for c in node.args.get("on") or ()]
    for n, items in enumerate(sides, 1):
        if by:
            break  # a BY (...) list: other columns may be anonymous or repeated
        names = [name for name, _ in items]
        if None in names:
            at = names.index(None) + 1
            refuse(
                node,
                f"Anonymous columns are not allowed in set operations when {mode} is used: "
                f"query {n}, column {at}",
            )
            return
        twice = sorted({x for x in names if names.count(x) > 1 and x})
        if twice:
            refuse(node, f"Duplicate columns found when using {mode} in set operations: {twice[0]}")
            return
    left = {k: v for k, v in sides[0] if k}
    right = {k: v for k, v in sides[1] if k}
    side = (node.args.get("side") or "").upper()
    if len(set(by)) != len(by):
        refuse(node, "Duplicate identifiers are not allowed in the CORRESPONDING BY list")
        return
    if by and not side:
        missing = [c for c in by if c not in left or c not in right]
        if missing:
            refuse(node, f"The column name {missing[0]} from the CORRESPONDING BY list is missing")
            return
    if by and side == "LEFT" and any(c not in left for c in by):
        refuse(node, "A LEFT CORRESPONDING BY list names a column the first query lacks")
        return
    common = [c for c in (by or left) if c in left and c in right]
    if not by and not side and mode == "CORRESPONDING" and not common:
        refuse(
            node,
            "Queries of the set operation using CORRESPONDING do not have any columns in common",
        )
        return
    if mode == "BY NAME" and not side and set(left) != set(right):
        refuse(node, "BY NAME requires all input queries to have identical column names")
        return
    for name in common:
        if supertype_of([left[name], right[name]]) is False:
            refuse(
                node,
                f"Column {name} in {word} has incompatible types: "
                f"{name_of(left[name])}, {name_of(right[name])}",
            )
            return
