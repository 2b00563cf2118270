"""``MIN`` and ``LEAST`` with a NaN where annotation could not type the value (issue 18 §5).

GoogleSQL's ``MIN``/``LEAST`` of FLOAT64 values with a NaN is NaN; DuckDB orders NaN
above every number, so its ``MIN``/``LEAST`` skip it (its ``MAX``/``GREATEST`` already
give NaN). :func:`idcbq.transpile.numeric.nan_extremes` rewrites values typed FLOAT64.
sqlglot leaves some values untyped (fields of an UNNESTed array of STRUCTs, columns of
nested CTEs) while the rest of the query is typed; guessing "not a float" there was a
silent difference (``MIN(x) FROM UNNEST([STRUCT(NaN AS x), (2.0)])`` gave 2.0).

For those the translation decides at run time, from DuckDB's own type of the value:
``MAX`` (or ``GREATEST``) is NaN exactly when a NaN is present, so

    CASE WHEN TYPEOF(MAX(x)) IN ('DOUBLE', 'FLOAT') AND CAST(MAX(x) AS TEXT) IN ('nan', '-nan')
         THEN MAX(x) ELSE MIN(x) END

binds for a value of any type and is ``MIN(x)`` unless ``x`` is a float with a NaN.

Example:
    >>> import sqlglot
    >>> from idcbq.transpile.types import UNKNOWN
    >>> tree = sqlglot.parse_one("SELECT MIN(x) FROM t", read="bigquery")
    >>> tree.find(exp.Column).type = UNKNOWN
    >>> print(min_of_unknown(tree.find(exp.Min)).sql("duckdb"))
    CASE WHEN TYPEOF(MAX(x)) IN ('DOUBLE', 'FLOAT') AND CAST(MAX(x) AS TEXT) IN ('nan', '-nan') THEN MAX(x) ELSE MIN(x) END
"""

from __future__ import annotations

import functools

from sqlglot import exp

from idcbq.errors import TranspileError
from idcbq.transpile.rewrites import detach
from idcbq.transpile.rules import dup, handles

FRAGMENT = "idcbq_fragment"


def duck_fragment(template: str, **parts: exp.Expr) -> exp.Expr:
    """A DuckDB-dialect fragment with ``_a``, ``_b``... columns replaced by ``parts``
    (the typed rewrites import it through :mod:`idcbq.transpile.numeric`).

    The fragment's own nodes are marked as already guarded: its arithmetic is the
    translation's (an exact ROUND's error term, a variance's sums), not the user's, so
    the runtime-error rewrites (:mod:`idcbq.transpile.errors_runtime`) leave it alone;
    ``parts`` keep their guards.
    """
    tree = dup(parsed_fragment(template))
    for column in list(tree.find_all(exp.Column)):
        if column.name in parts and not column.table:
            column.replace(dup(parts[column.name]))
    return tree


@functools.lru_cache(maxsize=256)
def parsed_fragment(template: str) -> exp.Expr:
    """A fragment parsed once per process, its nodes marked guarded (callers copy it)."""
    import sqlglot

    from idcbq.transpile.errors_guards import GUARDED

    tree = sqlglot.parse_one(template, read="duckdb")
    for node in tree.walk():
        node.meta[GUARDED] = True
        node.meta[FRAGMENT] = True  # DuckDB's own spelling (a strftime format, say)
    return tree


_TEMPLATE = (
    "CASE WHEN TYPEOF(_m) IN ('DOUBLE', 'FLOAT') AND CAST(_m AS TEXT) IN ('nan', '-nan') "
    "THEN _m ELSE _v END"
)


def is_unknown(node: exp.Expr | None) -> bool:
    """Annotation ran but left ``node`` untyped (``UNKNOWN``)."""
    kind = None if node is None else node.type
    return kind is not None and kind.is_type(exp.DataType.Type.UNKNOWN)


def min_of_unknown(node: exp.Min) -> exp.Expr:
    """Replace ``MIN(x)`` (or ``MIN(x) OVER (...)``) of an untyped ``x``; returns the new node."""
    window = node.parent if isinstance(node.parent, exp.Window) else None
    target = window if window is not None else node
    biggest = exp.Max(this=node.this.copy())
    if window is not None:
        probe = window.copy()
        probe.set("this", biggest)
        biggest = probe
    placeholder = detach(target)
    return placeholder.replace(duck_fragment(_TEMPLATE, _m=biggest, _v=target))


