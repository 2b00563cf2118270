"""Our BigQuery -> DuckDB rewrites, for the places where sqlglot 30.30 is wrong or silent.

Each function takes and returns a BigQuery-dialect expression tree (before DuckDB
generation) and has an executed test in ``tests/test_transpile_rewrites.py``:

- ``array_subscripts``: ``arr[OFFSET(i)]`` / ``[SAFE_OFFSET(i)]`` / ``[ORDINAL(i)]`` /
  ``[SAFE_ORDINAL(i)]`` / bare ``arr[i]``. sqlglot shifts integer literals only; a
  column index went out unshifted (off by one), a negative index read from the end
  of a DuckDB list, and an out-of-range ``OFFSET`` returned NULL where BigQuery
  raises "Array index ... is out of bounds".
- ``unnest_with_offset``: sqlglot turns ``WITH OFFSET`` into DuckDB's 1-based
  ``WITH ORDINALITY``; BigQuery offsets are 0-based.
- ``array_agg_limit``: ``ARRAY_AGG(... LIMIT n)`` (sqlglot refuses) -> ``list_slice``.
- ``format_to_printf``: ``FORMAT('%d', x)`` passed through unchanged, but DuckDB's
  ``format`` uses ``{}`` placeholders, so the result was the format string itself.
- ``operator_grouping``: ``DIV(a - 1, b)`` was written ``a - 1 // b``, ``~1 + 1`` read
  as ``~(1 + 1)`` and a built ``Sub(a, Sub(b, c))`` as ``a - b - c``; run last, it
  parenthesizes what DuckDB would group otherwise.
- ``bitwise_mixes``: different bitwise operators without parentheses are refused
  (sqlglot reads them left to right; GoogleSQL has precedence levels).
"""

from __future__ import annotations

import re
from itertools import count

from sqlglot import exp

from idcbq.errors import TranspileError
from idcbq.transpile.boolean_aggregates import countif_zero, logical_distinct
from idcbq.transpile.literals import float_literals, int_constants
from idcbq.transpile.printf_args import printf_args
from idcbq.transpile.rules import handles

#: Marks the ``error()`` calls idcbq's rewrites add (not the query's own ``ERROR``): a
#: ``SAFE.`` call turns them to NULL.
GUARD_ERROR = "idcbq_guard_error"

#: Marks a NULL another branch or operand types (``typed.null_outputs`` leaves it): a
#: by-name set operation's for a column an operand lacks, an empty window frame's.
FILLER = "idcbq_typed_elsewhere_null"


def _shift(index: exp.Expr, by: int) -> exp.Expr:
    if by == 0:
        return index
    return exp.Add(this=exp.paren(index, copy=False), expression=exp.Literal.number(by))


def detach(node: exp.Expr) -> exp.Expr:
    """Swap ``node`` out of its tree for a placeholder and return the placeholder.

    ``detach(node).replace(wrapper_of(node))`` puts an expression that contains ``node``
    where ``node`` was (building the wrapper first would re-parent ``node`` too early).

    Example:
        >>> import sqlglot
        >>> tree = sqlglot.parse_one("SELECT SIGN(x) AS s")
        >>> node = tree.find(exp.Sign)
        >>> _ = detach(node).replace(exp.cast(node, "DOUBLE"))
        >>> tree.sql()
        'SELECT CAST(SIGN(x) AS DOUBLE) AS s'
    """
    placeholder = exp.Literal.string("_idcbq_placeholder")
    kind = node.type
    node.replace(placeholder)
    known = kind is not None and not kind.is_type(exp.DataType.Type.UNKNOWN)
    return Slot(placeholder, kind if known else None)


class Slot:
    """Where :func:`detach` took a node out: ``replace(new)`` puts ``new`` there, giving it
    the node's type when it has none. A rewrite keeps GoogleSQL's meaning, so its type,
    and typed rules after it read it (``CAST(STDDEV(x) AS STRING)`` of a rewritten
    ``STDDEV`` printed ``1.0``)."""

    def __init__(self, placeholder: exp.Expr, kind: exp.DataType | None) -> None:
        self.placeholder = placeholder
        self.kind = kind

    def replace(self, expression: exp.Expr) -> exp.Expr:
        """Put ``expression`` where the node was (typed as it was, if untyped)."""
        if self.kind is not None and expression.type is None:
            expression.type = self.kind
        return self.placeholder.replace(expression)


