"""A FLOAT64 literal among values of a NUMERIC column is NUMERIC (typed literal coercion).

GoogleSQL gives ``COALESCE(numeric_col, 1.5)``, ``IF(c, numeric_col, 1.5)``,
``[numeric_col, 2.5]`` and ``SELECT numeric_col ... UNION ALL SELECT 1.5`` the type
NUMERIC: a literal coerces to the other values' type. DuckDB makes ``1.5`` a DOUBLE and
the result DOUBLE. :mod:`idcbq.transpile.literal_coercion` handles what it can see
before types are known (``CAST(... AS NUMERIC)`` beside literals); this typed rule sees a
column's type from the schema:

- a value typed NUMERIC at the position, every other value NUMERIC, INT64, NULL or a
  number literal: the FLOAT64 literals are written as NUMERIC (one with more than 9
  decimals or 29 integer digits is refused: GoogleSQL rounds it);
- another value of unknown type (nothing could type it): the result type would be a
  guess, so the query is refused naming it (BigQuery's supertype is FLOAT64 if that
  value is a FLOAT64, NUMERIC otherwise);
- a FLOAT64 value that is not a literal: FLOAT64 is the supertype, DuckDB agrees.

Example:
    >>> import sqlglot
    >>> from idcbq.transpile.types import annotate
    >>> tree = sqlglot.parse_one("SELECT COALESCE(v, 1.5) FROM t", read="bigquery")
    >>> _ = annotate(tree, {"t": {"v": "DECIMAL(38, 9)"}})
    >>> numeric_beside_literals(tree).sql("bigquery")
    'SELECT COALESCE(v, CAST(1.5 AS NUMERIC)) FROM t'
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlglot import exp

from idcbq.errors import TranspileError
from idcbq.transpile.known import UnknownType
from idcbq.transpile.literal_coercion import fits_numeric, float_text
from idcbq.transpile.rules import handles
from idcbq.transpile.shapes import set_operation_leaves

T = exp.DataType.Type
_CHOICES = (exp.Coalesce, exp.If, exp.Case, exp.Greatest, exp.Least, exp.Array)
#: Types beside which a NUMERIC stays NUMERIC (DuckDB's DECIMAL(38, 9) holds them).
_EXACT = (T.DECIMAL, T.BIGINT, T.INT, T.SMALLINT, T.TINYINT, T.NULL)


def needs_types(tree: exp.Expr) -> bool:
    """True if a FLOAT64 literal is one of the values of a choice or set operation."""
    for literal in tree.find_all(exp.Literal):
        if float_text(literal) is None and not (
            isinstance(literal.parent, exp.Neg) and float_text(literal.parent)
        ):
            continue
        if literal.find_ancestor(*_CHOICES, exp.SetOperation) is not None:
            return True
    return False


def _positions(tree: exp.Expr) -> Iterator[list[exp.Expr]]:
    """The values that share one result type: a choice's results, a set operation's column."""
    for node in tree.find_all(*_CHOICES, exp.SetOperation):
        if isinstance(node, exp.Coalesce | exp.Greatest | exp.Least):
            yield [node.this, *node.expressions]
        elif isinstance(node, exp.If):
            yield [node.args.get("true"), node.args.get("false")]
        elif isinstance(node, exp.Case):
            yield [
                *(i.args.get("true") for i in node.args.get("ifs") or ()),
                node.args.get("default"),
            ]
        elif isinstance(node, exp.Array):
            yield list(node.expressions)
        elif not isinstance(node.parent, exp.SetOperation):  # the outermost of a chain
            leaves = set_operation_leaves(node)
            if not leaves or any(
                s.args.get("kind") or any(isinstance(e, exp.Star) for e in s.expressions)
                for s in leaves
            ):
                continue
            if len({len(s.expressions) for s in leaves}) == 1:
                yield from (
                    [s.expressions[i] for s in leaves] for i in range(len(leaves[0].expressions))
                )


def _unwrap(value: exp.Expr) -> exp.Expr:
    while isinstance(value, exp.Alias | exp.Paren):
        value = value.this
    return value


def _unknown(node: exp.Expr) -> bool:
    return node.type is None or node.type.is_type(T.UNKNOWN)


def _known(node: exp.Expr, *kinds: T) -> bool:
    return node.type is not None and node.type.is_type(*kinds)


@handles(*_CHOICES, exp.SetOperation)
def numeric_beside_literals(tree: exp.Expr) -> exp.Expr:
    """Write FLOAT64 literals beside a NUMERIC value as NUMERIC (see the module).

    Raises:
        UnknownType: a value at the position has a type nothing here knows.
    """
    for values in list(_positions(tree)):
        values = [_unwrap(v) for v in values if v is not None]
        floats = [v for v in values if float_text(v) is not None]
        if not floats or not any(_known(v, T.DECIMAL) for v in values):
            continue
        others = [v for v in values if float_text(v) is None]
        unknown = next((v for v in others if _unknown(v)), None)
        if unknown is not None:
            raise UnknownType(
                f"unsupported on DuckDB: the type of the FLOAT64 literal {floats[0].sql('bigquery')} "
                f"beside a NUMERIC value depends on the type of `{unknown.sql('bigquery')[:60]}`, "
                "which is not known here (NUMERIC, or FLOAT64 if that value is one)",
                hint="write the literal as NUMERIC '...' or CAST the value to its type",
            )
        if not all(_known(v, *_EXACT) for v in others):
            continue  # a FLOAT64 value (FLOAT64 is the supertype, as in DuckDB) or no supertype
        for value in floats:
            if not fits_numeric(float_text(value)):
                raise TranspileError(
                    f"unsupported on DuckDB: the FLOAT64 literal {value.sql('bigquery')} beside "
                    "a NUMERIC value becomes a NUMERIC in GoogleSQL, rounded to 9 decimals, and "
                    "has more digits than a NUMERIC holds",
                    hint="write the literal as NUMERIC '...' with at most 9 decimals",
                )
            cast = exp.cast(value.copy(), exp.DataType.build("DECIMAL(38, 9)"))
            cast.type = exp.DataType.build("DECIMAL(38, 9)")
            value.replace(cast)
    return tree
