"""Types the typed rewrites need: bare table names, reference types, refusing the unknown.

The typed rewrites (``casts``, ``functions.TYPED``, ``typed.TYPED``) change a query only
where an operand's type makes DuckDB differ (``CAST(-2.5 AS INT64)``, a DATE truncated).
A type nobody knows must not silently turn a rewrite off, so:

- :func:`qualify_bare` gives a bare table name (``dicom_all``, the CLI's shorthand) the
  data project and default dataset, on the annotation's copy, so it types as the
  qualified name does;
- :func:`reference_types` is the schema when the caller gave none: idcbq's reference
  notes for the IDC tables the query names;
- :func:`require_types` refuses a query in which a node whose translation depends on its
  operand's type has an operand of unknown type (``unsupported on DuckDB: ... type``);
- every typed rewrite asks through :func:`idcbq.transpile.semantics.is_typed`, which
  raises :func:`unknown_type` for a node marked ``UNKNOWN`` (:func:`strict_types` says
  when; GoogleSQL's types fill what sqlglot cannot type first, see
  :mod:`idcbq.transpile.analyzed_types`).

Example:
    >>> import sqlglot
    >>> tree = sqlglot.parse_one("SELECT 1 FROM dicom_all", read="bigquery")
    >>> sorted(reference_types(tree, "bigquery-public-data", "idc_current")["bigquery-public-data"])
    ['idc_current']
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache

from sqlglot import exp

from idcbq.errors import TranspileError

T = exp.DataType.Type
_CAST_TARGETS = (*exp.DataType.TEXT_TYPES, T.BOOLEAN, T.DOUBLE, T.FLOAT, T.BIGINT, T.INT)


def bare_tables(tree: exp.Expr) -> list[exp.Table]:
    """Table references with no dataset that are not CTE names (nor UNNEST / functions)."""
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    return [
        t
        for t in tree.find_all(exp.Table)
        if not t.db and t.name and t.name.lower() not in ctes and isinstance(t.this, exp.Identifier)
    ]


def qualify_bare(tree: exp.Expr, data_project: str, dataset: str) -> exp.Expr:
    """Give every bare table name ``data_project.dataset`` (in place; use on a copy)."""
    for table in bare_tables(tree):
        table.set("db", exp.to_identifier(dataset))
        table.set("catalog", exp.to_identifier(data_project))
    return tree


def reference_types(tree: exp.Expr, data_project: str, dataset: str) -> dict:
    """``{project: {dataset: {table: {column: type}}}}`` from the reference notes.

    Covers the main IDC tables the query names, bare (in ``dataset``) or qualified in an
    ``idc_*`` dataset of ``data_project``; other tables are left out (unknown).
    """
    out: dict[str, dict[str, dict[str, dict[str, str]]]] = {}
    for table in tree.find_all(exp.Table):
        if table.catalog and table.catalog != data_project:
            continue
        db = table.db or (dataset if table in bare_tables(tree) else "")
        if not db.lower().startswith("idc_") or db.lower().endswith("_clinical"):
            continue
        columns = _reference_columns(table.name)
        if columns is not None:
            out.setdefault(data_project, {}).setdefault(db, {})[table.name] = columns
    return out


@cache
def _reference_columns(table: str) -> dict[str, str] | None:
    """``{column: type}`` of a main IDC table from the reference notes (shared, read-only)."""
    from idcbq.sources.schema import idc_table_fields, sqlglot_columns

    try:
        return sqlglot_columns(idc_table_fields(table))
    except KeyError:
        return None


def _unknown(node: exp.Expr | None) -> bool:
    if node is None or isinstance(node, exp.Null):
        return False
    kind = node.type
    return kind is None or kind.is_type(T.UNKNOWN)


def _needing(tree: exp.Expr) -> exp.Expr | None:
    """The first operand a typed rewrite must know the type of, if its type is unknown."""
    for node in tree.find_all(
        exp.Cast,
        exp.DateTrunc,
        exp.DateAdd,
        exp.DateSub,
        exp.ByteLength,
        exp.Sign,
        exp.Extract,
        exp.JSONFormat,
    ):
        if isinstance(node, exp.Cast):
            if not node.to.is_type(*_CAST_TARGETS):
                continue
            operand = node.this
        elif isinstance(node, exp.Extract):
            operand = node.expression
        else:
            operand = node.this
        if _unknown(operand):
            return operand
    return None


class UnknownType(TranspileError):
    """A rewrite needs an operand's type and nothing here knows it (see :func:`require_types`)."""


def require_types(tree: exp.Expr, annotated: bool, *, per_node: bool = True) -> None:
    """Refuse a query whose translation depends on a type that is not known.

    Args:
        tree: the annotated query (``.type`` set where known).
        annotated: False if annotation failed (then every type is unknown).
        per_node: a single node of unknown type refuses too (see :func:`strict_types`).

    Raises:
        UnknownType: naming the operand whose type is unknown.
    """
    if not annotated:
        tree.meta[UNTYPED] = True  # every later question about a type names the cause
    if per_node:
        tree.meta[PER_NODE] = True
    operand = _needing(tree)
    if operand is not None:
        raise unknown_type(operand)


#: ``meta`` key on the query's root: annotation failed (no column could be typed).
UNTYPED = "idcbq_untyped"