def least_of_unknown(node: exp.Least) -> exp.Expr:
    """Replace ``LEAST(a, b, ...)`` with an untyped argument; returns the new node."""
    args = [node.this, *node.expressions]
    biggest = exp.Greatest(this=args[0].copy(), expressions=[a.copy() for a in args[1:]])
    placeholder = detach(node)
    return placeholder.replace(duck_fragment(_TEMPLATE, _m=biggest, _v=node))


def runtime_isnan(value: exp.Expr) -> exp.Expr:
    """``value`` is a float NaN, decided by DuckDB's type of it (binds for any type)."""
    return duck_fragment(
        "TYPEOF(_k) IN ('DOUBLE', 'FLOAT') AND CAST(_k AS TEXT) IN ('nan', '-nan')", _k=value
    )


def maybe_nan_pair(left: exp.Expr, right: exp.Expr) -> bool:
    """A comparison with an untyped side that may be a FLOAT64: the other side is untyped or
    numeric, and neither is a literal (a literal is never NaN; DuckDB already agrees)."""
    if not (is_unknown(left) or is_unknown(right)):
        return False
    for side in (left, right):
        inner = side.this if isinstance(side, exp.Neg) else side
        if isinstance(inner, exp.Literal | exp.Null | exp.Boolean):
            return False
        kind = side.type
        if (
            kind is not None
            and not is_unknown(side)
            and not kind.is_type(*exp.DataType.NUMERIC_TYPES)
        ):
            return False
    return True


def rank_value(key: exp.Expr, order: exp.Order) -> exp.Expr | None:
    """What an untyped ORDER BY key's NaN rank reads, or None (leave the key alone).

    Inside an expression DuckDB binds a bare name to the tables' columns before the
    select aliases (``... JOIN ... ORDER BY k`` with ``COALESCE(a.k, b.k) AS k`` is
    ambiguous there), so a bare alias is read as its select expression.
    """
    select = order.parent
    if not isinstance(key, exp.Column) or key.table or not isinstance(select, exp.Select):
        return key
    for item in select.expressions:
        if item.alias_or_name.lower() == key.name.lower():
            value = item.unalias()
            return (
                key
                if isinstance(value, exp.Column) and not select.args.get("joins")
                else (None if isinstance(value, exp.Column) else value)
            )
    return None if select.args.get("joins") else key


_MOVED_NAN = "idcbq_moved_nan"


def distinct_nan_order(order: exp.Order) -> None:
    """``ARRAY_AGG(DISTINCT x ORDER BY x)`` of a FLOAT64: DuckDB puts NaN after the
    numbers, GoogleSQL before them (ASC): the result's NaN moves to its end of the list."""
    agg = order.parent
    if isinstance(agg, exp.Limit):
        raise TranspileError(
            "unsupported on DuckDB: a DISTINCT FLOAT64 aggregate with ORDER BY and LIMIT "
            "(DuckDB orders NaN after the numbers, GoogleSQL before them)"
        )
    if not isinstance(agg, exp.ArrayAgg) or agg.meta.get(_MOVED_NAN):
        return  # STRING_AGG's values are text by then
    agg.meta[_MOVED_NAN] = True
    outer = agg.parent if isinstance(agg.parent, exp.IgnoreNulls | exp.RespectNulls) else agg
    if isinstance(outer.parent, exp.Window):
        return
    ordered = order.expressions[0]
    nulls = "list_filter(_r, e -> e IS NULL)"
    nans = "list_filter(_r, e -> isnan(e))"
    numbers = "list_filter(_r, e -> NOT isnan(e))"
    parts = [numbers, nans] if ordered.args.get("desc") else [nans, numbers]
    parts = [nulls, *parts] if ordered.args.get("nulls_first") else [*parts, nulls]
    joined = f"list_concat(list_concat({parts[0]}, {parts[1]}), {parts[2]})"
    kind = outer.type
    moved = duck_fragment(f"CASE WHEN _r IS NULL THEN NULL ELSE {joined} END", _r=outer)
    moved.type = kind  # for the typed rules after this one (TO_JSON_STRING's)
    detach(outer).replace(moved)


