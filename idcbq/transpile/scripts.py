"""BigQuery scripts: ``DECLARE name TYPE DEFAULT literal;`` ... followed by one query.

Such a script is accepted: each declaration becomes a typed parameter and the
variable references in the query become ``@name``. Anything else that is not a
single query (``EXECUTE IMMEDIATE``, ``SET``, DDL, DML, several queries) raises
``TranspileError`` naming the construct: never wrong SQL.

Example:
    >>> sql = "DECLARE tol FLOAT64 DEFAULT 0.5;\\nSELECT x FROM t WHERE y < tol"
    >>> query, params = split_declare_script(sql)
    >>> query
    'SELECT x FROM t WHERE y < @tol'
    >>> params[0].name, str(params[0].type), params[0].value
    ('tol', 'FLOAT64', 0.5)
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from idcbq.core.memo import Memo
from idcbq.errors import TranspileError
from idcbq.params import BoundParameter, ParamType

if TYPE_CHECKING:
    from sqlglot import exp


@dataclass(frozen=True)
class Declaration:
    """One ``DECLARE`` of a script: name, type and the default as a Python value."""

    name: str
    type: ParamType
    value: Any

    def bound(self) -> BoundParameter:
        return BoundParameter.of(self.name, self.type, self.value)


#: Statements parsed per SQL text (pristine: callers get copies).
_PARSED = Memo(size=64)


def parsed_copies(sql: str, *, error_level: Any = None) -> list[exp.Expr | None]:
    """``sqlglot.parse(sql)`` as GoogleSQL reads the text
    (:class:`~idcbq.transpile.dialects.GoogleSQLText`), once per process: validation
    and translation parse the same text, and copying a tree costs a third of parsing it.

    A text that fails to parse is parsed (and fails) on every call, with ``error_level``
    (sqlglot's; a successful parse gives the same trees at every level).

    Example:
        >>> a, b = parsed_copies("SELECT 1"), parsed_copies("SELECT 1")
        >>> a[0].sql(), a[0] is b[0]
        ('SELECT 1', False)
    """
    return [tree.copy() if tree is not None else None for tree in _pristine(sql, error_level)]


def shared_parse(sql: str) -> tuple[exp.Expr | None, ...]:
    """The statements :func:`parsed_copies` copies, themselves: shared by every caller,
    so only to read (never edit, attach or keep), and without the parser's token
    positions. A reader that needs no copy (the tables a query names) saves the parse or
    the copy.

    Example:
        >>> shared_parse("SELECT 1")[0] is shared_parse("SELECT 1")[0]
        True
    """
    return tuple(tree.tree if tree is not None else None for tree in _pristine(sql, None))


def _pristine(sql: str, error_level: Any) -> tuple[_Pristine | None, ...]:
    import sqlglot

    from idcbq.transpile.dialects import GoogleSQLText

    trees = _PARSED.get(sql)
    if trees is None:
        parsed = sqlglot.parse(sql, read=GoogleSQLText, error_level=error_level)
        trees = _PARSED.put(sql, tuple(_Pristine.of(tree) for tree in parsed))
    return trees


class _Pristine:
    """A parsed tree kept without its nodes' ``meta`` (the parser's token positions),
    which is put back on each copy: ``Expr.copy`` deep-copies every meta dict, which
    doubled the copy's time. Empty ``comments`` lists are dropped for the same reason
    (each took a trip through :func:`copy.deepcopy` on every copy of every node)."""

    def __init__(self, tree: exp.Expr, metas: list[tuple[dict, bool] | None]) -> None:
        self.tree, self.metas = tree, metas

    @classmethod
    def of(cls, tree: exp.Expr | None) -> _Pristine | None:
        if tree is None:
            return None
        metas = []
        for node in tree.walk():
            meta = node._meta
            # token positions and names (ints and strings) need no deep copy
            metas.append(None if meta is None else (meta, not _scalars(meta)))
            node._meta = None
            if node.comments == []:  # the parser's empty lists: every copy deep-copies them
                node.comments = None  # (sqlglot reads None and [] alike)
        return cls(tree, metas)

    def copy(self) -> exp.Expr:
        import copy

        twin = self.tree.copy()
        for node, kept in zip(twin.walk(), self.metas, strict=True):
            if kept is not None:
                meta, deep = kept
                node._meta = copy.deepcopy(meta) if deep else dict(meta)
        return twin


def _scalars(meta: dict) -> bool:
    return all(type(v) in (int, str, bool, float) or v is None for v in meta.values())


def parse_statements(sql: str) -> list[exp.Expr]:
    """Parse BigQuery SQL into statements; scripting sqlglot cannot parse becomes an error."""
    import logging

    from sqlglot.errors import ErrorLevel, ParseError

    # sqlglot logs a warning when it falls back to a Command; we raise a clear error instead.
    logger = logging.getLogger("sqlglot")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        statements = parsed_copies(sql, error_level=ErrorLevel.RAISE)
    except ParseError as exc:
        raise TranspileError(f"cannot parse BigQuery SQL: {exc}") from exc
    finally:
        logger.setLevel(level)
    from sqlglot import exp

    # A trailing ";" parses as an empty Semicolon statement: not a statement at all.
    return [s for s in statements if s is not None and not isinstance(s, exp.Semicolon)]


def _describe(stmt: exp.Expr) -> str:
    from sqlglot import exp

    if isinstance(stmt, exp.Command):
        rest = stmt.expression.name if isinstance(stmt.expression, exp.Expr) else ""
        head = f"{stmt.this} {rest}".strip()
        words = head.upper().split()
        if words[:2] == ["EXECUTE", "IMMEDIATE"]:
            return "EXECUTE IMMEDIATE (dynamic SQL)"
        return words[0] if words else "command"
    return stmt.key.upper().replace("_", " ")


def split_script(sql: str) -> tuple[exp.Expr, list[Declaration]]:
    """The single query of ``sql`` and the declarations before it (variables still as columns)."""
    from sqlglot import exp

    statements = parse_statements(sql)
    declarations: list[Declaration] = []
    query: exp.Expr | None = None
    unsupported: list[str] = []
    for stmt in statements:
        if isinstance(stmt, exp.Declare) and query is None:
            declarations.extend(_declarations(stmt))
        elif isinstance(stmt, exp.Query) and query is None:
            query = stmt
        elif isinstance(stmt, exp.Query):
            unsupported.append("more than one query")
        else:
            unsupported.append(_describe(stmt))
    if unsupported:
        names = list(dict.fromkeys(unsupported))
        raise TranspileError(
            f"unsupported on DuckDB: {', '.join(names)} "
            "(a script may only be DECLARE ... DEFAULT literal; statements followed by one query)",
            hint="BigQuery scripting and dynamic SQL have no faithful DuckDB translation",
        )
    if query is None:
        raise TranspileError("no query found: expected a single SELECT statement")
    return query, declarations


def _declarations(stmt: exp.Declare) -> list[Declaration]:
    from sqlglot import exp

    out = []
    for item in stmt.expressions:
        names = item.this if isinstance(item.this, list) else [item.this]
        kind = item.args.get("kind")
        default = item.args.get("default")
        if kind is None:
            raise TranspileError(
                f"unsupported on DuckDB: DECLARE {', '.join(n.name for n in names)} without a type"
            )
        ptype = param_type(kind)
        # Without DEFAULT a BigQuery variable starts as NULL (sqlglot stores no node then).
        value = literal_value(default, ptype) if isinstance(default, exp.Expr) else None
        for name in names:
            out.append(Declaration(name=name.name, type=ptype, value=value))
    return out


def param_type(kind: exp.DataType) -> ParamType:
    from idcbq.errors import ParameterError

    text = kind.sql("bigquery")
    try:
        return ParamType.parse(text)
    except ParameterError as exc:
        raise TranspileError(f"unsupported on DuckDB: DECLARE of type {text}") from exc


def literal_value(node: exp.Expr, ptype: ParamType) -> Any:
    """The Python value of a DEFAULT that is a literal (or array of literals); else an error."""
    from sqlglot import exp

    if isinstance(node, exp.Null):
        return None
    if ptype.is_array:
        if not isinstance(node, exp.Array):
            raise TranspileError(f"unsupported on DuckDB: DECLARE DEFAULT {node.sql('bigquery')}")
        return [literal_value(e, ptype.element_type) for e in node.expressions]
    if isinstance(node, exp.Neg) and isinstance(node.this, exp.Literal):
        inner = literal_value(node.this, ptype)
        return -inner
    if isinstance(node, exp.Boolean):
        return bool(node.this)
    if isinstance(node, exp.Cast) and isinstance(node.this, exp.Literal):
        node = node.this
    if isinstance(node, exp.Literal):
        text = node.this
        if ptype.scalar == "STRING":
            return text
        if ptype.scalar == "INT64":
            return int(text)
        if ptype.scalar == "FLOAT64":
            return float(text)
        if ptype.scalar == "DATE":
            return dt.date.fromisoformat(text)
        if ptype.scalar == "TIMESTAMP":
            return ParamType("TIMESTAMP").parse_text(text)
    raise TranspileError(
        f"unsupported on DuckDB: DECLARE DEFAULT {node.sql('bigquery')} (only literals)"
    )


def variables_to_parameters(query: exp.Expr, declarations: list[Declaration]) -> exp.Expr:
    """Turn unqualified column references named like a declared variable into ``@name``."""
    from sqlglot import exp

    names = {d.name.lower(): d.name for d in declarations}
    if not names:
        return query
    for column in list(query.find_all(exp.Column)):
        if column.table or column.name.lower() not in names:
            continue
        column.replace(exp.Parameter(this=exp.var(names[column.name.lower()])))
    return query


def split_declare_script(sql: str) -> tuple[str, list[BoundParameter]]:
    """Split a ``DECLARE ...; SELECT ...`` script into BigQuery SQL and typed parameters.

    A plain query comes back unchanged with no parameters. Scripts that are more than
    declarations plus one query raise ``TranspileError``.
    """
    query, declarations = split_script(sql)
    if not declarations:
        return sql, []
    query = variables_to_parameters(query, declarations)
    return query.sql(dialect="bigquery"), [d.bound() for d in declarations]


_LEADING_COMMENTS = re.compile(r"\A(?:\s+|#[^\n]*|--[^\n]*|/\*.*?\*/)*", re.DOTALL)


def starts_with_declare(sql: str) -> bool:
    """True if the first statement (after whitespace and comments) is a ``DECLARE``."""
    rest = sql[_LEADING_COMMENTS.match(sql).end() :]
    return re.match(r"DECLARE\b", rest, re.IGNORECASE) is not None
