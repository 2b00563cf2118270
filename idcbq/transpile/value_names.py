"""Names of a result's anonymous value-table column: ``f0_``, as GoogleSQL gives it.

``SELECT * FROM UNNEST([1, 2])`` (pipe syntax: ``FROM UNNEST([1, 2])``) and
``SELECT AS VALUE 1 x`` answer one column with no name, which GoogleSQL calls ``f0_``;
DuckDB called it ``unnest`` and ``x``. With GoogleSQL's analyzer the result's names come
from its output types; without it (the strict layer alone) the translation must name them.

Only where the shape is certain: the outermost SELECT, a bare ``*`` over one alias-less
UNNEST of an array literal of scalars (a STRUCT element would give its fields as the
columns), or over one ``(SELECT AS VALUE ...)`` subquery; a top-level ``SELECT AS VALUE``.
Its alias is no name outside the value table, and a clause that might read it (ORDER BY,
GROUP BY, ...) leaves it as written.

Example:
    >>> import sqlglot
    >>> tree = sqlglot.parse_one("SELECT * FROM UNNEST([1, 2])", read="bigquery")
    >>> anonymous_value_columns(tree).sql("bigquery")
    'SELECT * FROM UNNEST([1, 2]) AS f0_'
"""

from __future__ import annotations

from sqlglot import exp

from idcbq.errors import TranspileError

_NAME = "f0_"
#: Clauses of a SELECT AS VALUE that could refer to its alias.
_READERS = ("group", "having", "order", "qualify", "windows", "distinct")


def anonymous_value_columns(tree: exp.Expr) -> exp.Expr:
    """Name the anonymous value-table column of the outermost SELECT ``f0_`` (see module)."""
    if not isinstance(tree, exp.Select):
        return tree
    if _value_select(tree):
        tree.expressions[0].set("alias", exp.to_identifier(_NAME))
        return tree
    star = len(tree.expressions) == 1 and isinstance(tree.expressions[0], exp.Star)
    source = tree.args.get("from_")
    if not star or source is None or tree.args.get("joins") or tree.args.get("laterals"):
        return tree
    source = source.this
    if isinstance(source, exp.Unnest) and _scalar_array_literal(source):
        source.set("alias", exp.TableAlias(columns=[exp.to_identifier(_NAME)]))
    elif isinstance(source, exp.Subquery) and not source.alias and _value_select(source.this):
        source.this.expressions[0].set("alias", exp.to_identifier(_NAME))
    return tree


def struct_value_table_fields(tree: exp.Expr) -> exp.Expr:
    """A top-level ``SELECT AS STRUCT`` (or a set operation of them) as a plain SELECT.

    BigQuery returns a value table of STRUCTs as the STRUCT's fields, named by the first
    SELECT (an anonymous field ``f0_``...); DuckDB would answer one STRUCT column, and its
    set operations match STRUCT fields by name (``SELECT AS STRUCT 1 AS a INTERSECT
    DISTINCT SELECT AS STRUCT 1`` was empty). :func:`idcbq.engines.conform.conform` takes
    the fields as the value table's columns where GoogleSQL's analyzer typed the result.

    Example:
        >>> import sqlglot
        >>> sql = "SELECT AS STRUCT 1 a, 2 b UNION ALL SELECT AS STRUCT 3, 4"
        >>> struct_value_table_fields(sqlglot.parse_one(sql, read="bigquery")).sql("bigquery")
        'SELECT 1 AS a, 2 AS b UNION ALL SELECT 3, 4'
    """
    from idcbq.transpile.shapes import set_operation_leaves

    leaves = set_operation_leaves(tree)
    if leaves and all(_struct_select(s) for s in leaves):
        for select in leaves:
            select.set("kind", None)
    for node in tree.find_all(exp.SetOperation):
        inner = set_operation_leaves(node) or []
        if (
            any(_struct_select(s) for s in inner)
            and isinstance(node.parent, exp.Subquery)
            and isinstance(node.parent.parent, exp.From | exp.Join)
            and any(  # a star reads the STRUCT column (a named field fails loudly)
                isinstance(e, exp.Star) or (isinstance(e, exp.Column) and e.is_star)
                for e in node.parent.parent.parent.expressions
            )
        ):
            raise TranspileError(
                "unsupported on DuckDB: * of a set operation of SELECT AS STRUCT queries in "
                "FROM (BigQuery reads the STRUCTs' fields, DuckDB one STRUCT column)",
                hint="write the SELECTs without AS STRUCT",
            )
        if not any(_struct_select(s) for s in inner) or len({_field_names(s) for s in inner}) < 2:
            continue
        if not _first_names(inner):  # GoogleSQL's fields by position, named by the first
            raise TranspileError(
                "unsupported on DuckDB: a set operation of SELECT AS STRUCT queries whose "
                "fields are named differently, the first with an anonymous field (DuckDB "
                "matches STRUCT fields by name, GoogleSQL by position): "
                + node.sql(dialect="bigquery")[:80],
                hint="name every field of the first SELECT AS STRUCT",
            )
    return tree


