"""Result shapes and names where DuckDB silently differs from GoogleSQL (issue 18 §5).

Probes in ``tests/probes/shapes.yaml`` compare with GoogleSQL's reference implementation.

- ``pivot_names``: ``PIVOT(SUM(n) AS n FOR m IN ('CT', 'MR'))`` names its columns
  ``n_CT``, ``n_MR`` (DuckDB: ``CT_n``); without an aggregate alias an integer value
  names ``_100`` (DuckDB: ``100``), a negative one ``minus_2``; with several aggregates
  DuckDB's names and order differ, and a value with no naming rule here (a DATE) needs
  an alias: refused (loud).
- ``set_operation_literals`` (typed): a string literal in a UNION column of DATE,
  DATETIME, TIMESTAMP or TIME values is of that type.
- ``group_by_alias``: ``SELECT x * 10 AS y ... GROUP BY y`` groups by the alias even
  when the table has a column ``y`` (DuckDB takes the column).
"""

from __future__ import annotations

from sqlglot import exp

from idcbq.errors import TranspileError
from idcbq.transpile.rules import handles, run_rules


def _value_names(value: exp.Expr) -> tuple[str, str] | None:
    """GoogleSQL's names for a PIVOT value without an alias: (alone, after ``<alias>_``).

    None: no naming rule here (a DATE, BYTES or FLOAT64 literal, an expression).
    """
    if isinstance(value, exp.Null):
        return "NULL", "NULL"
    if isinstance(value, exp.Boolean):
        word = "true" if value.this else "false"
        return word, word
    if isinstance(value, exp.Literal) and value.is_string:
        if not value.this:
            return "empty_string_value", "_empty_string_value"
        return value.this, value.this
    number = None
    if isinstance(value, exp.Literal) and value.this.isdigit():
        number = str(int(value.this))
    elif isinstance(value, exp.HexString) and value.args.get("is_integer"):
        number = str(int(value.this, 16))
    if number is not None:
        return "_" + number, number
    if isinstance(value, exp.Neg) and isinstance(value.this, exp.Literal):
        digits = value.this.this
        if not value.this.is_string and digits.isdigit():
            return "minus_" + str(int(digits)), "minus_" + str(int(digits))
    return None


def _column_name(aggregate: str | None, value: exp.Expr) -> str:
    """The PIVOT output column of ``value`` (``n_CT``, ``_100``, ``minus_2``, ``NULL``)."""
    if isinstance(value, exp.PivotAlias | exp.Alias):
        alone = after = value.alias
    else:
        names = _value_names(value)
        if names is None:
            raise TranspileError(
                f"unsupported on DuckDB: PIVOT value {value.sql('bigquery')} without an alias "
                "(DuckDB would name its column differently)",
                hint="give the value an alias (IN (... AS name)), or use --engine bigquery",
            )
        alone, after = names
    return alone if aggregate is None else f"{aggregate}_{after}"


@handles(exp.Pivot)
def pivot_names(tree: exp.Expr) -> exp.Expr:
    """Name every PIVOT column as GoogleSQL does: ``<aggregate alias>_<value>``, or the
    value's own name (``_100``, ``minus_2``, ``NULL``, ``true``, ``CT``) without an alias.

    A value with no naming rule here (a DATE, BYTES or FLOAT64 literal, an expression) and
    no alias is refused: DuckDB's name would differ.
    """
    for pivot in list(tree.find_all(exp.Pivot)):
        if pivot.args.get("unpivot"):
            continue
        aggregates = pivot.expressions
        named = [a for a in aggregates if isinstance(a, exp.Alias)]
        if len(aggregates) > 1:
            raise TranspileError(
                "unsupported on DuckDB: PIVOT with several aggregates (DuckDB names "
                "and orders the columns differently)",
                hint="PIVOT one aggregate at a time, or use --engine bigquery",
            )
        alias = named[0].alias if named else None
        fields = pivot.args.get("fields") or []
        if len(fields) != 1 or not isinstance(fields[0], exp.In):
            raise TranspileError(
                "unsupported on DuckDB: this PIVOT form (DuckDB names its columns differently)",
                hint="use --engine bigquery",
            )
        values = []
        for value in fields[0].expressions:
            name = _column_name(alias, value)
            inner = value.this if isinstance(value, exp.PivotAlias | exp.Alias) else value
            values.append(exp.PivotAlias(this=inner.copy(), alias=exp.to_identifier(name)))
        fields[0].set("expressions", values)
        if named:
            named[0].replace(named[0].this.copy())
    return tree


def _aggregates(value: exp.Expr) -> bool:
    """Whether ``value`` aggregates or is analytic in its own query (a subquery's
    aggregate is the subquery's)."""
    nodes = value.walk(prune=lambda node: isinstance(node, exp.Query))
    return any(isinstance(node, exp.AggFunc | exp.Window) for node in nodes)


