"""The client's side of a script (:mod:`idcbq.validate.script`) and of metadata views.

``prepare_script`` runs a script's statements through the client's own checks and
engine; its last query comes back prepared like any ad-hoc query. On BigQuery the
cost guard sees the whole script: the bytes of every statement that runs plus the
last query are summed, and the sum must stay under ``--max-bytes-billed``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from sqlglot import exp

    from idcbq.engines.base import PreparedQuery
    from idcbq.params import BoundParameter, ParamType
    from idcbq.templates.locations import LocationMap


class Client(Protocol):
    """What is used here of :class:`idcbq.api.Client` (the API sits above; never imported)."""

    engine: Any

    def _validate(self, sql: str, params: tuple, lmap: Any) -> str | None: ...

    def _checked(self, prepared: PreparedQuery, validated_by: str | None) -> PreparedQuery: ...

    def _schema(self, dataset: str, table: str) -> Any: ...


def expand_tree(client: Client, tree: exp.Expr) -> exp.Expr:
    """IDC ``INFORMATION_SCHEMA.TABLES/COLUMNS`` and wildcard tables as subqueries."""
    from idcbq.transpile.metadata import expand_metadata, hide_suffix
    from idcbq.validate.tables import TableAllowList

    allow = TableAllowList(
        data_project=client.engine.data_project, idc_version=client.engine.idc_version
    )

    def is_idc(dataset: str) -> bool:
        return allow.resolve("", dataset, "t") is not None

    def tables_of(dataset: str) -> list[str]:
        try:
            return list(client.engine.list_tables(dataset))
        except Exception:  # a dataset the source lacks has no tables
            return []

    tree = expand_metadata(
        tree,
        is_idc=is_idc,
        tables_of=tables_of,
        fields_of=client._schema,
        data_project=client.engine.data_project,
    )
    return hide_suffix(tree)


def expand_sql(client: Client, sql: str) -> str:
    """``sql`` with metadata views and wildcard tables expanded (unchanged if none)."""
    import sqlglot
    from sqlglot.errors import SqlglotError

    from idcbq.errors import ValidationError

    try:
        tree = sqlglot.parse_one(sql, read="bigquery")
    except SqlglotError:
        return sql  # the validator reports the syntax error with its location
    before = tree.copy()
    try:
        tree = expand_tree(client, tree)
    except ValidationError as exc:
        from idcbq.templates.locations import LocationMap

        if exc.location is None:
            offset = getattr(exc, "offset", None) or 0
            exc.location = LocationMap.identity("<sql>", sql).locate_offset(sql, offset)
            exc.args = (str(exc),)
        raise
    return sql if tree == before else tree.sql("bigquery")


class _Hooks:
    def __init__(self, client: Client, params: Mapping[str, Any], types: Mapping[str, str], *,
                 from_text: bool):  # fmt: skip
        self.client = client
        self.params = dict(params)
        self.types = dict(types)
        self.from_text = from_text
        self.scanned = 0
        self.statements = 0

    def check(self, sql: str, params: tuple, lmap: LocationMap) -> str | None:
        return self.client._validate(sql, params, lmap)

    def evaluate(self, sql: str, params: tuple, validated_by: str | None) -> Any:
        engine = self.client.engine
        prepared = self.client._checked(engine.prepare(sql, params), validated_by)
        self.account(prepared)
        table = engine.execute(prepared)
        if table.num_rows != 1:
            from idcbq.errors import QueryError

            raise QueryError(f"a script's value must be one row, got {table.num_rows}")
        return table.column(0).to_pylist()[0]

    def account(self, prepared: PreparedQuery) -> None:
        """Add a statement's bytes to the script's total; refuse above the cost cap."""
        guard = getattr(self.client.engine, "guard", None)
        if guard is None:
            return
        self.statements += 1
        scanned = self.client.engine.estimate_bytes(prepared)
        self.scanned += scanned or 0
        guard.check(self.scanned, template=f"script (first {self.statements} statement(s))")

    def user_param(self, name: str, ptype: ParamType | None) -> BoundParameter | None:
        from idcbq.params import BoundParameter, ParamType, infer_type
        from idcbq.templates.header import coerce_yaml_value

        if name not in self.params:
            return None
        value = self.params[name]
        if name in self.types:
            ptype = ParamType.parse(self.types[name])
        elif ptype is None:
            ptype = ParamType.parse("STRING") if self.from_text else infer_type(value, name=name)
        if self.from_text and isinstance(value, str):
            value = ptype.parse_text(value, name=name)
        else:
            value = coerce_yaml_value(ptype, value, name=name)
        return BoundParameter(name=name, type=ptype, value=value)

    def expand(self, tree: exp.Expr) -> exp.Expr:
        return expand_tree(self.client, tree)


def prepare_script(
    client: Client,
    sql: str,
    params: Mapping[str, Any],
    types: Mapping[str, str],
    *,
    from_text: bool = False,
) -> PreparedQuery:
    """Run a script's statements up to its last query; return that query prepared."""
    from idcbq.validate.script import run_script

    hooks = _Hooks(client, params, types, from_text=from_text)
    result = run_script(sql, hooks)
    prepared = client._checked(
        client.engine.prepare(result.sql, result.params), result.validated_by
    )
    hooks.account(prepared)
    return prepared
