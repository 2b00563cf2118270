"""Rewrites for BigQuery semantics DuckDB does not share (found by the GoogleSQL probes).

Each function takes and returns a BigQuery-dialect tree (before DuckDB generation);
these need no types (the typed ones are in ``idcbq.transpile.typed``). Every one has
probes in ``tests/probes/`` that run on DuckDB and on GoogleSQL's reference
implementation:

- ``unnest_alias_shadowing``: ``FROM t, UNNEST(col) AS col`` (the alias wins, as in BigQuery).
- ``output_names``: a field path is named after its last field, columns as written,
  other unnamed expressions ``f0_``, ``f1_``, ... (DuckDB names them after their SQL).
- ``extract_parts``: ``DAYOFWEEK`` is 1 (Sunday) to 7; ``ISOWEEK``/``ISOYEAR``/``WEEK``;
  ``EXTRACT(DATE/TIME/DATETIME FROM ts)``.
- ``like_escape``: a backslash escapes ``%``, ``_`` and itself in a LIKE pattern.
- ``substr_positions``: position 0 is 1, a negative position before the start is 1,
  a negative length is an error.
- ``upper_sharp_s``: ``UPPER('ß')`` is ``SS``.
- ``regexp_groups``: a literal pattern with more than one capturing group is an error.
- ``ieee_divide``: ``IEEE_DIVIDE`` is float division giving inf/NaN.
- ``division_by_zero``: ``/``, ``DIV`` and ``MOD`` by zero raise, as in BigQuery.
- ``string_agg_limit``: ``STRING_AGG(... ORDER BY ... LIMIT n)`` (DuckDB cannot parse it).
"""

from __future__ import annotations

import re

from sqlglot import exp

from idcbq.errors import TranspileError
from idcbq.transpile.rewrites import (  # error_call: re-exported for the rule modules
    detach,
    error_call,
    int_literal,
    literal_limit,
)
from idcbq.transpile.rules import inspects, run_triggered

T = exp.DataType.Type


def is_typed(node: exp.Expr, *types: T, unknown: bool | None = None) -> bool:
    """True if ``node``'s type (set by :func:`idcbq.transpile.types.annotate`) is one of ``types``.

    A typed rewrite asks this to decide whether DuckDB would differ. A node neither
    sqlglot nor GoogleSQL's analysis could type is ``UNKNOWN`` and the answer would be
    a guess (a rewrite silently off), so it refuses:
    :class:`~idcbq.transpile.known.UnknownType` names the expression (see
    :func:`~idcbq.transpile.known.strict_types` for when). A NULL literal has no type
    that matters (False), nor has a node a rewrite built after annotation (no type: it
    is already translated).

    Without GoogleSQL's analysis (``strict_types`` off) an unknown type refuses too,
    unless the caller passes ``unknown``: its answer for a type nobody knows, given
    only where the rule's skip is harmless for every type (the caller says why: the
    value is tested at run time, or a cast a rule built reads DuckDB's own text).

    Example:
        >>> n = exp.Literal.number(1)
        >>> n.type = exp.DataType.build("BIGINT")
        >>> is_typed(n, T.BIGINT), is_typed(exp.null(), T.DATE)
        (True, False)
        >>> x = exp.column("x")
        >>> x.type = exp.DataType.build("UNKNOWN")  # annotation could not type it
        >>> x.meta["idcbq_untyped"] = True  # ... nor any column of the query
        >>> is_typed(x, T.DATE)
        Traceback (most recent call last):
        ...
        idcbq.transpile.known.UnknownType: unsupported on DuckDB: the translation of `x` depends on its type, which is not known here (the query's columns could not be typed)
          hint: CAST the value to its type first, or use --engine bigquery
    """
    if isinstance(node, exp.Distinct) and len(node.expressions) == 1:
        node = node.expressions[0]  # SUM(DISTINCT x): the type of x
    kind = node.type
    if kind is None:  # built by a rewrite after annotation: its own translation
        return False
    if kind.is_type(T.UNKNOWN):
        from idcbq.transpile.known import strict_types, unknown_type

        if isinstance(node, exp.Null):
            return False
        if unknown is not None and not strict_types(node):
            return unknown  # the caller's skip is harmless (see above)
        raise unknown_type(node)
    return kind.is_type(*types)


