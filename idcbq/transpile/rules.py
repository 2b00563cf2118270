"""Running rule families: each rule declares the node types it acts on (:func:`handles`)
and :func:`run_rules` skips one whose types the tree lacks, so a query is not walked once
per rule; :func:`dup` copies a typed subtree without deep-copying its types.

A step that ran but changed nothing keeps the node types seen: sqlglot clears a node's
cached hash, and its ancestors', whenever ``set``/``append`` (so ``replace``) edits it,
so a root whose hash is still cached after the step is the tree as it was walked. A rule
that edits ``args`` in place instead says so with :func:`touched`.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import NamedTuple

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


def inspects(rule: Callable) -> Callable:
    """Declare that a rule only reads the tree (it may raise, or note something in a
    node's ``meta``): the node types seen before it still hold after it, so
    :func:`run_steps` walks no more for it.

    Example:
        >>> @inspects
        ... def refuse_nothing(tree):
        ...     return tree
        >>> refuse_nothing.inspects
        True
    """
    rule.inspects = True
    return rule


def run_rules(tree: exp.Expr, rules: Sequence[Callable[[exp.Expr], exp.Expr]]) -> exp.Expr:
    """Run ``rules`` in order, skipping one declared with :func:`handles` when none of its
    node types is in the tree as it is then: the same tree as running them all, with
    fewer walks (see :func:`run_steps`, which this is).
    """
    return run_steps(tree, rules)


class Triggered(NamedTuple):
    """``(rewrite, node types)`` pairs run as :func:`run_triggered` runs them: each whose
    node types occur in the tree as the group starts."""

    rewrites: Sequence[tuple[Callable[[exp.Expr], exp.Expr], tuple[type[exp.Expr], ...]]]


def run_steps(
    tree: exp.Expr, steps: Sequence[Callable[[exp.Expr], exp.Expr] | Triggered]
) -> exp.Expr:
    """Run ``steps`` in order: a rule declared with :func:`handles` is skipped when none
    of its node types is in the tree; a :class:`Triggered` group as :func:`run_triggered`
    runs it; any other step always runs.

    The node types last seen are kept across the steps: the tree is walked again only
    to skip a rule after a step ran (it may have added a node of the rule's types), or
    at the start of a group after a step ran. A rule whose types were seen runs without
    a walk (if they are gone since, it finds none and does nothing).

    Example:
        >>> import sqlglot
        >>> @handles(exp.Upper)
        ... def lower_all(tree):
        ...     for node in list(tree.find_all(exp.Upper)):
        ...         node.replace(exp.Lower(this=node.this))
        ...     return tree
        >>> run_steps(sqlglot.parse_one("SELECT UPPER(a)"), [lower_all]).sql()
        'SELECT LOWER(a)'
    """
    seen: set[type] | None = None  # the node types (and bases) of the tree when last walked
    fresh = False  # the tree is as last walked (no step changed it since)
    for step in steps:
        if isinstance(step, Triggered):
            if not fresh:
                seen, fresh = _kinds(tree), True
            present = seen
            for rewrite, triggers in step.rewrites:
                if not present.isdisjoint(triggers):
                    tree, fresh = _ran(rewrite, tree, fresh, seen)
            continue
        wanted = getattr(step, "handles", None)
        if wanted is not None:
            if seen is None or (not fresh and seen.isdisjoint(wanted)):
                seen, fresh = _kinds(tree), True
            if seen.isdisjoint(wanted):
                continue
        tree, fresh = _ran(step, tree, fresh, seen)
    return tree


def _ran(step: Callable[[exp.Expr], exp.Expr], tree: exp.Expr, fresh: bool, seen) -> tuple:
    """Run ``step``: the tree it returns, and whether that is still the tree last walked
    (it only inspects, or it returned the same root with its hash still cached)."""
    out = step(tree)
    if not fresh or getattr(step, "inspects", False):
        return out, fresh
    same = out is tree and tree._hash is not None
    if same and _CHECK:
        _check_unchanged(step, tree, seen)
    return out, same


def _kinds(tree: exp.Expr) -> set[type]:
    """The node types in ``tree`` and their base classes (``handles`` may name a base);
    the tree's hash is cached too (see the module's note)."""
    kinds = {base for kind in {type(node) for node in tree.walk()} for base in kind.__mro__}
    # only nodes without a cached hash are hashed; an argument that cannot be hashed
    # leaves the root's unset: every step then counts as a change
    with contextlib.suppress(TypeError):
        hash(tree)
    return kinds


def touched(node: exp.Expr) -> None:
    """Say that ``node`` changed though no ``set``/``append`` edited it (a rule wrote its
    ``args`` in place): its cached hash and its ancestors' are dropped, as sqlglot's
    ``set`` drops them, so :func:`run_steps` walks the tree again.

    Example:
        >>> import sqlglot
        >>> tree = sqlglot.parse_one("SELECT a, b")
        >>> _ = hash(tree)
        >>> tree.expressions[0] = exp.column("c")
        >>> touched(tree)
        >>> tree._hash is None
        True
    """
    while node is not None and node._hash is not None:
        node._hash = None
        node = node.parent


#: Check each step counted as unchanged against a fresh walk and hash (tests set it;
#: also ``IDCBQ_CHECK_RULE_STAMPS=1``).
_CHECK = os.environ.get("IDCBQ_CHECK_RULE_STAMPS", "") == "1"


def _check_unchanged(step: Callable, tree: exp.Expr, seen) -> None:
    stamped = tree._hash
    for node in tree.walk():
        node._hash = None
    kinds = _kinds(tree)
    if hash(tree) != stamped or kinds != seen:
        name = getattr(step, "__qualname__", repr(step))
        raise AssertionError(f"rule {name} changed the tree without set/append/touched")


def datatype(text: str, dialect: str | None = None) -> exp.DataType:
    """``exp.DataType.build(text, dialect=dialect)``, parsed once per process: each call
    gets its own copy (a node has one parent). Building from text parses it (~14 us), a
    copy of the parsed type takes a tenth of that; a rewrite casts many nodes.

    Example:
        >>> datatype("DOUBLE").sql(), datatype("DOUBLE") is datatype("DOUBLE")
        ('DOUBLE', False)
    """
    return _parsed_type(text, dialect).copy()


@lru_cache(maxsize=128)
def _parsed_type(text: str, dialect: str | None) -> exp.DataType:
    return exp.DataType.build(text, dialect=dialect)


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
    return run_steps(tree, (Triggered(rewrites),))
