"""Parsing and the statement-level rules: one statement, read-only, no escape hatches."""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from idcbq.core.memo import Memo
from idcbq.errors import ValidationError

if TYPE_CHECKING:
    from sqlglot import exp

    from idcbq.templates.locations import LocationMap

DIALECT = "bigquery"

#: Functions rejected anywhere in a query. BigQuery's own escape hatches (federated
#: queries, ML, external sources) and, because queries also run on DuckDB after
#: transpilation, DuckDB functions that read files, settings or the environment.
_FORBIDDEN_FUNCTIONS = re.compile(
    r"^(external_query|external_object_transform|ml\..*|vector_search|appends|changes|"
    r"session_user|getenv|read_\w+|glob|sniff_csv|parquet_\w+|query|query_table|"
    r"current_setting|duckdb_\w+|pragma_\w+|which_secret|iceberg_\w+|delta_scan|"
    r"sqlite_\w+|postgres_\w+|mysql_\w+|load|install|attach|detach|copy|system|"
    r"http_\w+|json_execute_serialized_sql|enable_\w+|disable_\w+)$",
    re.IGNORECASE,
)


_TOKEN_REPR = re.compile(r"<Token token_type: ([\w.]+), text: (.*?), line: \d+.*?>")


def parse_error_text(exc: Exception) -> str:
    """sqlglot's description of a parse error, with its tokens written as the user wrote them.

    Example:
        >>> import sqlglot
        >>> try:
        ...     sqlglot.parse_one("SELECT FROM", read="bigquery")
        ... except sqlglot.errors.ParseError as exc:
        ...     print(parse_error_text(exc))
        Expected table name but got the end of the query
    """
    info = exc.errors[0] if getattr(exc, "errors", None) else {}
    desc = info.get("description") or str(exc).splitlines()[0]

    def token(m: re.Match[str]) -> str:
        # the parser's end-of-input marker is not something the user wrote
        return "the end of the query" if m.group(1).endswith("SENTINEL") else repr(m.group(2))

    return _TOKEN_REPR.sub(token, desc)


def parse_statements(
    sql: str, lmap: LocationMap, add: Callable[[ValidationError], None]
) -> exp.Expression | None:
    """Parse ``sql``; return the one statement, or None after reporting why not."""
    from sqlglot.errors import ParseError, TokenError

    from idcbq.transpile.scripts import parsed_copies

    logging.getLogger("sqlglot").setLevel(logging.ERROR)  # "falling back to Command" noise
    try:
        statements = [s for s in parsed_copies(sql) if s is not None]
    except ParseError as exc:
        info = exc.errors[0] if exc.errors else {}
        token = (info.get("highlight") or "").strip() or None
        line, col = info.get("line"), info.get("col")
        if line is not None and col is not None and token:
            # sqlglot reports the column where the token ends; point at its start.
            col = max(1, col - len(token) + 1)
        desc = parse_error_text(exc)
        add(
            ValidationError(
                f"SQL syntax error: {desc}", location=lmap.locate(line, col, token=token)
            )
        )
        return None
    except TokenError as exc:
        add(ValidationError(f"SQL cannot be tokenized: {exc}", location=lmap.locate(None)))
        return None
    if not statements:
        add(ValidationError("no SQL statement found", location=lmap.locate(1, 1)))
        return None
    if len(statements) > 1:
        start = _second_statement_offset(sql)
        add(
            ValidationError(
                f"expected exactly one query, found {len(statements)} statements",
                location=lmap.locate_offset(sql, start) if start is not None else lmap.locate(None),
                hint="remove the extra statements (scripts are not allowed)",
            )
        )
        return None
    return statements[0]


def _second_statement_offset(sql: str) -> int | None:
    from sqlglot.dialects.dialect import Dialect
    from sqlglot.tokens import TokenType

    tokens = Dialect.get_or_raise(DIALECT).tokenize(sql)
    for tok, nxt in itertools.pairwise(tokens):
        if tok.token_type == TokenType.SEMICOLON:
            return nxt.start
    return None