@handles(exp.Group)  # acts on a SELECT with GROUP BY
def group_by_alias(tree: exp.Expr) -> exp.Expr:
    """A GROUP BY name that is both a SELECT alias and a column groups by the alias."""
    for select in list(tree.find_all(exp.Select)):
        group = select.args.get("group")
        if group is None:
            continue
        aliases = {
            item.alias.lower(): (position, item.this)
            for position, item in enumerate(select.expressions, start=1)
            if isinstance(item, exp.Alias) and not _aggregates(item.this)
        }
        for key in list(group.expressions):
            if not isinstance(key, exp.Column) or key.table:
                continue
            position, target = aliases.get(key.name.lower(), (0, None))
            if target is None or (isinstance(target, exp.Column) and target.name == key.name):
                continue
            if target.find(exp.Query):
                # a copy of a subquery gets its own table aliases later: DuckDB would no
                # longer match it to the SELECT item (a binder error); the position does
                key.replace(exp.Literal.number(position))
            else:
                key.replace(target.copy())
    return tree


_TEMPORAL = (
    exp.DataType.Type.DATE,
    exp.DataType.Type.DATETIME,
    exp.DataType.Type.TIMESTAMP,
    exp.DataType.Type.TIMESTAMPTZ,
    exp.DataType.Type.TIME,
)


def set_operation_leaves(node: exp.Expr) -> list[exp.Select] | None:
    """The SELECTs of a chain of set operations, or None if one branch is something else."""
    if isinstance(node, exp.Subquery):
        return set_operation_leaves(node.this)
    if isinstance(node, exp.SetOperation):
        left, right = set_operation_leaves(node.left), set_operation_leaves(node.right)
        return None if left is None or right is None else left + right
    return [node] if isinstance(node, exp.Select) else None


@handles(exp.SetOperation)
def set_operation_literals(tree: exp.Expr) -> exp.Expr:
    """``SELECT DATE ... UNION ALL SELECT '2021-02-03'``: the string literal is a DATE."""
    for node in list(tree.find_all(exp.SetOperation)):
        if isinstance(node.parent, exp.SetOperation):
            continue  # the outermost one covers the chain
        leaves = set_operation_leaves(node)
        if not leaves or len({len(s.expressions) for s in leaves}) != 1:
            continue
        for i in range(len(leaves[0].expressions)):
            items = [s.expressions[i] for s in leaves]
            values = [it.this if isinstance(it, exp.Alias) else it for it in items]
            kinds = [v.type for v in values if v.type is not None and v.type.is_type(*_TEMPORAL)]
            if not kinds:
                continue
            for value in values:
                if isinstance(value, exp.Literal) and value.is_string:
                    value.replace(exp.cast(value.copy(), kinds[0].copy()))
    return tree


def _identifiers(node: exp.Expr) -> list[exp.Identifier]:
    return list(node.expressions) if isinstance(node, exp.Tuple) else [node]


@handles(exp.Pivot)
def unpivot_column_order(tree: exp.Expr) -> exp.Expr:
    """UNPIVOT's columns in GoogleSQL's order: the others, the values, then the name.

    DuckDB puts the name column before the values (``id, k, v`` for GoogleSQL's
    ``id, v, k``); ``SELECT *`` and positions would differ. The unpivoted source becomes
    ``(SELECT * EXCLUDE (k, v), v, k FROM source UNPIVOT (...)) AS alias``.
    """
    for pivot in list(tree.find_all(exp.Pivot)):
        source = pivot.parent
        fields = pivot.args.get("fields") or []
        if not pivot.args.get("unpivot") or pivot.meta.get("idcbq_ordered"):
            continue
        if not (isinstance(source, exp.Table | exp.Subquery) and len(fields) == 1):
            continue
        labels = [
            v.args.get("alias") for v in fields[0].expressions if isinstance(v, exp.PivotAlias)
        ]
        if any(not (isinstance(a, exp.Literal) and a.is_string) for a in labels):
            raise TranspileError(
                "unsupported on DuckDB: an UNPIVOT label that is not a string (GoogleSQL's "
                "name column takes the labels' type; DuckDB's is text)",
                hint="label with strings ('1'), or use --engine bigquery",
            )
        name = fields[0].this
        values = [v for e in pivot.expressions for v in _identifiers(e)]
        if not isinstance(name, exp.Identifier) or not all(
            isinstance(v, exp.Identifier) for v in values
        ):
            continue
        inner = pivot.copy()
        inner.meta["idcbq_ordered"] = True
        alias = inner.args.get("alias")
        inner.set("alias", None)
        unpivoted = source.copy()
        unpivoted.set("pivots", [inner])
        moved = [exp.column(v.copy()) for v in (*values, name)]
        star = exp.Star(except_=[c.copy() for c in moved])
        query = exp.select(star, *moved).from_(unpivoted)
        source.replace(exp.Subquery(this=query, alias=alias))
    return tree


UNTYPED = (pivot_names, unpivot_column_order, group_by_alias)
TYPED = (set_operation_literals,)


def needs_types(tree: exp.Expr) -> bool:
    """True if a set operation has a string literal in a select list."""
    return any(
        isinstance(v, exp.Literal) and v.is_string
        for op in tree.find_all(exp.SetOperation)
        for s in (set_operation_leaves(op) or [])
        for v in (e.this if isinstance(e, exp.Alias) else e for e in s.expressions)
    )


def apply_untyped(tree: exp.Expr) -> exp.Expr:
    """Run every rewrite of this module."""
    return run_rules(tree, UNTYPED)
