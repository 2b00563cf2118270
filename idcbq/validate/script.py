"""BigQuery scripts, read-only: each statement is checked alone before anything runs.

A script may hold ``DECLARE`` and ``SET`` of variables, ``CREATE TEMP FUNCTION`` (SQL
bodies only), ``CREATE TEMP TABLE ... AS SELECT``, ``EXECUTE IMMEDIATE <string
expression>`` and queries; its result is the last query's, as in BigQuery. Anything
else (DML, DDL of non-temporary objects, procedures, transactions, system variables,
JavaScript UDFs) is refused at its ``<sql>:line:col``.

How it stays safe:

- variables are typed query parameters (their values are computed by single queries
  that pass the same checks, then bound, never spliced into SQL text);
- temporary objects exist only inside the statements that use them
  (:mod:`idcbq.transpile.script_objects`), so each statement is one query that passes
  validation and the GoogleSQL gate whole: the analyzer sees every temporary object
  that statement uses, its catalog growing with the script;
- ``EXECUTE IMMEDIATE``: the statement computing the string is checked and run first,
  then the string must itself be one statement allowed here and is checked in turn.

The engine-facing work is the caller's (:class:`ScriptHooks`), so this module never
imports an engine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from idcbq.errors import TemplateError, ValidationError
from idcbq.templates.locations import LocationMap
from idcbq.validate.statements import parse_error_text

if TYPE_CHECKING:
    from sqlglot import exp

    from idcbq.params import BoundParameter, ParamType

MAX_DEPTH = 4  # EXECUTE IMMEDIATE of EXECUTE IMMEDIATE of ...
_EXECUTE = re.compile(r"\AEXECUTE\s+IMMEDIATE\b", re.IGNORECASE)
ALLOWED = "SELECT, DECLARE, SET, CREATE TEMP FUNCTION / TABLE ... AS SELECT, EXECUTE IMMEDIATE"


class ScriptHooks(Protocol):
    """What running a script needs from the client (all on BigQuery SQL)."""

    def check(self, sql: str, params: tuple[BoundParameter, ...], lmap: LocationMap) -> str | None:
        """Validate one query (raise ValidationError); return which check validated it."""

    def evaluate(
        self, sql: str, params: tuple[BoundParameter, ...], validated_by: str | None
    ) -> Any:
        """Run one checked query of one row and one column; return its value."""

    def user_param(self, name: str, ptype: ParamType | None) -> BoundParameter | None:
        """The user's value for ``@name`` (typed ``ptype`` if given), or None."""

    def expand(self, tree: exp.Expr) -> exp.Expr:
        """Metadata views and wildcard tables as subqueries (see transpile.metadata)."""


@dataclass
class ScriptResult:
    """The script's last query as one BigQuery query, its parameters and its check."""

    sql: str
    params: tuple[BoundParameter, ...]
    validated_by: str | None
    statements: int


def is_script(sql: str) -> bool:
    """True if ``sql`` is more than one statement or a statement that is not a query."""
    try:
        spans = split_statements(sql)
    except ValidationError:
        return False
    if len(spans) != 1:
        return len(spans) > 1
    head = sql[spans[0][0] : spans[0][1]].lstrip().upper()
    return head.startswith(("DECLARE", "SET", "CREATE", "EXECUTE"))


def split_statements(sql: str) -> list[tuple[int, int]]:
    """``(start, end)`` offsets of each statement (semicolons in strings/comments ignored)."""
    from sqlglot.dialects.dialect import Dialect
    from sqlglot.errors import TokenError
    from sqlglot.tokens import TokenType

    try:
        tokens = Dialect.get_or_raise("bigquery").tokenize(sql)
    except TokenError as exc:
        raise ValidationError(f"SQL cannot be tokenized: {exc}") from exc
    spans: list[tuple[int, int]] = []
    start: int | None = None
    end = 0
    for tok in tokens:
        if tok.token_type == TokenType.SEMICOLON:
            if start is not None:
                spans.append((start, end))
            start = None
            continue
        if start is None:
            start = tok.start
        end = tok.end + 1
    if start is not None:
        spans.append((start, end))
    return spans