def alias_value(key: exp.Expr, order: exp.Order) -> exp.Expr:
    """A bare ORDER BY name that is a select alias, as its expression: inside the rank's
    CASE, DuckDB binds a name to the tables' columns first (ambiguous after a JOIN)."""
    select = order.parent
    if isinstance(key, exp.Column) and not key.table and isinstance(select, exp.Select):
        for item in select.expressions:
            if isinstance(item, exp.Alias) and item.alias.lower() == key.name.lower():
                return item.this
    return key


def _float_typed(node: exp.Expr | None) -> bool:
    kind = None if node is None else node.type
    return kind is not None and kind.is_type(exp.DataType.Type.DOUBLE, exp.DataType.Type.FLOAT)


def _finite_number(node: exp.Expr) -> bool:
    inner = node.this if isinstance(node, exp.Neg) else node
    return isinstance(inner, exp.Literal) and inner.is_number


@handles(exp.Nullif, exp.Case)
def nan_implicit_equalities(tree: exp.Expr) -> exp.Expr:
    """``NULLIF(a, b)`` and ``CASE x WHEN y ...`` of FLOAT64 values as the explicit ``=``
    they mean, so the NaN rule of ``=`` applies (GoogleSQL: ``NULLIF(NaN, NaN)`` is NaN,
    DuckDB's NULL). Typed; a number literal compared leaves them alone (DuckDB agrees).

    Example:
        >>> import sqlglot
        >>> tree = sqlglot.parse_one("SELECT NULLIF(x, y)", read="bigquery")
        >>> for c in tree.find_all(exp.Column):
        ...     c.type = exp.DataType.build("DOUBLE")
        >>> print(nan_implicit_equalities(tree).sql("duckdb"))
        SELECT CASE WHEN x = y THEN NULL ELSE x END
    """
    for node in list(tree.find_all(exp.Nullif)):
        left, right = node.this, node.expression
        if not (_float_typed(left) or _float_typed(right)):
            continue
        if _finite_number(left) or _finite_number(right) or left.find(exp.Rand, exp.Uuid):
            continue
        test = exp.EQ(this=dup(left), expression=dup(right))
        case = exp.Case(ifs=[exp.If(this=test, true=exp.null())], default=dup(left))
        case.type = node.type
        node.replace(case)
    for node in list(tree.find_all(exp.Case)):
        operand = node.this
        if operand is None or operand.find(exp.Rand, exp.Uuid):
            continue
        whens = [i.this for i in node.args.get("ifs") or []]
        if not (_float_typed(operand) or any(_float_typed(w) for w in whens)):
            continue
        if all(_finite_number(w) for w in whens):
            continue
        for branch in node.args.get("ifs") or []:
            branch.set("this", exp.EQ(this=dup(operand), expression=branch.this))
        node.set("this", None)
    return tree


def _is_nan(value: exp.Expr) -> exp.Expr:
    return exp.IsNan(this=dup(value))


