"""Type annotation against the IDC schema, on a copy so the query text is untouched.

``qualify`` lowercases and quotes identifiers and expands stars; that must not leak
into the SQL we run. So we annotate a copy and carry the types back to the original
nodes by a marker in ``meta``.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

from sqlglot import exp

from idcbq.transpile.rewrites import detach

_KEY = "idcbq_id"


def annotate(
    tree: exp.Expr,
    schema: Mapping,
    *,
    bare: tuple[str, str] | None = None,
    params: Mapping[str, exp.DataType] | None = None,
) -> bool:
    """Set ``.type`` on the original tree's nodes: the schema's type where it is known,
    ``UNKNOWN`` where it is not (so a rewrite that needs it refuses, never guesses).

    Returns False (every node ``UNKNOWN``) if the query cannot be qualified against the
    schema, e.g. it names a column the schema does not know.

    Args:
        tree: the query.
        schema: ``{project: {dataset: {table: {column: type}}}}``.
        bare: ``(project, dataset)`` bare table names are in (typed as if qualified).
        params: ``{name: type}`` of ``@name`` parameters (declared types).
    """
    from idcbq.transpile.known import qualify_bare

    lowered = {k.lower(): v for k, v in (params or {}).items()}
    from sqlglot.errors import SqlglotError
    from sqlglot.optimizer.annotate_types import annotate_types
    from sqlglot.optimizer.qualify import qualify
    from sqlglot.schema import MappingSchema

    originals = list(tree.walk())  # a copy's node marked i stands for originals[i]
    names = {i.name.lower() for i in originals if isinstance(i, exp.Identifier)}
    pruned, key = _pruned(schema, names)
    schema = _mapping_schema(key) if key is not None else MappingSchema(pruned, dialect="bigquery")
    for reshape in (True, False):
        copy = _marked_copy(tree, originals)
        if bare is not None:
            qualify_bare(copy, *bare)
        # shapes sqlglot cannot type, rewritten in the copy; if that copy does not
        # qualify (a correlated reference), annotate the query as written
        reshaped = reshape and _typable_shapes(copy)
        for param in list(copy.find_all(exp.Parameter)):
            kind = lowered.get(param.name.lower())
            if kind is not None:
                detach(param).replace(exp.cast(param, kind.copy(), copy=False))  # detached
        try:
            copy = qualify(
                copy,
                schema=schema,
                dialect="bigquery",
                validate_qualify_columns=False,
                expand_stars=False,
                quote_identifiers=False,  # types only: the copy's SQL is never generated
            )
            annotate_types(copy, schema=schema, dialect="bigquery")
            break
        except (SqlglotError, KeyError, ValueError, AssertionError):
            # AssertionError: sqlglot's qualify of ``SELECT * ... ORDER BY 1`` over a star
            # it does not expand (an UNNEST, a subquery) asserts an alias
            if reshaped:
                continue
            _mark_unknown(originals)
            return False
    for node in copy.walk():
        key = node.meta.get(_KEY) if node._meta else None
        original = originals[key] if key is not None else None
        if original is not None and node.type is not None and type(original) is type(node):
            original.type = node.type  # shared, never mutated (copying nested types is slow)
            _operand_types(original, node)
    for param in originals:  # the tree as it was walked: annotation changed only the copy
        if isinstance(param, exp.Parameter):
            param.type = lowered.get(param.name.lower())
    _mark_unknown(originals)
    return True


def _marked_copy(tree: exp.Expr, parts: list[exp.Expr]) -> exp.Expr:
    """Like :func:`~idcbq.transpile.rules.dup` (types shared, ``meta`` copied shallowly),
    each node of the copy marked with its index in ``parts`` (``tree.walk()``'s order).

    The copy's nodes are marked, not the original's: a marked original would make the
    copy deep-copy every node's meta dict (most of annotation's time).
    """
    saved = [(part._type, part._meta) for part in parts]
    for part in parts:
        part._type = part._meta = None
    try:
        twin = tree.copy()
    finally:
        for part, (kind, meta) in zip(parts, saved, strict=True):
            part._type, part._meta = kind, meta
    for i, (part, (kind, meta)) in enumerate(zip(twin.walk(), saved, strict=True)):
        if kind is not None:
            part._type = kind
        part._meta = {**meta, _KEY: i} if meta else {_KEY: i}
    return twin


def _typable_shapes(copy: exp.Expr) -> bool:
    """Rewrite, in annotation's copy, shapes whose values sqlglot leaves untyped; True if
    any was rewritten."""
    return _struct_rows_as_selects(copy) | _array_subqueries_as_selects(copy)


def _array_subqueries_as_selects(copy: exp.Expr) -> bool:
    """``FROM UNNEST(ARRAY(SELECT x ...)) AS v`` -> ``FROM (SELECT x AS v ...)``: sqlglot
    leaves an ARRAY subquery's element type unknown (``ROUND(v, 2)`` was DuckDB's)."""
    done = False
    for unnest in list(copy.find_all(exp.Unnest)):
        alias = unnest.args.get("alias")
        if unnest.args.get("offset") or len(unnest.expressions) != 1 or alias is None:
            continue
        array = unnest.expressions[0]
        inner = array.expressions[0] if isinstance(array, exp.Array) and array.expressions else None
        if not isinstance(inner, exp.Select) or len(array.expressions) != 1:
            continue
        if inner.args.get("kind") or len(inner.expressions) != 1 or len(alias.columns) != 1:
            continue
        select = inner.copy()
        value = select.expressions[0]
        select.set("expressions", [exp.alias_(value.unalias(), alias.columns[0].name)])
        name = alias.name or "_idcbq_array"
        unnest.replace(
            exp.Subquery(this=select, alias=exp.TableAlias(this=exp.to_identifier(name)))
        )
        done = True
    return done


def _struct_rows_as_selects(copy: exp.Expr) -> bool:
    """``FROM UNNEST([STRUCT(1 AS a, 'x' AS b), (2, 'y')])`` -> ``FROM (SELECT 1 AS a, 'x'
    AS b UNION ALL SELECT 2, 'y')`` in the copy annotation types.

    sqlglot cannot type the fields of an array of STRUCT rows written as tuples, which
    left them UNKNOWN and every typed rewrite of them off (``ROUND(x, 2)`` of such a
    field was DuckDB's, ``x * 10`` was inf, not an overflow). As a UNION ALL each field
    gets the rows' common supertype, as GoogleSQL gives the array's element type. Only
    an UNNEST without alias whose rows are literals (no column of the query inside).
    """
    done = False
    for unnest in list(copy.find_all(exp.Unnest)):
        if unnest.args.get("alias") or unnest.args.get("offset") or len(unnest.expressions) != 1:
            continue
        array = unnest.expressions[0]
        if not isinstance(array, exp.Array) or not array.expressions:
            continue
        first, rows = array.expressions[0], array.expressions
        if not isinstance(first, exp.Struct) or array.find(exp.Column, exp.Select):
            continue
        names = [_field_name(f) for f in first.expressions]
        if not all(names) or not all(
            isinstance(r, exp.Struct | exp.Tuple) and len(r.expressions) == len(names) for r in rows
        ):
            continue
        selects = []
        for row in rows:
            values = [_field_value(f) for f in row.expressions]
            selects.append(
                exp.select(*(exp.alias_(v.copy(), n) for v, n in zip(values, names, strict=True)))
            )
        union = selects[0]
        for select in selects[1:]:
            union = exp.union(union, select, distinct=False, copy=False)  # no quadratic copies
        unnest.replace(exp.Subquery(this=union))
        done = True
    return done


def _field_name(field: exp.Expr) -> str:
    if isinstance(field, exp.PropertyEQ):
        return field.this.name
    return field.alias if isinstance(field, exp.Alias) else ""


def _field_value(field: exp.Expr) -> exp.Expr:
    if isinstance(field, exp.PropertyEQ):
        return field.expression
    return field.this if isinstance(field, exp.Alias) else field


#: The type of a node of the query as written that annotation could not type.
UNKNOWN = exp.DataType.build("UNKNOWN")
#: Calls sqlglot leaves untyped whose GoogleSQL result has one type whatever the arguments.
_FIXED = {"IEEE_DIVIDE": exp.DataType.build("DOUBLE")}


def _mark_unknown(nodes) -> None:
    """Say UNKNOWN where annotation left no type: ``is_typed`` then refuses to guess.

    (A node a rewrite builds afterwards has no type at all: that is the rewrite's own
    translation, not a value of the query whose type nobody knows.)
    """
    for node in nodes:
        fixed = _FIXED.get(node.name.upper()) if isinstance(node, exp.Anonymous) else None
        if fixed is not None and (node.type is None or node.type.is_type(UNKNOWN.this)):
            node.type = fixed
        elif node.type is None:
            node.type = UNKNOWN


def _operand_types(original: exp.Expr, copy: exp.Expr) -> None:
    """Operands qualify reshaped (``roi.f`` of an UNNEST alias became a Dot): their types."""
    for key in ("this", "expression"):
        mine, theirs = original.args.get(key), copy.args.get(key)
        if (
            isinstance(mine, exp.Expr)
            and isinstance(theirs, exp.Expr)
            and mine.type is None
            and theirs.type is not None
            and not theirs.type.is_type(exp.DataType.Type.UNKNOWN)
        ):
            mine.type = theirs.type


def _pruned(schema: Mapping, names: set[str]) -> tuple[Mapping, tuple | None]:
    """Only the columns the query names (qualifying against 800 columns is slow), their
    types parsed once per process rather than once per query; and a key of that pruned
    schema when every type is given as text (None otherwise), for :func:`_mapping_schema`.

    Example:
        >>> pruned, key = _pruned({"p": {"d": {"t": {"A": "INT64", "b": "STRING"}}}}, {"a"})
        >>> pruned["p"]["d"]["t"]["A"].sql(), key
        ('BIGINT', (('p', (('d', (('t', (('A', 'INT64'),)),)),)),))
    """
    texts = True

    def prune(node):
        nonlocal texts
        if not isinstance(node, Mapping):
            texts = False
            return node, None
        # {column: type} (a type as text is the common case: no ABC check for it)
        if node and all(type(v) is str or not isinstance(v, Mapping) for v in node.values()):
            keys = tuple(node)
            index = _lowered_positions(keys)  # dicom_all: ~800 names, lowered once
            hits = sorted(i for name in names for i in index.get(name, ()))
            kept = {keys[i]: node[keys[i]] for i in hits}
            kept = kept or dict([next(iter(node.items()))])  # a table has >= 1 column
            texts = texts and all(isinstance(v, str) for v in kept.values())
            columns = {k: parsed_type(v) if isinstance(v, str) else v for k, v in kept.items()}
            return columns, tuple(kept.items())
        parts = {k: prune(v) for k, v in node.items()}
        return {k: v for k, (v, _) in parts.items()}, tuple((k, h) for k, (_, h) in parts.items())

    pruned, key = prune(schema)
    return pruned, key if texts else None


@functools.lru_cache(maxsize=64)
def _lowered_positions(keys: tuple[str, ...]) -> dict[str, tuple[int, ...]]:
    """Positions of a table's column names by lowercase name (same content, same answer:
    each schema lookup builds its dicts anew)."""
    out: dict[str, list[int]] = {}
    for i, key in enumerate(keys):
        out.setdefault(key.lower(), []).append(i)
    return {low: tuple(found) for low, found in out.items()}


@functools.lru_cache(maxsize=256)
def _mapping_schema(key: tuple):
    """sqlglot's MappingSchema of a pruned schema given by its key (building one
    normalizes every name: once per schema, not per query). Only read by qualification
    and annotation, never changed."""
    from sqlglot.schema import MappingSchema

    def mapping(node):
        if node and isinstance(node[0][1], str):  # ((column, type text), ...)
            return {k: parsed_type(v) for k, v in node}
        return {k: mapping(v) for k, v in node}

    return MappingSchema(mapping(key), dialect="bigquery")


@functools.lru_cache(maxsize=4096)
def parsed_type(text: str) -> exp.DataType:
    """A schema's column type, parsed as sqlglot's MappingSchema would (shared: never
    mutated, like the types annotation hands to the tree)."""
    from sqlglot.dialects.dialect import Dialect

    dialect = Dialect.get_or_raise("bigquery")
    parsed = exp.DataType.from_str(text, dialect=dialect, udt=dialect.SUPPORTS_USER_DEFINED_TYPES)
    return parsed.transform(dialect.normalize_identifier, copy=False)