def known_not(node: exp.Expr, *types: T) -> bool:
    """True if ``node`` is known to be none of ``types``: NULL, a node a rewrite built (no
    type, see :func:`is_typed`) or another type than ``types`` and ``UNKNOWN``."""
    kind = node.type
    return isinstance(node, exp.Null) or kind is None or not kind.is_type(*types, T.UNKNOWN)


# -- names ---------------------------------------------------------------------------


def output_names(tree: exp.Expr, *, columns: bool = True) -> exp.Expr:
    """Alias unnamed select-list expressions the way BigQuery names them.

    ``columns=False`` leaves plain columns and field paths alone (they keep their name
    through the rewrites; a ``x AS x`` everywhere would stop sqlglot typing the query).
    """
    for select in list(tree.find_all(exp.Select)):
        anonymous = 0
        # A SELECT AS STRUCT's unnamed items are anonymous fields, which BigQuery
        # shows as _field_N (N counts every field); f0_ names only columns.
        # (A set operation's branches are named by position elsewhere: value_names.)
        struct = str(select.args.get("kind") or "").upper() == "STRUCT" and not isinstance(
            select.parent, exp.SetOperation
        )
        for i, item in enumerate(list(select.expressions)):
            if isinstance(item, exp.Alias | exp.Star) or (
                isinstance(item, exp.Column) and isinstance(item.this, exp.Star)
            ):
                continue
            inner = item.this if isinstance(item, exp.Paren) else item
            if isinstance(inner, exp.Column | exp.Dot) and inner.name:
                if not columns:
                    continue
                name, quoted = inner.name, True  # as written (DuckDB: the schema's spelling)
            elif struct:
                name, quoted = f"_field_{i + 1}", False
            else:
                name, quoted = f"f{anonymous}_", False
                anonymous += 1
            select.expressions[i] = exp.alias_(item, name, quoted=quoted, copy=False)
            select.expressions[i].parent = select
        select.set("expressions", select.expressions)
    return tree


def value_table_subqueries(tree: exp.Expr) -> exp.Expr:
    """``FROM (SELECT AS STRUCT a, b)``: the rows' columns are the fields ``a`` and ``b``.

    DuckDB would make one STRUCT column of them (``SELECT *`` gives one column, not two);
    a plain subquery gives the fields as columns, and its alias still names the row.
    """
    for sub in list(tree.find_all(exp.Subquery)):
        select = sub.this
        if (
            isinstance(select, exp.Select)
            and str(select.args.get("kind") or "").upper() == "STRUCT"
            and isinstance(sub.parent, exp.From | exp.Join)
        ):
            select.set("kind", None)
    return tree


def set_operation_operands(tree: exp.Expr) -> exp.Expr:
    """A set operation operand that is itself a set operation, left bare by the parser
    (``(a UNION ALL b) |> INTERSECT DISTINCT (c UNION ALL d)``), becomes a subquery:
    written out bare, DuckDB's precedence (INTERSECT before UNION) would regroup it.

    A chain of one operation on the left (``a UNION ALL b UNION ALL c``) stays as is.
    """
    for node in list(tree.find_all(exp.SetOperation)):
        for key in ("this", "expression"):
            operand = node.args.get(key)
            if not isinstance(operand, exp.SetOperation):
                continue
            same_chain = (
                key == "this"
                and type(operand) is type(node)
                and bool(operand.args.get("distinct")) == bool(node.args.get("distinct"))
            )
            if same_chain:
                continue
            wrapped = exp.select("*").from_(exp.Subquery(this=operand.copy()))
            node.set(key, wrapped)
    return tree