def int_literal(node: exp.Expr) -> int | None:
    """The value of an integer literal (``7``, ``-7``, ``--7``), or None for anything else."""
    if isinstance(node, exp.Literal) and not node.is_string and re.fullmatch(r"\d+", node.this):
        return int(node.this)
    if isinstance(node, exp.Neg):
        inner = int_literal(node.this)
        return None if inner is None else -inner
    return None


def literal_limit(agg: exp.Expr, name: str) -> exp.Limit | None:
    """An aggregate's ``LIMIT n`` node (None without one); ``n`` must be an integer literal.

    Raises:
        TranspileError: ``n`` is not an integer literal (``name`` is the aggregate's name).
    """
    limit = agg.this
    if not isinstance(limit, exp.Limit):
        return None
    n = limit.expression
    if int_literal(n) is None:
        raise TranspileError(f"unsupported on DuckDB: {name} ... LIMIT {n.sql('bigquery')}")
    return limit


def error_call(message: exp.Expr | str) -> exp.Expr:
    """DuckDB ``error(message)``, marked as one of idcbq's guards (:data:`GUARD_ERROR`)."""
    text = exp.Literal.string(message) if isinstance(message, str) else message
    call = exp.Anonymous(this="error", expressions=[text])
    call.meta[GUARD_ERROR] = True
    return call


def _bounds_error(index_sql: exp.Expr) -> exp.Expr:
    message = exp.DPipe(
        this=exp.DPipe(
            this=exp.Literal.string("Array index "),
            expression=exp.cast(index_sql.copy(), "TEXT"),
        ),
        expression=exp.Literal.string(" is out of bounds"),
    )
    return error_call(message)


@handles(exp.Bracket)
def array_subscripts(tree: exp.Expr) -> exp.Expr:
    """Make BigQuery array subscripts exact on DuckDB's 1-based lists."""

    def fix(node: exp.Expr) -> exp.Expr:
        if not isinstance(node, exp.Bracket) or node.meta.get("idcbq_done"):
            return node
        if len(node.expressions) != 1:
            return node
        index = node.expressions[0]
        if isinstance(index, exp.Literal) and index.is_string:
            return node  # struct/JSON field by name, not a list position
        base = node.args.get("offset") or 0  # 0 for OFFSET and bare [i], 1 for ORDINAL
        safe = bool(node.args.get("safe"))
        arr = node.this

        def element(one_based: exp.Expr) -> exp.Bracket:
            # offset=1 tells the DuckDB generator the index is already 1-based.
            out = exp.Bracket(this=arr.copy(), expressions=[one_based], offset=1)
            out.meta["idcbq_done"] = True
            return out

        literal = int_literal(index)
        if literal is not None:
            position = literal - base  # 0-based position
            if position < 0:
                return exp.null() if safe else _bounds_error(index)
            pos1 = exp.Literal.number(position + 1)
            if safe:
                return element(pos1)
            # BigQuery errors when the array is too short; NULL array -> NULL.
            in_range = exp.func(
                "COALESCE",
                exp.GT(
                    this=exp.ArraySize(this=arr.copy()), expression=exp.Literal.number(position)
                ),
                exp.true(),
            )
            return exp.Case(
                ifs=[exp.If(this=in_range, true=element(pos1))], default=_bounds_error(index)
            )
        pos1 = _shift(index.copy(), 1 - base)
        if safe:
            guard = exp.GTE(this=index.copy(), expression=exp.Literal.number(base))
            return exp.Case(ifs=[exp.If(this=guard, true=element(pos1))])
        in_range = exp.func(
            "COALESCE",
            exp.and_(
                exp.GTE(this=index.copy(), expression=exp.Literal.number(base)),
                exp.LT(
                    this=_shift(index.copy(), -base),
                    expression=exp.ArraySize(this=arr.copy()),
                ),
            ),
            exp.true(),
        )
        return exp.Case(
            ifs=[exp.If(this=in_range, true=element(pos1))], default=_bounds_error(index)
        )

    return tree.transform(fix, copy=False)