@handles(exp.In)
def nan_in_sets(tree: exp.Expr) -> exp.Expr:
    """``x IN UNNEST(a)`` / ``x IN (SELECT ...)`` of a FLOAT64 ``x``: a NaN matches nothing
    in GoogleSQL (NULL when a candidate is NULL, else FALSE); DuckDB finds NaN in a set
    holding NaN. Other values keep DuckDB's answer (it agrees).

    Example:
        >>> import sqlglot
        >>> tree = sqlglot.parse_one("SELECT x IN UNNEST(a)", read="bigquery")
        >>> tree.find(exp.Column).type = exp.DataType.build("DOUBLE")
        >>> print(nan_in_sets(tree).sql("bigquery"))
        SELECT CASE WHEN IS_NAN(x) THEN CASE WHEN EXISTS(SELECT 1 FROM UNNEST(a) AS _nan_v WHERE _nan_v IS NULL) THEN NULL ELSE FALSE END ELSE x IN UNNEST(a) END
    """
    for node in list(tree.find_all(exp.In)):
        value = node.this
        unnest, query = node.args.get("unnest"), node.args.get("query")
        if not (unnest or query) or not _float_typed(value) or _finite_number(value):
            continue
        if value.find(exp.Rand, exp.Uuid):
            continue
        if unnest is not None:
            source = exp.Unnest(expressions=[dup(e) for e in unnest.expressions])
            alias = exp.TableAlias(columns=[exp.to_identifier("_nan_v")])
            source.set("alias", alias)
            probe = exp.column("_nan_v")
        else:
            inner = query.this if isinstance(query, exp.Subquery) else query
            source = exp.Subquery(
                this=dup(inner),
                alias=exp.TableAlias(
                    this=exp.to_identifier("_nan_s"), columns=[exp.to_identifier("_nan_v")]
                ),
            )
            probe = exp.column("_nan_v", table="_nan_s")
        has_null = exp.Exists(
            this=exp.select("1").from_(source).where(exp.Is(this=probe, expression=exp.null()))
        )
        on_nan = exp.Case(ifs=[exp.If(this=has_null, true=exp.null())], default=exp.false())
        guarded = exp.Case(ifs=[exp.If(this=_is_nan(value), true=on_nan)])
        node.replace(guarded)
        guarded.set("default", node)
    return tree


def _conjuncts(node: exp.Expr) -> list[exp.Expr]:
    while isinstance(node, exp.Paren):
        node = node.this
    if isinstance(node, exp.And):
        return _conjuncts(node.this) + _conjuncts(node.expression)
    return [node]


@handles(exp.Join)
def nan_join_keys(tree: exp.Expr) -> exp.Expr:
    """A join's ``a = b`` of FLOAT64 values never matches a NaN in GoogleSQL; DuckDB's
    join matches NaN with NaN. Each such key gets ``AND NOT IS_NAN(a)`` beside it (the
    equality stays a join key)."""
    for join in list(tree.find_all(exp.Join)):
        on = join.args.get("on")
        if on is None:
            continue
        guards = []
        for eq in list(on.find_all(exp.EQ)):
            left, right = eq.this, eq.expression
            if not (_float_typed(left) or _float_typed(right)):
                continue
            side = left if _float_typed(left) else right
            if any(c is eq for c in _conjuncts(on)):
                guards.append(exp.Not(this=_is_nan(side)))
            else:
                eq.replace(exp.paren(exp.and_(dup(eq), exp.Not(this=_is_nan(side)))))
        if guards:
            join.set("on", exp.and_(join.args["on"], *guards))
    return tree


def _projection(source: exp.Expr | None, name: str) -> exp.Expr | None:
    """The projection named ``name`` of a subquery source (None where not known)."""
    if not isinstance(source, exp.Subquery) or not isinstance(source.this, exp.Select):
        return None
    for projection in source.this.selects:
        if projection.alias_or_name.lower() == name.lower():
            return projection
    return None


@handles(exp.Join)
def nan_using_keys(tree: exp.Expr) -> exp.Expr:
    """Refuse ``JOIN ... USING (k)`` on a FLOAT64 ``k``: DuckDB matches NaN with NaN."""
    from idcbq.errors import TranspileError

    for join in tree.find_all(exp.Join):
        for key in join.args.get("using") or []:
            select = join.parent
            sources = [j.this for j in select.args.get("joins") or []]
            if select.args.get("from"):
                sources.append(select.args["from"].this)
            for source in sources:
                projection = _projection(source, key.name)
                if projection is not None and _float_typed(projection):
                    raise TranspileError(
                        f"unsupported on DuckDB: JOIN ... USING ({key.name}) of FLOAT64 "
                        "values (GoogleSQL never matches NaN, DuckDB does)"
                    )
    return tree


#: The rules above, run before ``numeric.nan_comparisons`` (which gives ``=`` NaN's rule).
NAN_EQUALITIES = (nan_implicit_equalities, nan_in_sets, nan_join_keys, nan_using_keys)
#: Node types those rules act on.
NAN_TRIGGERS = (exp.Nullif, exp.Case, exp.In, exp.Join)