#: ``meta`` key on the query's root: a single ``UNKNOWN`` node refuses (see :func:`strict_types`).
PER_NODE = "idcbq_per_node_types"


def strict_types(node: exp.Expr) -> bool:
    """Whether an ``UNKNOWN`` type of ``node`` refuses the query (else: treated as not
    of the asked type, the old behaviour).

    Strict when annotation failed for the whole query, and per node (the default of
    :func:`idcbq.transpile.to_duckdb`): nodes sqlglot cannot type (columns of nested
    CTEs, CASE, UNNESTed STRUCT fields) first get GoogleSQL's types when the gate's
    analyzer ran (:mod:`idcbq.transpile.analyzed_types`); what is still unknown is
    refused. Not per node only where the DuckDB engine has no analysis of the query
    (zetasql not installed, analysis off, a table outside the IDC catalog): sqlglot
    alone leaves nodes of real IDC queries unknown (idc-index-data's ``idc_index``,
    ``seg_index``, ``volume_geometry_index``), and those run today. There a rewrite
    that asks an unknown type still refuses, unless it answers for the unknown itself
    (``is_typed(..., unknown=False)``, where the skip is harmless or a listed gap).
    """
    meta = node.root().meta
    return bool(meta.get(UNTYPED) or meta.get(PER_NODE))


def unknown_type(operand: exp.Expr) -> UnknownType:
    """The refusal for a rewrite that needs ``operand``'s type and nothing knows it.

    Example:
        >>> import sqlglot
        >>> gt = sqlglot.parse_one("x > 1.5", read="bigquery")
        >>> print(unknown_type(gt.this))
        unsupported on DuckDB: the translation of `x > 1.5` depends on the type of `x`, which is not known here
          hint: CAST the value to its type first, or use --engine bigquery
    """
    what = _short(operand)
    root = operand.root()
    why = " (the query's columns could not be typed)" if root.meta.get(UNTYPED) else ""
    parent = operand.parent
    around = None if parent is None or isinstance(parent, exp.Select) else _short(parent)
    if around is None or around == what:
        subject = f"`{what}` depends on its type"
    else:
        subject = f"`{around}` depends on the type of `{what}`"
    return UnknownType(
        f"unsupported on DuckDB: the translation of {subject}, which is not known here{why}",
        hint="CAST the value to its type first, or use --engine bigquery",
    )


def _short(node: exp.Expr) -> str:
    text = node.sql("bigquery")
    return text if len(text) <= 60 else text[:57] + "..."


def schema_or_reference(
    tree: exp.Expr, schema: Mapping | None, data_project: str, dataset: str
) -> Mapping:
    """The caller's schema, or the reference types when none was given."""
    return schema if schema is not None else reference_types(tree, data_project, dataset)


_FLOAT_FUNCTIONS = (
    exp.Div,
    exp.Avg,
    exp.Stddev,
    exp.StddevPop,
    exp.StddevSamp,
    exp.Variance,
    exp.VariancePop,
    exp.Sqrt,
    exp.Pow,
    exp.Ln,
    exp.Log,
    exp.Exp,
    exp.Rand,
    exp.SafeDivide,
    exp.Corr,
    exp.CovarPop,
    exp.CovarSamp,
)
_FLOAT_NAMES = ("FLOAT64", "FLOAT", "NUMERIC", "BIGNUMERIC", "DECIMAL", "BIGDECIMAL")


def named_of_kind(schema: Mapping, names: set[str], kinds: tuple[str, ...]) -> bool:
    """True if a column in ``names`` (as written, or lowercase) has a type naming one of
    ``kinds`` (looked up by name: a table has hundreds of columns)."""
    for value in schema.values():
        if isinstance(value, Mapping):
            if named_of_kind(value, names, kinds):
                return True
            continue
        for name in names:  # a {column: type} mapping
            kind = schema.get(name)
            if isinstance(kind, str) and any(k in kind.upper() for k in kinds):
                return True
        return False
    return False


def may_hold(tree: exp.Expr, schema: Mapping, params: Mapping, kinds: tuple[str, ...]) -> bool:
    """Cheap (untyped) evidence that values of one of ``kinds`` (type names) can occur:
    a column of that type in the schema named by the query, a parameter, a cast or
    literal of it, or (for floats) a function that returns one."""
    floats = any(k in _FLOAT_NAMES for k in kinds)
    if any(any(k in str(t).upper() for k in kinds) for t in params.values()):
        return True
    dates = "DATE" in kinds
    names: set[str] = set()
    for node in tree.walk():  # one walk: casts and literals, functions, names
        if isinstance(node, exp.DataType):
            if any(k in node.sql("bigquery").upper() for k in kinds):
                return True
        elif isinstance(node, exp.Literal):
            text = node.this.lower()
            if floats and node.is_number and ("." in text or "e" in text):
                return True
        elif floats and isinstance(node, _FLOAT_FUNCTIONS):
            return True
        if isinstance(node, exp.Identifier):
            names.add(node.name)
        elif (
            dates
            and isinstance(node, exp.Func)
            and type(node).__name__.upper() in ("CURRENTDATE", "DATE")
        ):
            return True
    return named_of_kind(schema, names | {n.lower() for n in names}, kinds)
