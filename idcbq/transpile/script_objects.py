"""Temporary objects of a BigQuery script, folded into the statements that use them.

A script's ``CREATE TEMP FUNCTION`` (SQL UDFs only) and ``CREATE TEMP TABLE ... AS
SELECT`` create nothing anywhere: a call of the function becomes its body with the
arguments in place of the parameters (each cast to the parameter's type, the result to
the declared ``RETURNS`` type), and a read of the table becomes a ``WITH`` entry holding
its query. Every statement is then one self-contained query that the usual checks see
whole and every engine runs the same way.

Example:
    >>> import sqlglot
    >>> create = sqlglot.parse_one(
    ...     "CREATE TEMP FUNCTION twice(x INT64) AS (x * 2)", read="bigquery")
    >>> fn = temp_function(create)
    >>> query = sqlglot.parse_one("SELECT twice(3) AS six", read="bigquery")
    >>> inline_functions(query, {"twice": fn}).sql("bigquery")
    'SELECT ((CAST(3 AS INT64)) * 2) AS six'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from idcbq.errors import ValidationError

if TYPE_CHECKING:
    from sqlglot import exp


@dataclass(frozen=True)
class TempFunction:
    """A SQL UDF: its parameters ``(name, type or None for ANY TYPE)``, body and result type."""

    name: str
    params: tuple[tuple[str, exp.DataType | None], ...]
    body: exp.Expr
    returns: exp.DataType | None


def is_temporary(create: exp.Create) -> bool:
    from sqlglot import exp

    props = create.args.get("properties")
    return props is not None and any(
        isinstance(p, exp.TemporaryProperty) for p in props.expressions
    )


def temp_function(create: exp.Create) -> TempFunction:
    """The SQL UDF a ``CREATE TEMP FUNCTION`` defines; JavaScript and table functions refused."""
    from sqlglot import exp

    udf = create.this
    props = create.args.get("properties")
    props = props.expressions if props is not None else []
    language = next((p for p in props if isinstance(p, exp.LanguageProperty)), None)
    if language is not None:
        raise ValidationError(
            f"CREATE TEMP FUNCTION {udf.this.sql('bigquery')}: LANGUAGE "
            f"{language.this.sql('bigquery') if isinstance(language.this, exp.Expr) else language.this}"
            " functions are not allowed (only SQL functions: AS (expression))",
            hint="JavaScript UDFs run code outside SQL; write the function in SQL",
        )
    body = create.expression
    if isinstance(body, exp.Subquery) and isinstance(body.this, exp.Subquery):
        # AS ((SELECT ...)): the parenthesized body is a scalar subquery
        body = exp.Paren(this=body.this)
    if not isinstance(body, exp.Paren):
        raise ValidationError("CREATE TEMP FUNCTION needs a SQL body: AS (expression)")
    returns = next((p for p in props if isinstance(p, exp.ReturnsProperty)), None)
    if returns is not None and returns.args.get("is_table"):
        raise ValidationError("table functions (RETURNS TABLE) are not supported in scripts")
    name_node = udf.this
    if not isinstance(name_node, exp.Table) or name_node.db:
        raise ValidationError(
            f"a temporary function has a plain name, got {name_node.sql('bigquery')}"
        )
    name = name_node.name
    if _builtin(name):
        raise ValidationError(f"temporary function {name} has the name of a built-in function")
    params = []
    for column_def in udf.expressions:
        kind = column_def.args.get("kind")
        text = kind.sql("bigquery").upper() if kind is not None else "ANY TYPE"
        params.append((column_def.name, None if text.startswith("ANY") else kind))
    return TempFunction(
        name=name,
        params=tuple(params),
        body=body.this,
        returns=returns.this if returns is not None else None,
    )


def inline_functions(tree: exp.Expr, functions: Mapping[str, TempFunction]) -> exp.Expr:
    """Replace every call of a temporary function by its body (innermost calls too)."""
    from sqlglot import exp

    by_name = {n.lower(): f for n, f in functions.items()}
    if not by_name:
        return tree
    for _ in range(10_000):  # bodies hold only earlier functions, already inlined
        found = next(
            (h for h in (_call_of(c, by_name) for c in tree.find_all(exp.Func)) if h),
            None,
        )
        if found is None:
            return tree
        call, called, arguments = found
        fn = by_name[called]
        if len(arguments) != len(fn.params):
            raise ValidationError(
                f"function {fn.name} takes {len(fn.params)} argument(s), got {len(arguments)}"
            )
        args = {
            pname.lower(): exp.Paren(this=exp.cast(arg.copy(), kind) if kind else arg.copy())
            for (pname, kind), arg in zip(fn.params, arguments, strict=True)
        }
        for position, (pname, _), arg in zip(
            range(1, len(arguments) + 1), fn.params, arguments, strict=True
        ):
            reason = _captured(fn.body, pname.lower(), arg)
            if reason:
                raise ValidationError(
                    f"temporary function {fn.name}: argument {position} ({arg.sql('bigquery')}) "
                    f"{reason}, and the body reads {pname} inside a subquery: idcbq writes the "
                    "body in place of the call, where the argument would no longer mean what it "
                    "means in the caller",
                    hint="compute the argument in a WITH query first and pass its column, "
                    "qualified by the query's name",
                )
        body = fn.body.copy()
        for column in list(body.find_all(exp.Column)):
            if not column.table and column.name.lower() in args:
                column.replace(args[column.name.lower()].copy())
        body = exp.Paren(this=body)
        new = exp.cast(body, fn.returns) if fn.returns is not None else body
        if call is tree:
            return new
        call.replace(new)
    raise ValidationError("temporary functions nest too deeply")


def _captured(body: exp.Expr, pname: str, arg: exp.Expr) -> str | None:
    """Why ``arg``, written where the body reads parameter ``pname`` inside a subquery,
    would change meaning there (None if it would not).

    GoogleSQL evaluates an argument in the caller. Written into a subquery of the body,
    an aggregate or analytic function would aggregate the subquery's rows (or be refused
    there), and a column could resolve to a table the subquery reads.
    """
    from sqlglot import exp

    def in_query(node: exp.Expr) -> bool:
        while node is not None:
            if isinstance(node, exp.Query):
                return True
            if node is body:
                return False
            node = node.parent
        return False

    refs = (c for c in body.find_all(exp.Column) if not c.table and c.name.lower() == pname)
    if not any(in_query(c.parent) for c in refs):
        return None
    own = list(arg.walk(prune=lambda n: isinstance(n, exp.Query)))  # not its own subqueries
    if any(isinstance(n, exp.AggFunc | exp.Window) for n in own):
        return "holds an aggregate or analytic function"
    columns = [n for n in own if isinstance(n, exp.Column)]
    if not columns:
        return None
    declared: set[str] = set()
    for alias in body.find_all(exp.TableAlias):
        declared.add(alias.name.lower())
        declared.update(c.name.lower() for c in alias.columns)
    tables = list(body.find_all(exp.Table))  # a table's (or WITH query's) columns are unknown
    declared.update(t.name.lower() for t in tables)
    for column in columns:
        if column.table and column.table.lower() not in declared:
            continue  # qualified by a name of the caller's only
        if column.table or tables or column.name.lower() in declared:
            return f"reads column {column.sql('bigquery')}, which the body's subquery may name too"
    return None


def _builtin(name: str) -> bool:
    """True if BigQuery has a function ``name`` (sqlglot knows names BigQuery lacks,
    e.g. ARRAY_DISTINCT, which a script may define as its own temporary function)."""
    from idcbq.validate.strict import function_table

    return name.lower() in function_table()


def _call_of(
    node: exp.Func, names: Mapping[str, object]
) -> tuple[exp.Func, str, list[exp.Expr]] | None:
    """``(node, lowercase name, arguments)`` if ``node`` calls one of ``names``: an
    unknown function, or one sqlglot types although BigQuery lacks it (its arguments in
    their written order, checked by printing the call back and parsing it again)."""
    import sqlglot
    from sqlglot import exp

    if isinstance(node, exp.Anonymous):
        if isinstance(node.this, str) and node.this.lower() in names:
            return node, node.this.lower(), list(node.expressions)
        return None
    name = node.sql_name()
    if not name or name.lower() not in names or _builtin(name):
        return None
    arguments: list[exp.Expr] = []
    for key in node.arg_types:
        value = node.args.get(key)
        if value is None:
            continue
        arguments.extend(value if isinstance(value, list) else [value])
    if not all(isinstance(a, exp.Expr) for a in arguments):
        return None
    written = exp.Anonymous(this=name, expressions=[a.copy() for a in arguments])
    try:
        again = sqlglot.parse_one(written.sql("bigquery"), read="bigquery")
    except sqlglot.errors.ParseError:
        return None
    if again != node:
        return None  # not a plain positional call: leave it (it stays unknown, refused later)
    return node, name.lower(), arguments


def attach_tables(tree: exp.Expr, tables: Mapping[str, exp.Query]) -> exp.Expr:
    """Put the temporary tables ``tree`` reads (and those they read) in its ``WITH``."""
    from sqlglot import exp

    by_name = {n.lower(): n for n in tables}

    def reads(node: exp.Expr) -> set[str]:
        return {
            t.name.lower()
            for t in node.find_all(exp.Table)
            if not t.db and not t.catalog and t.name.lower() in by_name
        }

    needed: set[str] = set()
    todo = reads(tree)
    while todo:
        name = todo.pop()
        if name not in needed:
            needed.add(name)
            todo |= reads(tables[by_name[name]])
    if not needed:
        return tree
    for cte in tree.find_all(exp.CTE):
        if cte.alias.lower() in by_name:
            raise ValidationError(
                f"WITH {cte.alias} has the name of a temporary table of this script",
                hint="rename the WITH entry",
            )
    ctes = [
        exp.CTE(this=tables[name].copy(), alias=exp.TableAlias(this=exp.to_identifier(name)))
        for name in tables
        if name.lower() in needed
    ]
    with_ = tree.args.get("with_")
    if with_ is not None:
        with_.set("expressions", ctes + list(with_.expressions))
    else:
        tree.set("with_", exp.With(expressions=ctes))
    return tree