def check_read_only(
    tree: exp.Expression, sql: str, lmap: LocationMap, add: Callable[[ValidationError], None]
) -> bool:
    """Only SELECT / WITH / set operations; nothing that writes, scripts or escapes."""
    from sqlglot import exp

    query_types = (exp.Select, exp.SetOperation, exp.Subquery)
    if not isinstance(tree, query_types):
        kind = _statement_kind(tree, sql)
        add(
            ValidationError(
                f"only read-only queries (SELECT / WITH) are allowed, got {kind}",
                location=lmap.locate_offset(sql, _first_token_offset(sql), token=kind.split()[0]),
            )
        )
        return False
    writers = (
        exp.Insert, exp.Update, exp.Delete, exp.Merge, exp.Create, exp.Drop, exp.Alter,
        exp.Command, exp.Set, exp.Export, exp.Declare, exp.Copy, exp.Pragma, exp.Use,
        exp.TruncateTable, exp.LoadData,
    )  # fmt: skip
    ok = True
    for node in tree.find_all(*writers):
        add(
            ValidationError(
                f"{type(node).__name__.upper()} is not allowed inside a query",
                location=node_location(node, sql, lmap),
            )
        )
        ok = False
    return ok


def check_functions(
    tree: exp.Expression, sql: str, lmap: LocationMap, add: Callable[[ValidationError], None]
) -> None:
    """Reject functions that reach outside IDC data (files, env, federated queries)."""
    from sqlglot import exp

    for node in tree.find_all(exp.Func):
        name = node.name if isinstance(node, exp.Anonymous) else node.sql_name()
        if isinstance(node, exp.Anonymous) and isinstance(node.this, str):
            name = node.this
        if name and _FORBIDDEN_FUNCTIONS.match(name.replace("`", "")):
            add(
                ValidationError(
                    f"function {name}() is not allowed in idcbq queries",
                    location=node_location(node, sql, lmap, token=name),
                    hint="queries may only read IDC tables",
                )
            )
    for node in tree.find_all(exp.Parameter):
        if isinstance(node.this, exp.Parameter):  # @@system_variable
            add(
                ValidationError(
                    f"system variable @@{node.this.name} is not allowed",
                    location=node_location(node, sql, lmap, token=f"@@{node.this.name}"),
                )
            )


def _statement_kind(tree: exp.Expression, sql: str) -> str:
    from sqlglot import exp

    if isinstance(tree, exp.Command):
        return f"{str(tree.this).upper()} statement"
    if isinstance(tree, exp.Export):
        return "EXPORT DATA"
    return f"{type(tree).__name__.upper()} statement"


def _first_token_offset(sql: str) -> int:
    from sqlglot.dialects.dialect import Dialect

    try:
        tokens = Dialect.get_or_raise(DIALECT).tokenize(sql)
    except Exception:  # the parse succeeded, so this is only a safety net
        return 0
    return tokens[0].start if tokens else 0


def node_location(
    node: exp.Expression, sql: str, lmap: LocationMap, *, token: str | None = None
) -> object:
    """Best location of a node: the earliest position sqlglot recorded in its subtree."""
    start = None
    for sub in node.walk():
        pos = sub.meta_get("start")
        if pos is not None and (start is None or pos < start):
            start = pos
            if token is None and sub.meta_get("end") is not None:
                token = sql[pos : sub.meta_get("end") + 1]
    if start is None:
        if token:
            pos = sql.find(token)
            if pos < 0:
                pos = sql.lower().find(token.lower())
            if pos >= 0:
                return lmap.locate_offset(sql, pos, token=token)
        return lmap.locate(None)
    return lmap.locate_offset(sql, start, token=token)