def unnest_alias_shadowing(tree: exp.Expr) -> exp.Expr:
    """``FROM t, UNNEST(col) AS col`` (or ``UNNEST(col.field) AS col``): in BigQuery the
    UNNEST alias wins over the column.

    DuckDB calls ``col`` ambiguous. Rename the alias (and the references to it in that
    SELECT, outside the UNNEST's own argument) and keep the output column's name.
    """
    for unnest in list(tree.find_all(exp.Unnest)):
        alias = unnest.args.get("alias")
        if not alias or len(alias.columns) != 1 or len(unnest.expressions) != 1:
            continue
        arg = unnest.expressions[0]
        name = alias.columns[0].name
        if not isinstance(arg, exp.Column) or name.lower() not in (
            arg.name.lower(),  # UNNEST(col) AS col
            arg.parts[0].name.lower(),  # UNNEST(col.field) AS col: a path from the column
        ):
            continue
        select = unnest.find_ancestor(exp.Select)
        if select is None:
            continue
        new = f"_idcbq_{name}"
        alias.set("columns", [exp.to_identifier(new)])
        for i, item in enumerate(list(select.expressions)):
            if (
                isinstance(item, exp.Column)
                and not item.table
                and item.name.lower() == name.lower()
            ):
                select.expressions[i] = exp.alias_(item, item.name, quoted=True)
                select.expressions[i].parent = select
        select.set("expressions", select.expressions)
        with_ = select.args.get("with_")
        for column in list(select.find_all(exp.Column)):
            if column is arg or column.find_ancestor(exp.Unnest) is unnest:
                continue
            if with_ is not None and _within(column, with_):
                continue  # a CTE of this SELECT reads its own sources: the alias is not there
            if not column.table and column.name.lower() == name.lower():
                column.set("this", exp.to_identifier(new))
            elif column.table.lower() == name.lower() and not column.args.get("db"):
                column.set("table", exp.to_identifier(new))
    return tree


def depth(node: exp.Expr) -> int:
    """How many ancestors ``node`` has (0 for a root)."""
    n = 0
    while node.parent is not None:
        node, n = node.parent, n + 1
    return n


def _within(node: exp.Expr, ancestor: exp.Expr) -> bool:
    """True if ``ancestor`` encloses ``node`` (at any depth)."""
    parent = node.parent
    while parent is not None:
        if parent is ancestor:
            return True
        parent = parent.parent
    return False


# -- dates ---------------------------------------------------------------------------


def extract_parts(tree: exp.Expr) -> exp.Expr:
    """EXTRACT parts whose numbering or name differs in DuckDB."""
    for node in list(tree.find_all(exp.Extract)):
        part = node.this.name.upper() if isinstance(node.this, exp.Var) else ""
        arg = node.expression.copy()
        if part in ("DATE", "TIME", "DATETIME"):  # the session is UTC (engine connection)
            node.replace(exp.cast(arg, "TIMESTAMP" if part == "DATETIME" else part))
        elif part == "DAYOFWEEK":
            node.replace(
                exp.paren(
                    exp.Add(
                        this=exp.Anonymous(this="dayofweek", expressions=[arg]),
                        expression=exp.Literal.number(1),
                    )
                )
            )
        elif part == "ISOWEEK":
            node.replace(exp.Anonymous(this="week", expressions=[arg]))
        elif part == "ISOYEAR":
            node.replace(exp.Anonymous(this="isoyear", expressions=[arg]))
        elif part == "WEEK":  # weeks start on Sunday; days before the first Sunday are week 0
            days = exp.Add(
                this=exp.Anonymous(this="dayofyear", expressions=[arg.copy()]),
                expression=exp.Literal.number(6),
            )
            days = exp.Sub(this=days, expression=exp.Anonymous(this="dayofweek", expressions=[arg]))
            node.replace(exp.IntDiv(this=exp.paren(days), expression=exp.Literal.number(7)))
    return tree


# -- strings -------------------------------------------------------------------------


def like_escape(tree: exp.Expr) -> exp.Expr:
    """``x LIKE p`` -> ``x LIKE p ESCAPE '\\'`` (BigQuery's backslash escapes)."""
    for like in list(tree.find_all(exp.Like)):
        if isinstance(like.parent, exp.Escape):
            continue
        pattern = like.expression
        if isinstance(pattern, exp.Literal) and pattern.is_string and "\\" not in pattern.this:
            continue
        detach(like).replace(exp.Escape(this=like, expression=exp.Literal.string("\\")))
    return tree


