"""``<set operation> ORDER BY <FLOAT64 column>``: NaN placed as GoogleSQL places it.

GoogleSQL orders a FLOAT64 key as NULL, NaN, then numbers (ASC). The NaN rank key that
:func:`idcbq.transpile.numeric.nan_order` adds cannot go into a set operation's ORDER BY
(DuckDB orders a UNION only by its output columns), so such a set operation is wrapped:
``SELECT * FROM (<set operation>) ORDER BY ... LIMIT ...``, whose ORDER BY takes it.
"""

from __future__ import annotations

from sqlglot import exp

from idcbq.transpile.rewrites import detach


def _first_select(node: exp.Expr) -> exp.Select | None:
    while isinstance(node, exp.SetOperation):
        node = node.this
    while isinstance(node, exp.Subquery):
        node = node.this
    return node if isinstance(node, exp.Select) else None


def _leaf_selects(node: exp.Expr) -> list[exp.Select]:
    """The SELECTs a set operation combines, parenthesized ones included."""
    while isinstance(node, exp.Subquery):
        node = node.this
    if isinstance(node, exp.SetOperation):
        return [*_leaf_selects(node.this), *_leaf_selects(node.expression)]
    return [node] if isinstance(node, exp.Select) else []


def _output_item(key: exp.Expr, first: exp.Select) -> exp.Expr | None:
    """The first branch's select item an ORDER BY key of the set operation names."""
    items = first.expressions
    if isinstance(key, exp.Literal) and key.is_int:
        position = int(key.this)
        return items[position - 1] if 1 <= position <= len(items) else None
    if isinstance(key, exp.Column) and not key.table:
        for item in items:
            if item.alias_or_name.lower() == key.name.lower():
                return item
    return None


def wrap_float_set_order(order: exp.Order, is_float) -> exp.Select | None:
    """Wrap the set operation ``order`` sorts if a key is a FLOAT64 output column; the
    keys then name that column, typed, in the wrapper. Returns the wrapper, else None."""
    setop = order.parent
    first = _first_select(setop)
    if first is None or any(isinstance(i, exp.Star) for i in first.expressions):
        return None
    items = [_output_item(o.this, first) for o in order.expressions]
    branches = [s for s in _leaf_selects(setop) if len(s.expressions) == len(first.expressions)]
    floats = {  # a later branch may be the FLOAT64 one (INT64 UNION ALL FLOAT64)
        i for s in branches for i, item in enumerate(s.expressions) if is_float(item.unalias())
    }
    positions = [None if item is None else first.expressions.index(item) for item in items]
    if not floats.intersection(positions):
        return None
    for ordered, item, position in zip(order.expressions, items, positions, strict=True):
        if item is not None:
            column = exp.column(exp.to_identifier(item.alias_or_name, quoted=True))
            # a FLOAT64 output column is typed so: it gets the NaN rank key
            column.type = exp.DataType.build("DOUBLE") if position in floats else None
            ordered.set("this", column)
    slot = detach(setop)
    moved = {key: setop.args.get(key) for key in ("order", "limit", "offset", "with_")}
    for key in moved:
        setop.set(key, None)
    wrapper = exp.select(exp.Star()).from_(exp.Subquery(this=setop, alias="_idcbq_set"))
    for key, value in moved.items():
        wrapper.set(key, value)
    slot.replace(wrapper)
    return wrapper


def _plain_key(key: exp.Expr) -> bool:
    """An ORDER BY key DuckDB takes after a set operation: an output column or position."""
    return (isinstance(key, exp.Column) and not key.table) or (
        isinstance(key, exp.Literal) and key.is_int
    )


def order_expressions(tree: exp.Expr) -> exp.Expr:
    """``<set operation> ORDER BY -x``: an ORDER BY key that is an expression of the output
    columns (GoogleSQL takes it; DuckDB orders a set operation only by its output columns,
    a binder error) sorts a wrapper, ``SELECT * FROM (<set operation>) ORDER BY ...``,
    whose columns are the set operation's, in order and by name."""
    for setop in list(tree.find_all(exp.SetOperation)):
        order = setop.args.get("order")
        if order is None or all(_plain_key(o.this) for o in order.expressions):
            continue
        root = setop is tree
        slot = None if root else detach(setop)
        moved = {key: setop.args.get(key) for key in ("order", "limit", "offset", "with_")}
        for key in moved:
            setop.set(key, None)
        wrapper = exp.select(exp.Star()).from_(
            exp.Subquery(this=setop, alias=exp.TableAlias(this=exp.to_identifier("_idcbq_set")))
        )
        for key, value in moved.items():
            wrapper.set(key, value)
        if root:
            tree = wrapper
        else:
            slot.replace(wrapper)
    return tree