def _first_names(leaves: list[exp.Select]) -> bool:
    """Name every SELECT AS STRUCT's fields as the first one's, by position (True), if
    all are SELECT AS STRUCT of as many values and the first names each of them."""
    first = leaves[0].expressions
    named = all(isinstance(e, exp.Alias | exp.Column) for e in first)
    if not named or not all(_struct_select(s) and len(s.expressions) == len(first) for s in leaves):
        return False
    for select in leaves[1:]:
        for i, item in enumerate(list(select.expressions)):
            value = item.this if isinstance(item, exp.Alias) else item
            select.expressions[i] = exp.alias_(value, first[i].alias_or_name, copy=False)
            select.expressions[i].parent = select
        select.set("expressions", select.expressions)
    return True


def _struct_select(node: exp.Select) -> bool:
    return str(node.args.get("kind") or "").upper() == "STRUCT"


def _field_names(node: exp.Select) -> tuple[str, ...]:
    """Field names of a SELECT's values (an anonymous one by position, as DuckDB's)."""
    names, anonymous = [], 0
    for item in node.expressions:
        if isinstance(item, exp.Alias) or (isinstance(item, exp.Column) and item.name):
            names.append(item.alias_or_name.lower())
        else:
            names.append(f"f{anonymous}_")
            anonymous += 1
    return tuple(names)


def _value_select(node: exp.Expr) -> bool:
    """``SELECT AS VALUE expr alias`` with no clause that might read the alias."""
    return (
        isinstance(node, exp.Select)
        and str(node.args.get("kind") or "").upper() == "VALUE"
        and len(node.expressions) == 1
        and isinstance(node.expressions[0], exp.Alias)
        and not any(node.args.get(k) for k in _READERS)
    )


def _scalar_array_literal(node: exp.Unnest) -> bool:
    """One array literal of scalars, no alias, no WITH OFFSET."""
    if node.alias or node.args.get("offset") or len(node.expressions) != 1:
        return False
    array = node.expressions[0]
    if isinstance(array, exp.Cast):  # ARRAY<INT64>[...]
        element = array.to.expressions[0] if array.to.expressions else None
        if not array.to.is_type(exp.DataType.Type.ARRAY) or element is None:
            return False
        if element.is_type(*exp.DataType.NESTED_TYPES):
            return False
        array = array.this
    if not isinstance(array, exp.Array):
        return False
    return all(_scalar(e) for e in array.expressions)


def _scalar(node: exp.Expr) -> bool:
    """A literal, NULL or cast of one to a scalar type (``CAST(NULL AS STRUCT<..>)`` is not)."""
    nested = (exp.Struct, exp.Tuple, exp.Array, exp.Select, exp.Subquery, exp.Paren)
    if isinstance(node, exp.Cast) and node.to.is_type(*exp.DataType.NESTED_TYPES):
        return False
    kinds = exp.Literal | exp.Neg | exp.Null | exp.Cast
    return isinstance(node, kinds) and not node.find(*nested)
