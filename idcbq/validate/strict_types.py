"""The strict layer's type check: refuse what GoogleSQL's analyzer certainly refuses.

Without the ``zetasql`` package only the strict layer checks a query, and DuckDB would
answer many queries BigQuery rejects as badly typed (``SeriesNumber = 1`` compares a
STRING with an INT64). This pass types the query as the typed rewrites do
(:func:`idcbq.transpile.types.annotate`, against the gate's schema) and applies
GoogleSQL's conversion rules, one rule per node class:

- comparisons (``=``, ``<``, ``IN (...)``, ``BETWEEN``, a simple ``CASE``) need a common
  supertype: the numeric types mix (INT64, NUMERIC, BIGNUMERIC, FLOAT64), a STRING
  literal or parameter coerces to DATE/DATETIME/TIMESTAMP/TIME, nothing else coerces;
  ARRAY, JSON and GEOGRAPHY compare with nothing, STRUCT only for equality;
- values that must share a supertype: ``IF``/``CASE`` results, ``COALESCE``/``IFNULL``,
  ``NULLIF``, ``GREATEST``/``LEAST``, array elements, LAG/LEAD's default, the columns
  of a set operation;
- conditions must be BOOL: WHERE, HAVING, QUALIFY, JOIN ... ON, IF's and CASE's
  conditions, NOT, AND, OR, COUNTIF, LOGICAL_AND/OR;
- ORDER BY (no ARRAY, STRUCT, JSON, GEOGRAPHY), GROUP BY and DISTINCT (no ARRAY, JSON,
  GEOGRAPHY), PARTITION BY (also no FLOAT64);
- functions: LENGTH/LOWER/UPPER/STRING_AGG/ARRAY_TO_STRING take STRING or BYTES, MOD
  no FLOAT64, ARRAY_AGG no ARRAY, date parts finer than DAY on a DATE, TIMESTAMP_ADD/
  SUB/DIFF parts coarser than DAY, EXTRACT's part BigQuery lacks (EPOCH);
- a call no one signature takes position by position (``strict_positions``), FORMAT's
  pattern (``strict_format``), set operations by name (``strict_setops``), SELECT * with
  GROUP BY and ambiguous joined names (``strict_joins``);
- a LIMIT/OFFSET that reads a subquery or a column; ORDER BY, after SELECT DISTINCT,
  of a column not selected; ``= NULL``; window functions that need an ORDER BY (RANK,
  ...), allow no frame (ROW_NUMBER, LAG, ...) or no ORDER BY (an aggregate of DISTINCT).

It runs only where the analyzer does not (:mod:`idcbq.validate.type_rules` says where
sqlglot's type is not trusted). Only a KNOWN type refuses: UNKNOWN values, NULLs, a
user's table and unmodelled families (INTERVAL, RANGE) pass, for BigQuery to judge.

Example:
    >>> from idcbq.validate import check
    >>> _, problems = check("SELECT 1 FROM dicom_all WHERE SeriesNumber = 1", googlesql=False)
    >>> str(problems[0]).splitlines()[0]
    '<sql>:1:31: No matching signature for operator = for argument types: STRING, INT64'
    >>> _, problems = check("SELECT 1 FROM dicom_all WHERE StudyDate = '2020-01-01'", googlesql=False)
    >>> problems
    []
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from sqlglot import exp

from idcbq.errors import ValidationError
from idcbq.validate.statements import tokens_of
from idcbq.validate.strict_calls import in_unnest_or_query
from idcbq.validate.strict_families import check_call_families
from idcbq.validate.strict_frames import check_arguments, check_frame, named_frame
from idcbq.validate.strict_joins import TABLE_COLUMNS
from idcbq.validate.strict_literals import integer_literal
from idcbq.validate.strict_setops import check_by_name
from idcbq.validate.strict_shapes import check_select
from idcbq.validate.type_functions import FUNCTION_RULES, nested_array
from idcbq.validate.type_rules import (
    BOOL,
    Add,
    bytes_clash,
    comparable,
    family,
    name_of,
    one_signature,
    orderable_problem,
    signature,
    supertype_of,
)

log = logging.getLogger("idcbq")

if TYPE_CHECKING:
    from idcbq.params import BoundParameter
    from idcbq.sources.releases import IdcVersion
    from idcbq.sources.schema import Field
    from idcbq.templates.locations import LocationMap


def check_types(
    tree: exp.Expression,
    sql: str,
    lmap: LocationMap,
    add: Callable[[ValidationError], None],
    *,
    params: Sequence[BoundParameter] = (),
    schema: Callable[[str, str], tuple[Field, ...] | None] | None = None,
    idc_version: IdcVersion | None = None,
    data_project: str | None = None,
) -> None:
    """Report every certainly mistyped expression of ``tree`` at its file:line:col."""
    from idcbq.validate.statements import node_location

    typed = _annotated(tree, params, schema, idc_version, data_project)
    if typed is None:
        return
    seen: set[int] = set()
    said: set[str] = set()  # messages given (the family check repeats none)

    def refuse(node: exp.Expr, message: str) -> None:
        start = node.meta_get("start") if node._meta else None
        key = start if start is not None else id(node)
        if key in seen:
            return
        seen.add(key), said.add(message)
        add(ValidationError(message, location=node_location(node, sql, lmap)))

    # pipe syntax becomes nested SELECTs whose shapes are not the query's: types only
    rules = {**RULES, exp.Select: _distinct_rules} if "|>" in sql else RULES
    for node in typed.walk():
        for kind in type(node).__mro__:
            rule = rules.get(kind)
            if rule is not None:
                try:
                    rule(node, refuse)
                except Exception:  # an odd tree shape: no verdict (never a false refusal)
                    log.debug("strict types: %s skipped", kind.__name__, exc_info=True)
                break
    check_call_families(typed, tokens_of(sql), lambda at: lmap.locate_offset(sql, at), add, said)


def _annotated(tree, params, schema, idc_version, data_project) -> exp.Expr | None:
    """A typed copy of ``tree`` (positions kept in meta), or None if it cannot be typed."""
    from idcbq.sources.releases import IDC_DATA_PROJECT, IdcVersion
    from idcbq.transpile.types import annotate
    from idcbq.validate.columns import reference_schema
    from idcbq.validate.googlesql import make_resolver

    project = data_project or IDC_DATA_PROJECT
    version = idc_version or IdcVersion(None)
    resolve = make_resolver(schema or reference_schema, version, project)
    mapping: dict = {}
    ctes = {c.alias_or_name.lower() for c in tree.find_all(exp.CTE)}
    copy = tree.copy()
    for table in copy.find_all(exp.Table):
        parts = [p.name for p in table.parts]
        if not table.name or (len(parts) == 1 and parts[0].lower() in ctes):
            continue
        try:
            found = resolve(parts)
        except Exception:  # a lookup that fails types nothing; the engine reports it
            found = None
        if found is None:
            continue
        (dataset, name), fields = found
        columns = {f.name: f.bigquery_type for f in fields}
        table.meta[TABLE_COLUMNS] = list(columns)  # what a SELECT * of it reads
        db = table.db or dataset
        mapping.setdefault(table.catalog or project, {}).setdefault(db, {})[name] = columns
    declared = {}
    for param in params:
        try:
            declared[param.name] = exp.DataType.build(str(param.type), dialect="bigquery")
        except Exception:  # an unparsable declared type: the parameter stays unknown
            continue
    try:
        annotate(copy, mapping, bare=(project, version.dataset), params=declared)
    except Exception:  # sqlglot could not type it: nothing is known, nothing refused
        return None
    return copy


# -- rules ------------------------------------------------------------------------------

_OPERATORS = {
    exp.EQ: "=",
    exp.NEQ: "!=",
    exp.LT: "<",
    exp.LTE: "<=",
    exp.GT: ">",
    exp.GTE: ">=",
}


def _comparison(node: exp.Binary, refuse: Add) -> None:
    symbol = _OPERATORS[type(node)]
    if symbol in ("=", "!=") and any(_bare_null(o) for o in (node.this, node.expression)):
        refuse(node, f"Operands of {symbol} cannot be literal NULL")
        return
    problem = comparable(node.this, node.expression, ordering=symbol not in ("=", "!="))
    if problem:
        refuse(node, signature(f"operator {symbol}", node.this, node.expression, problem))


def _bare_null(node: exp.Expr) -> bool:
    while isinstance(node, exp.Paren):
        node = node.this
    return isinstance(node, exp.Null)


def _in(node: exp.In, refuse: Add) -> None:
    in_unnest_or_query(node, refuse)
    if node.args.get("query") or node.args.get("unnest") or node.args.get("field"):
        return
    for value in node.expressions:
        problem = comparable(node.this, value, ordering=False)
        if problem:
            refuse(node, signature("operator IN", node.this, value, problem))
            return
    if bytes_clash([node.this, *node.expressions]):  # 'a' IN ('a', b'b'): no supertype
        refuse(node, "No matching signature for operator IN: STRING and BYTES are mixed")


def _between(node: exp.Between, refuse: Add) -> None:
    for bound in (node.args.get("low"), node.args.get("high")):
        problem = bound is not None and comparable(node.this, bound, ordering=True)
        if problem:
            refuse(node, signature("operator BETWEEN", node.this, bound, problem))
            return


def _case(node: exp.Case, refuse: Add) -> None:
    subject = node.this
    for when in node.args.get("ifs") or ():
        if subject is not None:
            problem = comparable(subject, when.this, ordering=False)
            if problem:
                refuse(when, signature("operator CASE", subject, when.this, problem))
        else:
            _condition(when.this, "CASE WHEN", refuse)
    results = [w.args.get("true") for w in node.args.get("ifs") or ()]
    _common(node, "CASE", [*results, node.args.get("default")], refuse)


def _if(node: exp.If, refuse: Add) -> None:
    if isinstance(node.parent, exp.Case):  # a WHEN branch: the CASE rule checks it
        return
    _condition(node.this, "IF", refuse)
    _common(node, "IF", [node.args.get("true"), node.args.get("false")], refuse)


def _coalesce(node: exp.Coalesce, refuse: Add) -> None:
    name = "IFNULL" if node.args.get("is_nvl") or node.args.get("is_null") else "COALESCE"
    _common(node, name, [node.this, *node.expressions], refuse)


def _nullif(node: exp.Nullif, refuse: Add) -> None:
    problem = comparable(node.this, node.expression, ordering=False)
    if problem:
        refuse(node, signature("function NULLIF", node.this, node.expression, problem))


def _greatest(node: exp.Expr, refuse: Add) -> None:
    name = "GREATEST" if isinstance(node, exp.Greatest) else "LEAST"
    values = [node.this, *node.expressions]
    _common(node, name, values, refuse)
    for value in values:
        problem = orderable_problem(value, "ordering")
        if problem:
            refuse(node, f"No matching signature for function {name}: {problem}")
            return


def _array(node: exp.Array, refuse: Add) -> None:
    nested_array(node, refuse)
    values = node.expressions
    if any(isinstance(v, exp.Query | exp.Subquery) for v in values):
        return  # ARRAY(SELECT ...)
    _common(
        node,
        "array",
        values,
        refuse,
        what="Array elements of types {types} do not have a common supertype",
    )


def _lag(node: exp.Expr, refuse: Add) -> None:
    default = node.args.get("default")
    if default is not None and supertype_of([node.this, default]) is False:
        name = type(node).__name__.upper()
        refuse(node, signature(f"function {name}", node.this, default, None))


def _set_operation(node: exp.SetOperation, refuse: Add) -> None:
    if node.args.get("by_name") or node.args.get("side") or node.args.get("kind"):
        check_by_name(node, refuse)
        return
    left, right = _columns(node.left), _columns(node.right)
    if left is None or right is None:
        return
    if len(left) != len(right):
        word = type(node).__name__.upper()
        refuse(
            node.right if node.right.meta_get("start") is not None else node,
            f"Queries in {word} have mismatched column count: {len(left)} and {len(right)}",
        )
        return
    for i, (a, b) in enumerate(zip(left, right, strict=True)):
        if supertype_of([a, b]) is False:
            word = type(node).__name__.upper()
            refuse(
                node.right if node.right.meta_get("start") is not None else node,
                f"Column {i + 1} in {word} has incompatible types: {name_of(a)}, {name_of(b)}",
            )
            return


def _columns(query: exp.Expr) -> list[exp.Expr] | None:
    while isinstance(query, exp.Subquery):
        query = query.this
    if isinstance(query, exp.SetOperation):
        if any(query.args.get(k) for k in ("by_name", "side", "kind", "on")):
            return None  # CORRESPONDING / outer modes: columns matched by name
        return _columns(query.left)
    if not isinstance(query, exp.Select) or query.args.get("kind"):
        return None
    out = []
    for item in query.expressions:
        if isinstance(item, exp.Star) or (isinstance(item, exp.Column) and item.is_star):
            return None
        out.append(item.unalias())
    return out


def _where(node: exp.Expr, refuse: Add) -> None:
    clause = {exp.Where: "WHERE", exp.Having: "HAVING", exp.Qualify: "QUALIFY"}[type(node)]
    _condition(node.this, f"{clause} clause", refuse)


def _join(node: exp.Join, refuse: Add) -> None:
    on = node.args.get("on")
    if on is not None:
        _condition(on, "JOIN ON clause", refuse)


def _logic(node: exp.Expr, refuse: Add) -> None:
    word = {exp.Not: "NOT", exp.And: "AND", exp.Or: "OR"}[type(node)]
    operands = [node.this] if isinstance(node, exp.Not) else [node.this, node.expression]
    if isinstance(node, exp.Not) and _bare_null(node.this):
        refuse(node.this, "Operands of NOT cannot be literal NULL")
        return
    for operand in operands:
        if family(operand) not in (None, BOOL):
            kinds = ", ".join(name_of(o) for o in operands)
            refuse(node, f"No matching signature for operator {word} for argument types: {kinds}")
            return


def _bool_argument(node: exp.Expr, refuse: Add) -> None:
    name = {exp.CountIf: "COUNTIF", exp.LogicalAnd: "LOGICAL_AND", exp.LogicalOr: "LOGICAL_OR"}
    if family(node.this) not in (None, BOOL):
        refuse(node, one_signature(f"function {name[type(node)]}", node.this))


def _condition(node: exp.Expr | None, where: str, refuse: Add) -> None:
    if node is not None and family(node) not in (None, BOOL):
        refuse(node, f"{where} should return type BOOL, but returns {name_of(node)}")


def _ordered(node: exp.Ordered, refuse: Add) -> None:
    problem = orderable_problem(node.this, "ordering")
    if problem:
        refuse(node, f"ORDER BY does not support {problem}")


def _group(node: exp.Group, refuse: Add) -> None:
    for key in node.expressions:
        problem = orderable_problem(key, "grouping")
        if problem:
            refuse(key, f"Grouping by {problem} is not allowed")


def _select(node: exp.Select, refuse: Add) -> None:
    check_select(node, refuse)
    _distinct_rules(node, refuse)


def _distinct_rules(node: exp.Select, refuse: Add) -> None:
    if not node.args.get("distinct"):
        return
    for item in node.expressions:
        problem = orderable_problem(item.unalias(), "grouping")
        if problem:
            refuse(item, f"SELECT DISTINCT cannot be used on {problem}")
    _distinct_order(node, refuse)


def _distinct_order(node: exp.Select, refuse: Add) -> None:
    """After SELECT DISTINCT, ORDER BY sees only the selected columns."""
    order = node.args.get("order")
    if order is None or node.args.get("distinct").args.get("on"):
        return
    names, texts = set(), set()
    for item in node.expressions:
        if isinstance(item, exp.Star) or (isinstance(item, exp.Column) and item.is_star):
            return
        inner = item.unalias()
        while isinstance(inner, exp.Paren):
            inner = inner.this
        names.add((item.alias or inner.alias_or_name).lower())
        texts.add(inner.sql("bigquery").lower())
    for ordered in order.expressions:
        key = ordered.this
        if not isinstance(key, exp.Column) or not key.name:
            continue
        if key.name.lower() in names or key.sql("bigquery").lower() in texts:
            continue
        if any(p.name.lower() in names for p in key.parts[:-1]):
            continue  # a field of a selected STRUCT
        refuse(
            key,
            f"ORDER BY names {key.sql('bigquery')}, which is not visible after SELECT DISTINCT",
        )


_RANKING = (exp.Rank, exp.DenseRank, exp.PercentRank, exp.CumeDist, exp.Ntile)
_NO_FRAME = (*_RANKING, exp.RowNumber, exp.Lag, exp.Lead)


def _window(node: exp.Window, refuse: Add) -> None:
    for key in node.args.get("partition_by") or ():
        problem = orderable_problem(key, "partitioning")
        if problem:
            refuse(key, f"Partitioning by {problem} is not allowed")
    function = node.this
    while isinstance(function, exp.IgnoreNulls | exp.RespectNulls):
        function = function.this
    name = function.sql("bigquery").split("(")[0].upper()
    check_frame(node, refuse)
    check_arguments(function, refuse)
    if node.args.get("alias"):  # OVER w / OVER (w ...): the named window holds the rest
        if isinstance(function, _NO_FRAME) and named_frame(node):
            refuse(node, f"Window framing clause is not allowed for analytic function {name}")
        return
    ordered = node.args.get("order") is not None
    if isinstance(function, _RANKING) and not ordered:
        refuse(node, f"Analytic function {name} must have ORDER BY in its window")
    if isinstance(function, _NO_FRAME) and node.args.get("spec") is not None:
        refuse(node, f"Window framing clause is not allowed for analytic function {name}")
    if ordered and isinstance(function, exp.AggFunc) and isinstance(function.this, exp.Distinct):
        refuse(node, "An aggregate function with DISTINCT cannot have ORDER BY in its window")


def _min_max(node: exp.Expr, refuse: Add) -> None:
    problem = orderable_problem(node.this, "ordering") if not node.expressions else None
    if problem:
        name = "MIN" if isinstance(node, exp.Min) else "MAX"
        refuse(node, f"{name} does not support {problem}")


def _limit(node: exp.Expr, refuse: Add) -> None:
    value = node.expression
    if isinstance(value, exp.Expr) and value.find(exp.Select, exp.Column):
        word = "LIMIT" if isinstance(node, exp.Limit) else "OFFSET"
        refuse(node, f"{word} expects an integer literal or parameter")


# -- helpers ----------------------------------------------------------------------------


def _common(
    node: exp.Expr,
    name: str,
    values: Iterable[exp.Expr | None],
    refuse: Add,
    *,
    what: str | None = None,
) -> None:
    present = [v for v in values if v is not None]
    if supertype_of(present) is False:
        types = ", ".join(name_of(v) for v in present)
        message = (
            what or "No matching signature for function {name} for argument types: {types}"
        ).format(name=name, types=types)
        refuse(node, message)


RULES: dict[type, Callable[[exp.Expr, Add], None]] = {
    **dict.fromkeys(_OPERATORS, _comparison),
    **dict.fromkeys((exp.Greatest, exp.Least), _greatest),
    **dict.fromkeys((exp.Lag, exp.Lead), _lag),
    **dict.fromkeys((exp.Where, exp.Having, exp.Qualify), _where),
    **dict.fromkeys((exp.Not, exp.And, exp.Or), _logic),
    **dict.fromkeys((exp.CountIf, exp.LogicalAnd, exp.LogicalOr), _bool_argument),
    **dict.fromkeys((exp.Min, exp.Max), _min_max),
    **dict.fromkeys((exp.Limit, exp.Offset), _limit),
    exp.In: _in,
    exp.Between: _between,
    exp.Case: _case,
    exp.If: _if,
    exp.Coalesce: _coalesce,
    exp.Nullif: _nullif,
    exp.Array: _array,
    exp.SetOperation: _set_operation,
    exp.Join: _join,
    exp.Ordered: _ordered,
    exp.Group: _group,
    exp.Select: _select,
    exp.Window: _window,
    exp.Literal: integer_literal,
    **FUNCTION_RULES,
}