@dataclass
class _Variable:
    type: ParamType
    param: str  # the @parameter holding its current value


@dataclass
class ScriptRunner:
    """Runs one script's statements in order (see the module docstring)."""

    script: str
    hooks: ScriptHooks
    path: str = "<sql>"
    variables: dict[str, _Variable] = field(default_factory=dict)
    bound: dict[str, BoundParameter] = field(default_factory=dict)
    functions: dict[str, Any] = field(default_factory=dict)
    tables: dict[str, exp.Query] = field(default_factory=dict)
    last: ScriptResult | None = None
    count: int = 0

    def run(self) -> ScriptResult:
        for start, end in split_statements(self.script):
            self._statement(self.script[start:end], start, depth=0)
        if self.last is None:
            raise ValidationError(
                "the script has no query: its result is its last SELECT",
                location=LocationMap.identity(self.path, self.script).locate(None),
            )
        return self.last

    # -- one statement -------------------------------------------------------------------

    def _statement(self, text: str, start: int, *, depth: int) -> None:
        from sqlglot import exp

        self.count += 1
        try:
            if _EXECUTE.match(text):
                self._execute_immediate(text, start, depth)
                return
            tree = self._parse(text, start)
            if isinstance(tree, exp.Query):
                self.last = self._query(tree, text, start)
            elif isinstance(tree, exp.Declare):
                self._declare(tree, text, start)
            elif isinstance(tree, exp.Set):
                self._set(tree, text, start)
            elif isinstance(tree, exp.Create):
                self._create(tree, text, start)
            else:
                kind = text.split(None, 1)[0].upper() if text.strip() else "?"
                raise ValidationError(
                    f"only read-only statements are allowed in a script ({ALLOWED}), got {kind}",
                    hint="scripts may create temporary functions and tables only",
                )
        except TemplateError as exc:
            if exc.location is None:
                exc.location = self._locate(start + (getattr(exc, "offset", None) or 0), text)
                exc.args = (str(exc),)
            raise

    def _parse(self, text: str, start: int) -> exp.Expr:
        import logging

        import sqlglot
        from sqlglot.errors import ParseError

        logging.getLogger("sqlglot").setLevel(logging.ERROR)
        try:
            return sqlglot.parse_one(text, read="bigquery")
        except ParseError as exc:
            raise ValidationError(f"SQL syntax error: {parse_error_text(exc)}") from None

    def _locate(self, start: int, text: str):
        token = text.split(None, 1)[0] if text.strip() else None
        return LocationMap.identity(self.path, self.script).locate_offset(
            self.script, start, token=token
        )

    def _prepared(self, tree: exp.Expr) -> exp.Expr:
        """The statement with functions, variables, metadata and temp tables folded in."""
        from idcbq.transpile.script_objects import attach_tables, inline_functions

        tree = inline_functions(tree.copy(), self.functions)
        tree = self._variables_to_params(tree)
        tree = self.hooks.expand(tree)
        return attach_tables(tree, self.tables)

    def _checked(self, tree: exp.Expr, text: str, start: int) -> tuple[str, tuple, str | None]:
        """Check the prepared statement, positioned at ``start`` in the script."""
        from sqlglot import exp

        original = self._parse(text, start)
        prepared = self._prepared(tree)
        sql = text if prepared == original else prepared.sql("bigquery")
        # Blank out what precedes the statement: positions in ``padded`` are the script's.
        padded = re.sub(r"[^\n]", " ", self.script[:start]) + sql
        params = []
        for name in dict.fromkeys(p.name for p in prepared.find_all(exp.Parameter)):
            if name in self.bound:
                params.append(self.bound[name])
            elif (user := self.hooks.user_param(name, None)) is not None:
                params.append(user)
        params_t = tuple(params)
        validated_by = self.hooks.check(padded, params_t, self._map(padded))
        return sql, params_t, validated_by

    def _map(self, padded: str) -> LocationMap:
        script_lines = tuple(self.script.splitlines()) or ("",)
        lines = tuple(padded.splitlines())
        n = len(script_lines)
        line_map = tuple(min(i + 1, n) for i in range(len(lines)))
        exact = tuple(i < n and lines[i] == script_lines[i] for i in range(len(lines)))
        # A blanked prefix keeps columns exact on the statement's first line.
        exact = tuple(e or (i < n and lines[i].strip() != "") for i, e in enumerate(exact))
        return LocationMap(self.path, script_lines, lines, line_map, exact)

    def _query(self, tree: exp.Expr, text: str, start: int) -> ScriptResult:
        sql, params, validated_by = self._checked(tree, text, start)
        return ScriptResult(sql, params, validated_by, self.count)

    # -- variables -----------------------------------------------------------------------

    def _variables_to_params(self, tree: exp.Expr) -> exp.Expr:
        from sqlglot import exp

        for column in list(tree.find_all(exp.Column)):
            var = self.variables.get(column.name.lower()) if not column.table else None
            if var is not None:
                param = exp.Parameter(this=exp.var(var.param))
                if column is tree:
                    return param
                column.replace(param)
        return tree

    def _declare(self, tree: exp.Declare, text: str, start: int) -> None:
        from sqlglot import exp

        from idcbq.errors import TranspileError
        from idcbq.params import BoundParameter
        from idcbq.transpile.scripts import literal_value, param_type

        for item in tree.expressions:
            names = item.this if isinstance(item.this, list) else [item.this]
            kind, default = item.args.get("kind"), item.args.get("default")
            if kind is None:
                raise ValidationError(f"DECLARE {names[0].name} needs a type")
            ptype = param_type(kind)
            value = None
            for name in names:
                if name.name.lower() in self.variables:
                    raise ValidationError(f"variable {name.name} is declared twice")
            user = self.hooks.user_param(names[0].name, ptype)
            if user is not None:
                value = user.value
            elif isinstance(default, exp.Expr):
                try:
                    value = literal_value(default, ptype)
                except TranspileError:  # an expression: computed by a checked query
                    value = self._evaluate(default, ptype, text, start)
            for name in names:
                self.variables[name.name.lower()] = _Variable(ptype, name.name)
                self.bound[name.name] = BoundParameter.of(name.name, ptype, value)

    def _set(self, tree: exp.Set, text: str, start: int) -> None:
        from sqlglot import exp

        from idcbq.params import BoundParameter

        for item in tree.expressions:
            eq = item.this
            target = eq.this if isinstance(eq, exp.EQ) else None
            if not isinstance(target, exp.Column) or target.table:
                raise ValidationError(
                    f"SET {target.sql('bigquery') if target is not None else ''}: only "
                    "SET variable = expression of a DECLAREd variable is allowed".replace(
                        "SET : ", "SET: "
                    )
                )
            var = self.variables.get(target.name.lower())
            if var is None:
                raise ValidationError(f"SET {target.name}: the variable is not DECLAREd")
            value = self._evaluate(eq.expression, var.type, text, start)
            n = sum(1 for p in self.bound if p.lower().startswith(target.name.lower()))
            var.param = f"{target.name}__{n + 1}"
            self.bound[var.param] = BoundParameter.of(var.param, var.type, value)

    def _evaluate(self, expr: exp.Expr, ptype: ParamType, text: str, start: int) -> Any:
        """The value of ``expr`` as ``ptype``: one checked query on the engine."""
        from sqlglot import exp

        kind = exp.DataType.build(str(ptype), dialect="bigquery")
        query = exp.select(exp.alias_(exp.cast(exp.Paren(this=expr.copy()), kind), "value"))
        sql, params, validated_by = self._checked(query, query.sql("bigquery"), start)
        return self.hooks.evaluate(sql, params, validated_by)

    # -- temporary objects ---------------------------------------------------------------

    def _create(self, tree: exp.Create, text: str, start: int) -> None:
        from sqlglot import exp

        from idcbq.transpile.script_objects import is_temporary, temp_function

        kind = str(tree.args.get("kind") or "").upper()
        if not is_temporary(tree) or kind not in ("FUNCTION", "TABLE"):
            raise ValidationError(
                f"only temporary objects may be created in a script, got CREATE {kind}",
                hint="CREATE TEMP FUNCTION ... AS (expr) or CREATE TEMP TABLE t AS SELECT ...",
            )
        if kind == "FUNCTION":
            fn = temp_function(tree)
            body = self._prepared_function_body(fn)
            self.functions[fn.name] = type(fn)(fn.name, fn.params, body, fn.returns)
            return
        query = tree.expression
        name = tree.this.name if isinstance(tree.this, exp.Table) else None
        if name is None or tree.this.db or not isinstance(query, exp.Query):
            raise ValidationError(
                "CREATE TEMP TABLE needs a plain name and AS SELECT ... (scripts insert no rows)"
            )
        # the query as written (after the first AS), so problems point into the script
        found = re.search(r"\bAS\b\s*", text, re.IGNORECASE)
        at = found.end() if found else None
        if at is not None and text[at:].lstrip("( \n").upper().startswith(("SELECT", "WITH")):
            self._checked(query, text[at:], start + at)
        else:
            self._checked(query, query.sql("bigquery"), start)
        self.tables[name] = self._prepared(query)

    def _prepared_function_body(self, fn: Any) -> exp.Expr:
        from idcbq.transpile.script_objects import inline_functions

        return inline_functions(fn.body.copy(), self.functions)

    # -- dynamic SQL ---------------------------------------------------------------------

    def _execute_immediate(self, text: str, start: int, depth: int) -> None:
        import sqlglot
        from sqlglot import exp
        from sqlglot.errors import ParseError

        from idcbq.params import ParamType

        if depth >= MAX_DEPTH:
            raise ValidationError(f"EXECUTE IMMEDIATE nests deeper than {MAX_DEPTH}")
        rest = text[_EXECUTE.match(text).end() :]
        try:
            probe = sqlglot.parse_one(f"SELECT {rest}", read="bigquery")
        except ParseError:
            probe = None
        simple = (
            isinstance(probe, exp.Select)
            and len(probe.expressions) == 1
            and not any(probe.args.get(k) for k in ("from_", "where", "joins", "limit"))
            and not isinstance(probe.expressions[0], exp.Alias)
        )
        if not simple:
            raise ValidationError(
                "EXECUTE IMMEDIATE takes one string expression here (INTO and USING are "
                "not supported)"
            )
        expr = probe.expressions[0]
        if isinstance(expr, exp.Literal) and expr.is_string:
            statement = expr.this
        else:
            statement = self._evaluate(expr, ParamType("STRING"), text, start)
        if not isinstance(statement, str) or not statement.strip():
            raise ValidationError("EXECUTE IMMEDIATE: the string is NULL or empty")
        spans = split_statements(statement)
        if len(spans) != 1:
            raise ValidationError(
                f"EXECUTE IMMEDIATE: the string holds {len(spans)} statements, not one"
            )
        inner = statement[spans[0][0] : spans[0][1]]
        nested = ScriptRunner(
            script=re.sub(r"[^\n]", " ", self.script[:start]) + inner,
            hooks=self.hooks,
            path=self.path,
            variables=self.variables,
            bound=self.bound,
            functions=self.functions,
            tables=self.tables,
            count=self.count,
        )
        try:
            nested._statement(inner, start, depth=depth + 1)
        except TemplateError as exc:
            exc.message = f"in the string EXECUTE IMMEDIATE runs: {exc.message}"
            exc.location = self._locate(start, text)
            exc.args = (str(exc),)
            raise
        self.last = nested.last or self.last


def run_script(sql: str, hooks: ScriptHooks, *, path: str = "<sql>") -> ScriptResult:
    """Check and run ``sql``'s statements in order; return its last query (see module doc)."""
    return ScriptRunner(script=sql, hooks=hooks, path=path).run()
