"""An UNNESTed array of STRUCTs is a value table: its fields are columns (BigQuery).

``FROM UNNEST([STRUCT(1 AS i, 2 AS v), (3, 4)])`` yields columns ``i`` and ``v``, and
``FROM UNNEST(arr) AS r`` lets the query name ``r.i`` or plain ``i``. DuckDB's UNNEST
yields one STRUCT column instead. sqlglot explodes the struct (``explode_array``:
``(SELECT UNNEST(arr, max_depth => 2)) AS r``) only when it can type the array while
parsing, which it cannot for an array literal with tuple elements or a column typed by
the schema. These rules mark the UNNESTs whose array is known to hold STRUCTs:

- unaliased: always (the fields are the only way to use the row);
- aliased ``AS r``: when the query names a field of the struct without a qualifier, and
  never when it names the row ``r`` itself (DuckDB's ``r`` would then be a row of the
  exploded fields, not NULL for a NULL element: that stays DuckDB's loud binder error).

Example:
    >>> import sqlglot
    >>> tree = sqlglot.parse_one(
    ...     "SELECT i FROM UNNEST([STRUCT(1 AS i, 2 AS v), (3, 4)])", read="bigquery")
    >>> explode_struct_literals(tree).sql("duckdb")
    "SELECT i FROM (SELECT UNNEST([{'i': 1, 'v': 2}, (3, 4)], max_depth => 2))"
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlglot import exp

from idcbq.transpile.rules import handles


def needs_types(tree: exp.Expr, schema: Mapping | None = None) -> bool:
    """Whether an UNNESTed column may hold STRUCTs (by the schema) and the UNNEST is
    unaliased or the query names a column without a qualifier (perhaps a field)."""
    from idcbq.transpile.known import named_of_kind

    names = {
        u.expressions[0].name
        for u in _candidates(tree)
        if isinstance(u.expressions[0], exp.Column)
        and (u.args.get("alias") is None or any(not c.table for c in tree.find_all(exp.Column)))
    }
    names |= {n.lower() for n in names}
    return bool(names) and named_of_kind(schema or {}, names, ("ARRAY<STRUCT",))


def _explode(tree: exp.Expr, fields_of) -> exp.Expr:
    for unnest in _candidates(tree):
        fields = fields_of(unnest.expressions[0])
        if fields is not None and _explodes(tree, unnest, fields):
            unnest.set("explode_array", True)
    return tree


@handles(exp.Struct)  # an UNNEST of named STRUCT literals: no STRUCT, nothing to explode
def explode_struct_literals(tree: exp.Expr) -> exp.Expr:
    """Explode the UNNESTs of STRUCT array literals (``[STRUCT(...), (...)]``)."""
    return _explode(tree, _literal_fields)


@handles(exp.Unnest)
def explode_struct_arrays(tree: exp.Expr) -> exp.Expr:
    """Explode the UNNESTs of arrays whose type (annotated) is ``ARRAY<STRUCT<...>>``."""
    return _explode(tree, _typed_fields)


#: Rules that read types (run while the tree is annotated).
TYPED = (explode_struct_arrays,)


def _candidates(tree: exp.Expr) -> list[exp.Unnest]:
    """Table-position UNNESTs of one array, no WITH OFFSET, not exploded yet."""
    return [
        unnest
        for unnest in tree.find_all(exp.Unnest)
        if isinstance(unnest.parent, exp.From | exp.Join)
        and len(unnest.expressions) == 1
        and not unnest.args.get("offset")
        and not unnest.args.get("explode_array")
    ]


def _alias(unnest: exp.Unnest) -> str | None:
    alias = unnest.args.get("alias")
    if isinstance(alias, exp.TableAlias) and len(alias.columns) == 1 and not alias.this:
        return alias.columns[0].name
    return None


def _explodes(tree: exp.Expr, unnest: exp.Unnest, fields: list[str]) -> bool:
    alias = unnest.args.get("alias")
    if alias is None:
        return True
    name = _alias(unnest)
    if name is None:
        return False
    bare = {c.name.lower() for c in tree.find_all(exp.Column) if not c.table}
    return name.lower() not in bare and bool(bare & {f.lower() for f in fields})


def _literal_fields(array: exp.Expr) -> list[str] | None:
    """Field names of ``[STRUCT(a AS x, ...), (..), ...]``: named STRUCTs agree, tuples fit."""
    if not isinstance(array, exp.Array) or not array.expressions:
        return None
    names: list[str] | None = None
    widths = set()
    for element in array.expressions:
        if isinstance(element, exp.Tuple):
            widths.add(len(element.expressions))
            continue
        if not isinstance(element, exp.Struct):
            return None
        mine = [_field_name(f) for f in element.expressions]
        if not all(mine):
            if any(mine):
                return None
            widths.add(len(mine))
            continue
        if names is not None and [n.lower() for n in names] != [n.lower() for n in mine]:
            return None
        names = mine
    if names is None or widths - {len(names)}:
        return None
    return names


def _field_name(field: exp.Expr) -> str:
    if isinstance(field, exp.PropertyEQ | exp.Alias):
        return field.alias if isinstance(field, exp.Alias) else field.this.name
    return ""


def _typed_fields(array: exp.Expr) -> list[str] | None:
    kind = array.type
    if kind is None or not kind.is_type(exp.DataType.Type.ARRAY) or not kind.expressions:
        return None
    element = kind.expressions[0]
    if not isinstance(element, exp.DataType) or not element.is_type(exp.DataType.Type.STRUCT):
        return None
    names = [f.name for f in element.expressions if isinstance(f, exp.ColumnDef)]
    return names if names and len(names) == len(element.expressions) else None
