"""Set operations matched by column name (``CORRESPONDING``, ``BY NAME``) made positional.

GoogleSQL matches the columns of ``UNION``/``INTERSECT``/``EXCEPT`` by name when the
operator says ``CORRESPONDING`` or ``BY NAME``; DuckDB has only ``UNION [ALL] BY NAME``
(and not the ``FULL``/``LEFT``/``INNER`` modes), and sqlglot wrote DuckDB SQL it cannot
parse. Each operand here becomes ``SELECT <the result's columns> FROM (operand)``, a
column the operand lacks ``NULL``, and the operator positional, with GoogleSQL's rules
(checked against its reference implementation):

- names match case-insensitively; a result column is spelled as in the first operand
  that has it;
- ``CORRESPONDING`` (``INNER``): the columns every operand has, in the first's order;
  ``FULL``: the first's columns, then each later operand's new ones in its order;
  ``LEFT``: the first's columns; ``STRICT`` / ``BY NAME``: every operand has the same
  set, in the first's order; ``BY (list)`` / ``ON (list)``: the list, in its order
  (``STRICT``: each operand has exactly the list; ``LEFT``: the first has each;
  ``FULL``: some operand has each; otherwise each operand has each).

What GoogleSQL rejects is refused here too (fail closed where the analyzer is absent):
an anonymous column, a name twice in an operand, ``SELECT *``, no column in common,
a ``BY`` list naming a column twice or one missing, ``STRICT`` with a mode, an
unparenthesized chain mixing operators or modes. sqlglot reads ``STRICT CORRESPONDING``
as ``BY NAME`` and drops ``STRICT`` after a mode: the tokens tell them apart.

Example:
    >>> import sqlglot
    >>> sql = "SELECT 1 AS a, 2 AS b FULL UNION ALL CORRESPONDING SELECT 3 AS c, 4 AS A"
    >>> positional(sqlglot.parse_one(sql, read="bigquery"), sql).sql("duckdb")
    'SELECT a, b, NULL AS c FROM (SELECT 1 AS a, 2 AS b) AS _c0 UNION ALL SELECT A AS a, NULL AS b, c FROM (SELECT 3 AS c, 4 AS A) AS _c1'
"""

from __future__ import annotations

from sqlglot import exp
from sqlglot.tokens import TokenType

from idcbq.errors import TranspileError
from idcbq.transpile.rewrites import FILLER
from idcbq.transpile.semantics import depth

_MODES = {"FULL", "LEFT", "INNER", "OUTER"}
_MIXED = (
    "unsupported on DuckDB: set operations with different operators or modes chained "
    "without parentheses"
)


def positional(tree: exp.Expr, sql: str) -> exp.Expr:
    """``tree`` with every by-name set operation rewritten positionally (innermost first).

    Args:
        tree: the parsed BigQuery query.
        sql: its text (to find ``STRICT`` written after a mode, which sqlglot drops).

    Raises:
        TranspileError: for a by-name set operation GoogleSQL rejects or idcbq cannot name.
    """
    ops = [op for op in tree.find_all(exp.SetOperation) if op.args.get("by_name")]
    if not ops:
        return tree
    _refuse_strict_with_mode(sql)
    heads = []
    for op in ops:
        parent = op.parent
        if isinstance(parent, exp.SetOperation) and parent.this is op:
            if _signature(parent) != _signature(op):
                raise TranspileError(_MIXED)
            continue  # a link of its parent's chain, rewritten with it
        heads.append(op)
    # Deepest first: an operand's own by-name operation is positional when it is named.
    for op in sorted(heads, key=depth, reverse=True):
        _rewrite(op)
    return tree


def _refuse_strict_with_mode(sql: str) -> None:
    """``FULL UNION ALL STRICT CORRESPONDING``: GoogleSQL's syntax error (sqlglot drops STRICT)."""
    from idcbq.transpile.dialects import GoogleSQLText

    tokens = GoogleSQLText().tokenize(sql)
    for i, tok in enumerate(tokens):
        if tok.text.upper() != "STRICT":
            continue
        j = i - 1
        while j >= 0 and tokens[j].token_type in (TokenType.ALL, TokenType.DISTINCT):
            j -= 1
        if j >= 1 and tokens[j - 1].text.upper() in _MODES:
            raise TranspileError(
                "unsupported on DuckDB: STRICT with an outer mode in a set operation"
            )


def _mode(op: exp.SetOperation) -> str:
    side = str(op.args.get("side") or "").upper()
    kind = str(op.args.get("kind") or "").upper()
    if side in ("FULL", "LEFT"):
        return side
    return "INNER" if kind == "INNER" else "STRICT"


def _signature(op: exp.SetOperation) -> tuple:
    on = tuple(c.name.lower() for c in op.args.get("on") or ())
    return (type(op), bool(op.args.get("distinct")), bool(op.args.get("by_name")), _mode(op), on)


def _operands(op: exp.SetOperation) -> list[exp.Expr]:
    """The operands of an unparenthesized chain ``a OP b OP c`` (sqlglot nests it leftwards)."""
    left = op.this
    if isinstance(left, exp.SetOperation):
        if _signature(left) != _signature(op):
            raise TranspileError(_MIXED)
        return [*_operands(left), op.expression]
    return [left, op.expression]