@handles(exp.Unnest)
def unnest_with_offset(tree: exp.Expr) -> exp.Expr:
    """``UNNEST(a) AS v WITH OFFSET AS o`` -> a lateral subquery exposing a 0-based ``o``."""
    names = (f"_idcbq_u{i}" for i in count())
    for unnest in list(tree.find_all(exp.Unnest)):
        offset = unnest.args.get("offset")
        if not offset:
            continue
        alias = unnest.args.get("alias")
        columns = alias.columns if alias else []
        if len(unnest.expressions) != 1 or len(columns) != 1:
            raise TranspileError(
                "unsupported on DuckDB: UNNEST ... WITH OFFSET without exactly one array and "
                "one value alias",
                hint="write UNNEST(array) AS value WITH OFFSET AS position",
            )
        offset_name = offset.name if isinstance(offset, exp.Identifier) else "offset"
        value_name = columns[0].name
        inner_alias = next(names)
        inner = exp.Unnest(
            expressions=[unnest.expressions[0].copy()],
            alias=exp.TableAlias(
                this=exp.to_identifier(inner_alias),
                columns=[exp.to_identifier("_v")],
            ),
            offset=exp.to_identifier("_o"),
        )
        select = exp.select(
            exp.alias_(exp.column("_v", table=inner_alias), value_name, quoted=columns[0].quoted),
            exp.alias_(
                exp.Sub(this=exp.column("_o", table=inner_alias), expression=exp.Literal.number(1)),
                offset_name,
                quoted=isinstance(offset, exp.Identifier) and offset.quoted,
            ),
        ).from_(inner)
        outer_alias = alias.name if alias and alias.name else next(names)
        unnest.replace(
            exp.Subquery(this=select, alias=exp.TableAlias(this=exp.to_identifier(outer_alias)))
        )
    return tree


@handles(exp.ArrayAgg)
def array_agg_limit(tree: exp.Expr) -> exp.Expr:
    """``ARRAY_AGG(x [IGNORE NULLS] ORDER BY y LIMIT n)`` -> ``list_slice(ARRAY_AGG(...), 1, n)``."""
    for agg in list(tree.find_all(exp.ArrayAgg)):
        limit = literal_limit(agg, "ARRAY_AGG")
        if limit is None:
            continue
        n = limit.expression
        agg.set("this", limit.this)
        outer: exp.Expr = agg
        if isinstance(agg.parent, exp.IgnoreNulls | exp.RespectNulls):
            outer = agg.parent
        detach(outer).replace(
            exp.Anonymous(this="list_slice", expressions=[outer, exp.Literal.number(1), n.copy()])
        )
    return tree


# BigQuery FORMAT specifiers that printf renders identically for the same argument types.
_FORMAT_SPEC = re.compile(r"%(?P<flags>[-+ #0]*)(?P<width>\d*)(?:\.(?P<prec>\d+))?(?P<conv>.)")
_PRINTF_SAFE = set("disfFeEgGxXo%")


@handles(exp.Format)
def format_to_printf(tree: exp.Expr) -> exp.Expr:
    """``FORMAT('...%d...', x)`` -> ``printf(...)``; specifiers without a printf twin raise."""
    for node in list(tree.find_all(exp.Format)):
        fmt = node.this
        if not (isinstance(fmt, exp.Literal) and fmt.is_string):
            raise TranspileError("unsupported on DuckDB: FORMAT with a non-literal format string")
        fmt, args = printf_args(fmt, list(node.expressions))
        node.set("expressions", args)
        for match in _FORMAT_SPEC.finditer(fmt.this):
            if match.group("conv") not in _PRINTF_SAFE or "'" in match.group("flags"):
                raise TranspileError(
                    f"unsupported on DuckDB: FORMAT specifier {match.group(0)!r} in {fmt.this!r}"
                )
        node.replace(exp.Anonymous(this="printf", expressions=[fmt.copy(), *node.expressions]))
    return tree


