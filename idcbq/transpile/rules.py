"""Running rule families: each rule declares the node types it acts on (:func:`handles`)
and :func:`run_rules` skips one whose types the tree lacks, so a query is not walked once
per rule; :func:`dup` copies a typed subtree without deep-copying its types.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlglot import exp


def handles(*kinds: type[exp.Expr]) -> Callable:
    """Declare the node types a rule acts on: on a tree with none of them it does nothing,
    so :func:`run_rules` skips it without walking the tree.

    Example:
        >>> @handles(exp.Upper)
        ... def shout(tree):
        ...     return tree
        >>> shout.handles == (exp.Upper,)
        True
    """

    def declare(rule: Callable) -> Callable:
        rule.handles = kinds
        return rule

    return declare


def run_rules(tree: exp.Expr, rules: Sequence[Callable[[exp.Expr], exp.Expr]]) -> exp.Expr:
    """Run ``rules`` in order, skipping one declared with :func:`handles` when none of its
    node types is in the tree as it is then: the same tree as running them all, with
    fewer walks.

    The node types seen are kept as the rules run (a rule that finds none of its types
    does nothing, so a type seen but since removed only costs that rule's walk); the
    tree is walked again only before skipping a rule after another rule ran, since that
    rule may have added a node of its types.
    """
    seen = _kinds(tree)
    changed = False
    for rule in rules:
        wanted = getattr(rule, "handles", None)
        if wanted is not None and seen.isdisjoint(wanted):
            if not changed:
                continue
            seen |= _kinds(tree)
            changed = False
            if seen.isdisjoint(wanted):
                continue
        tree = rule(tree)
        changed = True
    return tree


def _kinds(tree: exp.Expr) -> set[type]:
    """The node types in ``tree`` and their base classes (``handles`` may name a base)."""
    return {base for kind in {type(node) for node in tree.walk()} for base in kind.__mro__}


def dup(node: exp.Expr) -> exp.Expr:
    """A copy of ``node`` that shares its nodes' types (never mutated) and copies their
    ``meta`` flags shallowly. ``node.copy()`` deep-copies both, and a column of nested
    STRUCTs carries a large type: on a typed query this copy is several times faster.

    Example:
        >>> import sqlglot
        >>> x = sqlglot.parse_one("a + 1")
        >>> x.type = exp.DataType.build("BIGINT")
        >>> y = dup(x)
        >>> y.sql(), y is x, y.type is x.type
        ('a + 1', False, True)
    """
    parts = list(node.walk())
    saved = [(part._type, part._meta) for part in parts]
    for part in parts:
        part._type = part._meta = None
    try:
        twin = node.copy()
    finally:
        for part, (kind, meta) in zip(parts, saved, strict=True):
            part._type, part._meta = kind, meta
    for part, (kind, meta) in zip(twin.walk(), saved, strict=True):
        if kind is not None:
            part._type = kind
        if meta is not None:
            part._meta = dict(meta)
    return twin


def run_triggered(
    tree: exp.Expr,
    rewrites: Sequence[tuple[Callable[[exp.Expr], exp.Expr], tuple[type[exp.Expr], ...]]],
) -> exp.Expr:
    """Run each ``(rewrite, node types)`` pair whose node types occur in ``tree`` (one walk)."""
    kinds = {type(node) for node in tree.walk()}
    for rewrite, triggers in rewrites:
        if any(issubclass(kind, triggers) for kind in kinds):
            tree = rewrite(tree)
    return tree