def _names(node: exp.Expr) -> list[exp.Identifier | None]:
    """The output columns of a query operand, spelled as written (None: anonymous)."""
    if isinstance(node, exp.Subquery):
        return _names(node.this)
    if isinstance(node, exp.SetOperation):
        return _names(node.this)  # a positional operation is named by its first operand
    if not isinstance(node, exp.Select) or node.args.get("kind"):
        raise TranspileError(
            "unsupported on DuckDB: a CORRESPONDING operand that is not a plain SELECT"
        )
    out: list[exp.Identifier | None] = []
    for item in node.expressions:
        if isinstance(item, exp.Star) or (
            isinstance(item, exp.Column) and isinstance(item.this, exp.Star)
        ):
            raise TranspileError("unsupported on DuckDB: SELECT * in a CORRESPONDING operand")
        ident = None
        if isinstance(item, exp.Alias):
            ident = item.args.get("alias")
        else:
            inner = item.this if isinstance(item, exp.Paren) else item
            if isinstance(inner, exp.Column | exp.Dot) and inner.output_name:
                ident = exp.to_identifier(inner.output_name)
        out.append(ident if isinstance(ident, exp.Identifier) and ident.name else None)
    return out


def _result(op: exp.SetOperation, named: list[list[exp.Identifier | None]]) -> list[exp.Identifier]:
    """The result's columns (spelled as in the first operand that has each).

    With a BY list GoogleSQL ignores the columns outside it (anonymous or repeated ones
    too); without one, every column takes part and must be named once.
    """
    mode = _mode(op)
    by = [c.name.lower() for c in op.args.get("on") or ()]
    if len(set(by)) != len(by):
        raise TranspileError("unsupported on DuckDB: a column twice in a CORRESPONDING BY list")
    keys = [[i.name.lower() for i in names if i is not None] for names in named]
    for names, k in zip(named, keys, strict=True):
        if not by and len(k) != len(names):
            raise TranspileError(
                "unsupported on DuckDB: an anonymous column in a CORRESPONDING set operation"
            )
        repeated = {c for c in k if k.count(c) > 1}
        if repeated and (not by or repeated & set(by)):
            raise TranspileError(
                "unsupported on DuckDB: a column name twice in a CORRESPONDING operand"
            )
    spelled: dict[str, exp.Identifier] = {}
    for names in named:
        for ident in names:
            if ident is not None:
                spelled.setdefault(ident.name.lower(), ident)
    if by:
        for name in by:
            holders = [name in k for k in keys]
            missing = (
                not holders[0]
                if mode == "LEFT"
                else not any(holders)
                if mode == "FULL"
                else not all(holders)
            )
            if missing:
                raise TranspileError(
                    f"unsupported on DuckDB: CORRESPONDING BY column {name} missing"
                )
        if mode == "STRICT" and any(
            set(k) != set(by) or len(k) != len(n) for k, n in zip(keys, named, strict=True)
        ):
            raise TranspileError(
                "unsupported on DuckDB: STRICT CORRESPONDING BY operands without the BY list"
            )
        cols = by
    elif mode == "STRICT":
        if any(set(k) != set(keys[0]) for k in keys):
            raise TranspileError("unsupported on DuckDB: STRICT CORRESPONDING of different columns")
        cols = keys[0]
    elif mode == "INNER":
        cols = [c for c in keys[0] if all(c in k for k in keys[1:])]
    elif mode == "LEFT":
        cols = keys[0]
    else:
        cols = list(dict.fromkeys(c for k in keys for c in k))
    if not cols:
        raise TranspileError("unsupported on DuckDB: CORRESPONDING operands share no column")
    return [spelled[c] for c in cols]


def _project(operand: exp.Expr, names: list[exp.Identifier | None], cols, alias: str) -> exp.Select:
    """``SELECT <cols> FROM (operand) AS alias``: each column by its name there, else NULL."""
    own = {i.name.lower(): i for i in names if i is not None}
    items: list[exp.Expr] = []
    for col in cols:
        mine = own.get(col.name.lower())
        if mine is None:
            filler = exp.null()
            filler.meta[FILLER] = True  # typed by the operand that has the column
            items.append(exp.alias_(filler, col.copy()))
        elif mine.name == col.name:
            items.append(exp.column(mine.copy()))
        else:  # spelled otherwise here: the result's spelling names it
            items.append(exp.alias_(exp.column(mine.copy()), col.copy()))
    body = operand.this if isinstance(operand, exp.Subquery) and not _shaped(operand) else operand
    return exp.select(*items).from_(exp.Subquery(this=body, alias=exp.TableAlias(this=alias)))


def _shaped(sub: exp.Subquery) -> bool:
    """A parenthesized operand with its own ORDER BY / LIMIT kept on the Subquery node."""
    return any(sub.args.get(k) for k in ("order", "limit", "offset"))


def _rewrite(op: exp.SetOperation) -> None:
    operands = _operands(op)
    named = [_names(o) for o in operands]
    cols = _result(op, named)
    projected = [
        _project(o, n, cols, f"_c{i}") for i, (o, n) in enumerate(zip(operands, named, strict=True))
    ]
    # Rebuild the chain leftwards, positional, with op's operator and DISTINCT/ALL.
    chain: exp.Expr = projected[0]
    for right in projected[1:-1]:
        chain = type(op)(this=chain, expression=right, distinct=op.args.get("distinct"))
    op.set("this", chain)
    op.set("expression", projected[-1])
    for key in ("by_name", "side", "kind", "on"):
        op.set(key, None)


def result_columns(op: exp.Expr) -> list[str] | None:
    """The result's column names of a by-name set operation (None: not one, or refused).

    Example:
        >>> import sqlglot
        >>> sql = "SELECT 1 AS a, 2 AS b FULL UNION ALL CORRESPONDING SELECT 3 AS c"
        >>> result_columns(sqlglot.parse_one(sql, read="bigquery"))
        ['a', 'b', 'c']
    """
    if not isinstance(op, exp.SetOperation) or not op.args.get("by_name"):
        return None
    try:
        operands = _operands(op)
        return [i.name for i in _result(op, [_names(o) for o in operands])]
    except TranspileError:
        return None