_VOLATILE = {"ERROR", "RAND", "RANDOM", "GENERATE_UUID"}


def _is_volatile(node: exp.Expr) -> bool:
    return any(
        (isinstance(n, exp.Anonymous) and str(n.this).upper() in _VOLATILE)
        or isinstance(n, exp.Rand)
        for n in node.walk()
    )


@handles(exp.GroupConcat)
def string_agg_distinct_volatile(tree: exp.Expr) -> exp.Expr:
    """``STRING_AGG(DISTINCT f(x), sep ORDER BY f(x))`` where ``f`` calls ``ERROR()``.

    DuckDB refuses a DISTINCT aggregate whose ORDER BY is not "the same" expression as
    the argument, and a volatile ``error()`` makes two equal texts unequal to DuckDB.
    (idc_index.sql does this.) The sorted distinct non-NULL values joined by ``sep``
    are the same thing, so build that from list functions; NULL when there are none.
    """
    for agg in list(tree.find_all(exp.GroupConcat)):
        order = agg.this
        if not (isinstance(order, exp.Order) and isinstance(order.this, exp.Distinct)):
            continue
        args = order.this.expressions
        keys = order.expressions
        if len(args) != 1 or len(keys) != 1 or keys[0].this != args[0] or not _is_volatile(args[0]):
            continue
        direction = exp.Literal.string("DESC" if keys[0].args.get("desc") else "ASC")
        values = exp.Anonymous(
            this="list_sort",
            expressions=[
                exp.Anonymous(
                    this="list_distinct",
                    expressions=[exp.Anonymous(this="list", expressions=[args[0].copy()])],
                ),
                direction,
            ],
        )
        separator = agg.args.get("separator") or exp.Literal.string(",")
        joined = exp.Anonymous(this="array_to_string", expressions=[values, separator.copy()])
        empty = exp.EQ(this=exp.ArraySize(this=values.copy()), expression=exp.Literal.number(0))
        agg.replace(exp.Case(ifs=[exp.If(this=empty, true=exp.null())], default=joined))
    return tree


@handles(exp.Round)
def round_digits(tree: exp.Expr) -> exp.Expr:
    """``ROUND(x, CAST(n AS INT64))``: DuckDB's ``round`` takes INTEGER digits, not BIGINT."""
    for node in list(tree.find_all(exp.Round)):
        digits = node.args.get("decimals")
        if digits is not None and int_literal(digits) is None:
            node.set("decimals", exp.cast(digits.copy(), "INT"))
    return tree


@handles(exp.Order)  # acts on a SELECT with ORDER BY
def order_by_computed_aliases(tree: exp.Expr) -> exp.Expr:
    """Move an ORDER BY that uses select aliases inside expressions to an outer query.

    BigQuery accepts ``SELECT ARRAY(...) AS a ... ORDER BY a[SAFE_OFFSET(0)]``; DuckDB
    refuses an alias used inside an expression when the aliased expression has a
    subquery (sm_instance_index.sql). Ordering the finished rows is the same thing.
    """
    for select in list(tree.find_all(exp.Select)):
        order = select.args.get("order")
        if not order:
            continue
        aliases = {e.alias.lower(): e for e in select.expressions if e.alias}
        used = False
        only_aliases = True
        for key in order.expressions:
            if isinstance(key.this, exp.Column) and not key.this.table:
                continue  # a bare alias/column works in DuckDB
            for col in key.find_all(exp.Column):
                name = col.name.lower()
                if col.table or name not in aliases:
                    only_aliases = False
                elif aliases[name].find(exp.Subquery, exp.Array, exp.Select):
                    used = True
        if not used or not only_aliases or select.args.get("limit") or select.args.get("distinct"):
            continue
        select.set("order", None)
        wrapped = exp.select("*").from_(
            exp.Subquery(
                this=select.copy(), alias=exp.TableAlias(this=exp.to_identifier("_idcbq_ordered"))
            )
        )
        wrapped.set("order", order)
        select.replace(wrapped)
    return tree


