"""Type annotation against the IDC schema, on a copy so the query text is untouched.

``qualify`` lowercases and quotes identifiers and expands stars; that must not leak
into the SQL we run. So we annotate a copy and carry the types back to the original
nodes by a marker in ``meta``.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlglot import exp

_KEY = "idcbq_id"


def annotate(tree: exp.Expr, schema: Mapping) -> bool:
    """Set ``.type`` on the original tree's nodes where the schema makes it known.

    Returns False (and leaves the tree unannotated) if the query cannot be qualified
    against the schema, e.g. it names a column the schema does not know.
    """
    from sqlglot.errors import SqlglotError
    from sqlglot.optimizer.annotate_types import annotate_types
    from sqlglot.optimizer.qualify import qualify

    schema = _pruned(schema, {i.name.lower() for i in tree.find_all(exp.Identifier)})
    originals: dict[int, exp.Expr] = {}
    for i, node in enumerate(tree.walk()):
        node.meta[_KEY] = i
        originals[i] = node
    try:
        copy = qualify(
            tree.copy(),
            schema=schema,
            dialect="bigquery",
            validate_qualify_columns=False,
            expand_stars=False,
        )
        annotate_types(copy, schema=schema, dialect="bigquery")
    except (SqlglotError, KeyError, ValueError):
        return False
    finally:
        for node in originals.values():
            node.meta.pop(_KEY, None)
    for node in copy.walk():
        key = node.meta.get(_KEY) if node._meta else None
        original = originals.get(key) if key is not None else None
        if original is not None and node.type is not None and type(original) is type(node):
            original.type = node.type  # shared, never mutated (copying nested types is slow)
    return True


def _pruned(schema: Mapping, names: set[str]) -> Mapping:
    """Only the columns the query names: qualifying against 800 columns is slow."""

    def prune(node):
        if not isinstance(node, Mapping):
            return node
        if node and all(not isinstance(v, Mapping) for v in node.values()):  # {column: type}
            return {k: v for k, v in node.items() if k.lower() in names}
        return {k: prune(v) for k, v in node.items()}

    return prune(schema)