def substr_positions(tree: exp.Expr) -> exp.Expr:
    """``SUBSTR(s, p[, n])`` with BigQuery's rules for p <= 0 and n < 0."""
    for node in list(tree.find_all(exp.Substring)):
        start = node.args.get("start")
        length = node.args.get("length")
        value = node.this
        p = int_literal(start) if start is not None else 1
        if start is not None and (p is None or p <= 0):
            if p == 0:
                new_start: exp.Expr = exp.Literal.number(1)
            else:
                from_end = exp.Add(
                    this=exp.Add(this=exp.Length(this=value.copy()), expression=start.copy()),
                    expression=exp.Literal.number(1),
                )
                clamp = exp.Greatest(this=from_end, expressions=[exp.Literal.number(1)])
                if p is None:
                    new_start = exp.Case(
                        ifs=[
                            exp.If(
                                this=exp.GT(this=start.copy(), expression=exp.Literal.number(0)),
                                true=start.copy(),
                            ),
                            exp.If(
                                this=exp.EQ(this=start.copy(), expression=exp.Literal.number(0)),
                                true=exp.Literal.number(1),
                            ),
                        ],
                        default=clamp,
                    )
                else:
                    new_start = clamp
            node.set("start", new_start)
        if length is not None:
            n = int_literal(length)
            if n is not None and n < 0 and node.find_ancestor(exp.SafeFunc) is None:
                raise TranspileError(
                    "SUBSTR: third argument cannot be negative (BigQuery rejects it)"
                )
            if n is None or n < 0:  # a value, or SAFE.SUBSTR: its error() becomes NULL
                negative = exp.LT(this=length.copy(), expression=exp.Literal.number(0))
                node.set(
                    "length",
                    exp.Case(
                        ifs=[
                            exp.If(
                                this=negative,
                                true=error_call("Third argument in SUBSTR() cannot be negative"),
                            )
                        ],
                        default=length.copy(),
                    ),
                )
    return tree


def upper_sharp_s(tree: exp.Expr) -> exp.Expr:
    """``UPPER``: BigQuery maps ``ß`` to ``SS`` (full case mapping); DuckDB to ``ẞ``."""
    for node in list(tree.find_all(exp.Upper)):
        if node.meta.get("idcbq_upper"):
            continue
        node.meta["idcbq_upper"] = True
        node.set(
            "this",
            exp.Anonymous(
                this="replace",
                expressions=[node.this.copy(), exp.Literal.string("ß"), exp.Literal.string("SS")],
            ),
        )
    return tree


@inspects
def regexp_groups(tree: exp.Expr) -> exp.Expr:
    """REGEXP_EXTRACT(_ALL) with a literal pattern of 2+ capturing groups: BigQuery errors."""
    for node in list(tree.find_all(exp.RegexpExtract, exp.RegexpExtractAll)):
        pattern = node.expression
        if isinstance(pattern, exp.Literal | exp.RawString):
            groups = len(re.findall(r"(?<!\\)\((?!\?)", pattern.this))
            if groups > 1:
                raise TranspileError(
                    "regular expressions passed into extraction functions must not have more "
                    f"than 1 capturing group: {pattern.this!r}"
                )
    return tree


# -- arithmetic ----------------------------------------------------------------------


def _nonzero(divisor: exp.Expr) -> exp.Expr:
    value = int_literal(divisor)
    if value is not None and value != 0:
        return divisor
    if isinstance(divisor, exp.Literal) and not divisor.is_string:
        try:
            if float(divisor.this) != 0:
                return divisor
        except ValueError:
            pass
    zero = exp.EQ(this=divisor.copy(), expression=exp.Literal.number(0))
    return exp.Case(ifs=[exp.If(this=zero, true=error_call("division by zero"))], default=divisor)


def division_by_zero(tree: exp.Expr) -> exp.Expr:
    """``a / 0``, ``DIV(a, 0)``, ``MOD(a, 0)`` raise "division by zero" (DuckDB: inf/NULL)."""
    for node in list(tree.find_all(exp.Div, exp.IntDiv, exp.Mod)):
        if node.meta.get("idcbq_div"):
            continue
        node.meta["idcbq_div"] = True
        divisor = _nonzero(node.expression.copy())
        if isinstance(node, exp.Mod):
            divisor = _not_minus_one(divisor)
        node.set("expression", divisor)
    return tree