def _operator(node: exp.Expr | None) -> bool:
    """True for a node DuckDB writes as an infix or prefix operator (not ``a.b``, ``(x)``)."""
    return isinstance(node, (exp.Binary, exp.Unary)) and not isinstance(node, (exp.Dot, exp.Paren))


#: DuckDB writes these as operators whose precedence differs from GoogleSQL's (``//``
#: from ``DIV``, ``~``, the bitwise and shift operators).
_GROUPED = (
    exp.IntDiv,
    exp.BitwiseNot,
    exp.BitwiseAnd,
    exp.BitwiseOr,
    exp.BitwiseXor,
    exp.BitwiseLeftShift,
    exp.BitwiseRightShift,
)
_BITWISE_BINARY = _GROUPED[2:]


#: Arithmetic as DuckDB binds it (higher binds tighter), for trees the rewrites build.
_ARITHMETIC = {
    exp.Neg: 3,
    exp.Mul: 2,
    exp.Div: 2,
    exp.Mod: 2,
    exp.Add: 1,
    exp.Sub: 1,
}


def _needs_parens(parent: exp.Expr, key: str, child: exp.Expr) -> bool:
    if not (_operator(child) and _operator(parent)):
        return False
    if isinstance(parent, _GROUPED) or isinstance(child, _GROUPED):
        return True
    outer, inner = _ARITHMETIC.get(type(parent)), _ARITHMETIC.get(type(child))
    if outer is None or inner is None:
        return False
    return inner < outer or (inner == outer and key == "expression")


def operator_grouping(tree: exp.Expr) -> exp.Expr:
    """Parenthesize operators whose grouping DuckDB would read otherwise.

    sqlglot writes a tree's operators without parentheses: ``DIV(a - 1, b)`` came out as
    ``a - 1 // b`` (``a - (1 // b)``), ``~1 + 1`` is read by DuckDB as ``~(1 + 1)``, and
    a rewrite's ``Sub(a, Sub(b, c))`` as ``a - b - c``. Run last (after the runtime-error
    guards): the tree says what GoogleSQL means, the parentheses keep DuckDB to it.
    """
    # only an operator's operands can need parentheses (find_all keeps walk()'s order)
    for node in list(tree.find_all(exp.Binary, exp.Unary)):
        for key in ("this", "expression"):
            child = node.args.get(key)
            if isinstance(child, exp.Expr) and _needs_parens(node, key, child):
                node.set(key, exp.paren(child, copy=False))
    return tree


#: GoogleSQL's binding strength among the bitwise operators (higher binds tighter).
_BITWISE_RANK = {
    exp.BitwiseLeftShift: 4,
    exp.BitwiseRightShift: 4,
    exp.BitwiseAnd: 3,
    exp.BitwiseXor: 2,
    exp.BitwiseOr: 1,
}


def bitwise_mixes(tree: exp.Expr) -> exp.Expr:
    """Refuse ``3 | 4 & 1``: bitwise operators that sqlglot grouped against GoogleSQL's
    precedence.

    GoogleSQL binds ``<<``/``>>`` tighter than ``&``, ``&`` than ``^``, ``^`` than ``|``;
    sqlglot reads them all left to right (``(3 | 4) & 1``). A looser operator directly
    under a tighter one (no parentheses) is such a misreading. Run on the user's tree,
    before any rewrite builds operators of its own.
    """
    for node in tree.find_all(*_BITWISE_BINARY):
        for operand in (node.this, node.expression):
            looser = _BITWISE_RANK.get(type(operand), 5) < _BITWISE_RANK[type(node)]
            if isinstance(operand, _BITWISE_BINARY) and looser:
                raise TranspileError(
                    "unsupported on DuckDB: bitwise operators of different precedence "
                    f"without parentheses ({node.sql(dialect='bigquery')}): the translator "
                    "would group them left to right, GoogleSQL does not",
                    hint="add parentheses, e.g. 3 | (4 & 1)",
                )
    return tree


ALL = (
    float_literals,
    int_constants,
    countif_zero,
    logical_distinct,
    unnest_with_offset,
    array_subscripts,
    array_agg_limit,
    format_to_printf,
    string_agg_distinct_volatile,
    round_digits,
    order_by_computed_aliases,
)