#: GoogleSQL's reserved keywords: an identifier spelled like one must be `quoted`.
RESERVED = frozenset(
    [
        "ALL",
        "AND",
        "ANY",
        "ARRAY",
        "AS",
        "ASC",
        "ASSERT_ROWS_MODIFIED",
        "AT",
        "BETWEEN",
        "BY",
        "CASE",
        "CAST",
        "COLLATE",
        "CONTAINS",
        "CREATE",
        "CROSS",
        "CUBE",
        "CURRENT",
        "DEFAULT",
        "DEFINE",
        "DESC",
        "DISTINCT",
        "ELSE",
        "END",
        "ENUM",
        "ESCAPE",
        "EXCEPT",
        "EXCLUDE",
        "EXISTS",
        "FALSE",
        "FETCH",
        "FOLLOWING",
        "FOR",
        "FROM",
        "FULL",
        "GROUP",
        "GROUPING",
        "GROUPS",
        "HASH",
        "HAVING",
        "IF",
        "IGNORE",
        "IN",
        "INNER",
        "INTERSECT",
        "INTERVAL",
        "INTO",
        "IS",
        "JOIN",
        "LATERAL",
        "LEFT",
        "LIKE",
        "LIMIT",
        "LOOKUP",
        "MERGE",
        "NEW",
        "NO",
        "NOT",
        "NULL",
        "NULLS",
        "OF",
        "ON",
        "OR",
        "ORDER",
        "OUTER",
        "OVER",
        "PARTITION",
        "PRECEDING",
        "PROTO",
        "RANGE",
        "RECURSIVE",
        "RESPECT",
        "RIGHT",
        "ROLLUP",
        "ROWS",
        "SELECT",
        "SET",
        "SOME",
        "STRUCT",
        "TABLESAMPLE",
        "THEN",
        "TO",
        "TREAT",
        "TRUE",
        "UNBOUNDED",
        "UNION",
        "UNNEST",
        "USING",
        "WHEN",
        "WHERE",
        "WINDOW",
        "WITH",
        "WITHIN",
    ]
)


def check_names(
    tree: exp.Expression, sql: str, lmap: LocationMap, add: Callable[[ValidationError], None]
) -> None:
    """Name rules BigQuery enforces and sqlglot/DuckDB do not.

    - an unquoted identifier that is a reserved keyword (``Rows``, ``Range``, ``Groups``);
    - in HAVING or ORDER BY, an aggregate over a name that is also the SELECT alias of an
      aggregate (``SELECT MIN(x) AS x ... HAVING MIN(x) > 0``): BigQuery resolves the name
      to the alias first and refuses an aggregation of an aggregation.
    """
    from sqlglot import exp

    for ident in tree.find_all(exp.Identifier):
        if ident.quoted or ident.name.upper() not in RESERVED:
            continue
        parent = ident.parent
        if not isinstance(parent, exp.Column | exp.Alias | exp.TableAlias):
            continue
        if isinstance(parent, exp.Column) and (parent.table or parent.this is not ident):
            continue  # after a dot GoogleSQL may accept it; leave that to the engine
        add(
            ValidationError(
                f"{ident.name} is a reserved keyword in BigQuery and must be quoted",
                location=node_location(ident, sql, lmap, token=ident.name),
                hint=f"write `{ident.name}`",
            )
        )
    for select in tree.find_all(exp.Select):
        clauses = [select.args.get("having"), select.args.get("order")]
        aggregates = {
            item.alias.lower()
            for item in select.expressions
            if isinstance(item, exp.Alias) and item.this.find(exp.AggFunc)
        }
        if not aggregates:
            continue
        for agg in (
            a for clause in clauses if clause is not None for a in clause.find_all(exp.AggFunc)
        ):
            for column in agg.find_all(exp.Column):
                if column.table or column.name.lower() not in aggregates:
                    continue
                add(
                    ValidationError(
                        f"aggregations of aggregations are not allowed: {column.name} in "
                        "HAVING/ORDER BY names the SELECT alias of an aggregate",
                        location=node_location(column, sql, lmap, token=column.name),
                        hint="give the SELECT alias a different name than the column",
                    )
                )


#: Tokens per SQL text: the strict layer's token scan and its call families read the
#: same text, and a session validates the same template text again and again.
_TOKENS = Memo(size=64)


def tokens_of(sql: str) -> tuple[Any, ...]:
    """``sql``'s tokens as the strict layer reads them (tokenized once per text; shared:
    callers only read them)."""
    tokens = _TOKENS.get(sql)
    if tokens is None:
        from sqlglot.dialects.dialect import Dialect

        tokens = _TOKENS.put(sql, tuple(Dialect.get_or_raise(DIALECT).tokenize(sql)))
    return tokens