def _not_minus_one(divisor: exp.Expr) -> exp.Expr:
    """A MOD divisor with -1 made 1: the remainder is the same (0 for an INT64, the
    fraction with the dividend's sign for a NUMERIC) but DuckDB raises an overflow for
    ``MOD(-9223372036854775808, -1)``, which GoogleSQL answers 0."""
    value = int_literal(divisor)
    if value is not None:
        return exp.Literal.number(1) if value == -1 else divisor
    if isinstance(divisor, exp.Literal):
        return divisor
    minus_one = exp.EQ(this=divisor.copy(), expression=exp.Literal.number(-1))
    return exp.Case(ifs=[exp.If(this=minus_one, true=exp.Literal.number(1))], default=divisor)


def ieee_divide(tree: exp.Expr) -> exp.Expr:
    """``IEEE_DIVIDE(a, b)`` -> DuckDB double division (inf and NaN, no error)."""
    for node in list(tree.find_all(exp.Anonymous)):
        if str(node.this).upper() == "IEEE_DIVIDE" and len(node.expressions) == 2:
            a, b = (exp.cast(e.copy(), "DOUBLE") for e in node.expressions)
            div = exp.Div(this=a, expression=b)
            div.meta["idcbq_div"] = True
            div.meta["idcbq_ieee"] = True  # inf/NaN is its answer (errors_runtime leaves it)
            node.replace(exp.paren(div))
    return tree


# -- aggregates ----------------------------------------------------------------------


def string_agg_limit(tree: exp.Expr) -> exp.Expr:
    """``STRING_AGG(x, sep ORDER BY k LIMIT n)`` -> the first n non-NULL values joined."""
    for agg in list(tree.find_all(exp.GroupConcat)):
        limit = literal_limit(agg, "STRING_AGG")
        if limit is None:
            continue
        n = limit.expression
        ordered = limit.this
        value = ordered.this if isinstance(ordered, exp.Order) else ordered
        if isinstance(value, exp.Distinct):
            value = value.expressions[0]
        listed = exp.Filter(
            this=exp.ArrayAgg(this=ordered.copy()),
            expression=exp.Where(
                this=exp.Not(this=exp.Is(this=value.copy(), expression=exp.null()))
            ),
        )
        sliced = exp.Anonymous(
            this="list_slice", expressions=[listed, exp.Literal.number(1), n.copy()]
        )
        separator = agg.args.get("separator") or exp.Literal.string(",")
        joined = exp.Anonymous(this="array_to_string", expressions=[sliced, separator.copy()])
        empty = exp.EQ(this=exp.ArraySize(this=sliced.copy()), expression=exp.Literal.number(0))
        agg.replace(exp.Case(ifs=[exp.If(this=empty, true=exp.null())], default=joined))
    return tree


#: (rewrite, node types it acts on): a rewrite runs only if its nodes occur.
UNTYPED = (
    (unnest_alias_shadowing, (exp.Unnest,)),
    (output_names, (exp.Select,)),
    (value_table_subqueries, (exp.Subquery,)),
    (set_operation_operands, (exp.SetOperation,)),
    (extract_parts, (exp.Extract,)),
    (like_escape, (exp.Like,)),
    (substr_positions, (exp.Substring,)),
    (regexp_groups, (exp.RegexpExtract, exp.RegexpExtractAll)),
    (ieee_divide, (exp.Anonymous,)),
    (division_by_zero, (exp.Div, exp.IntDiv, exp.Mod)),
    (string_agg_limit, (exp.GroupConcat,)),
    (upper_sharp_s, (exp.Upper,)),
)


def apply_untyped(tree: exp.Expr) -> exp.Expr:
    """Run the rewrites of :data:`UNTYPED` whose node types occur in ``tree`` (one walk)."""
    return run_triggered(tree, UNTYPED)


def is_numeric_cast(node: exp.Expr | None) -> bool:
    """Whether ``node`` is a CAST to NUMERIC's ``DECIMAL(38, 9)`` (a rewrite's own)."""
    return isinstance(node, exp.Cast) and node.to.sql("duckdb") == "DECIMAL(38, 9)"
