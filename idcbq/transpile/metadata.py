"""IDC metadata views and wildcard tables as plain BigQuery subqueries.

Two BigQuery features name tables that are not tables:

- ``<dataset>.INFORMATION_SCHEMA.TABLES`` / ``.COLUMNS`` of an IDC dataset become an
  ``UNNEST`` of literal rows built from the source's own schemas, with BigQuery's column
  names and types for those views (see :data:`TABLES_COLUMNS`, :data:`COLUMNS_COLUMNS`).
  Facts the source does not hold (creation time, DDL, collation) are NULL, never guessed.
- ``<dataset>.<prefix>*`` (a wildcard table) becomes a ``UNION ALL`` of the matching
  tables, each with its ``_TABLE_SUFFIX``. BigQuery takes the wildcard's schema from the
  most recently created matching table; a source has no creation times, so the schema is
  every matching table's columns by name (first seen, in table-name order), NULL where a
  table lacks one. A column whose type differs between two tables is refused when the
  query may read it (its name, or a ``*`` over the wildcard), as BigQuery refuses to read
  a field of one type as another; a conflicting column the query never names is left out
  (BigQuery reads only the columns a query references).
- ``idc_vNN`` and ``idc_current`` (a copy of the current ``idc_vNN``) also hold a
  ``<table>_view`` view per derived table, which the exports lack: INFORMATION_SCHEMA
  lists them (type ``VIEW``, the table's columns), and a wildcard that would match one
  is refused, as BigQuery refuses wildcards over views.

The result is BigQuery SQL, so it passes the same checks as any query and runs the same
way on every engine. Which datasets are IDC's is the caller's decision (``is_idc``).

Example:
    >>> import sqlglot
    >>> from idcbq.sources.schema import Field
    >>> tree = sqlglot.parse_one("SELECT _TABLE_SUFFIX AS s, a FROM idc_v1.`t_*`", read="bigquery")
    >>> out = expand_metadata(
    ...     tree, is_idc=lambda ds: True, tables_of=lambda ds: ["t_x", "t_y"],
    ...     fields_of=lambda ds, t: (Field("a", "INT64"),))
    >>> "UNION ALL" in out.sql("bigquery")
    True
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from idcbq.errors import ValidationError

if TYPE_CHECKING:
    from sqlglot import exp

    from idcbq.sources.schema import Field

#: Columns of INFORMATION_SCHEMA.TABLES that idcbq answers, with BigQuery's types.
TABLES_COLUMNS = (
    ("table_catalog", "STRING"),
    ("table_schema", "STRING"),
    ("table_name", "STRING"),
    ("table_type", "STRING"),
    ("is_insertable_into", "STRING"),
    ("is_typed", "STRING"),
    ("creation_time", "TIMESTAMP"),
    ("ddl", "STRING"),
    ("default_collation_name", "STRING"),
)
#: Columns of INFORMATION_SCHEMA.COLUMNS that idcbq answers, with BigQuery's types.
COLUMNS_COLUMNS = (
    ("table_catalog", "STRING"),
    ("table_schema", "STRING"),
    ("table_name", "STRING"),
    ("column_name", "STRING"),
    ("ordinal_position", "INT64"),
    ("is_nullable", "STRING"),
    ("data_type", "STRING"),
    ("is_generated", "STRING"),
    ("generation_expression", "STRING"),
    ("is_stored", "STRING"),
    ("is_hidden", "STRING"),
    ("is_updatable", "STRING"),
    ("is_system_defined", "STRING"),
    ("is_partitioning_column", "STRING"),
    ("clustering_ordinal_position", "INT64"),
    ("collation_name", "STRING"),
    ("column_default", "STRING"),
    ("rounding_mode", "STRING"),
)
VIEWS = {"TABLES": TABLES_COLUMNS, "COLUMNS": COLUMNS_COLUMNS}
#: Views of each ``idc_vNN`` dataset: one per derived table (not in the Parquet exports).
DERIVED_VIEWS = frozenset(
    f"{table}_view"
    for table in (
        "dicom_all",
        "dicom_metadata_curated",
        "dicom_metadata_curated_series_level",
        "segmentations",
        "measurement_groups",
        "qualitative_measurements",
        "quantitative_measurements",
    )
)
_MAIN_DATASET = re.compile(r"idc_v\d+|idc_current", re.IGNORECASE)
SUFFIX = "_TABLE_SUFFIX"

TablesOf = Callable[[str], Sequence[str]]
FieldsOf = Callable[[str, str], "Sequence[Field] | None"]


def mentions_metadata(sql: str) -> bool:
    """Cheap test: could ``sql`` name a metadata view or a wildcard table?"""
    return "information_schema" in sql.lower() or "*`" in sql or "*." in sql


def expand_metadata(
    tree: exp.Expr,
    *,
    is_idc: Callable[[str], bool],
    tables_of: TablesOf,
    fields_of: FieldsOf,
    data_project: str = "bigquery-public-data",
) -> exp.Expr:
    """Replace IDC metadata views and wildcard tables in ``tree`` (in place) by subqueries.

    Other INFORMATION_SCHEMA views, and either feature outside an IDC dataset, are left
    as written: the table allow-list refuses them.

    Raises:
        ValidationError: a wildcard that matches no table, or tables that cannot be
            unioned by column name.
    """
    from sqlglot import exp

    for table in list(tree.find_all(exp.Table)):
        name, db = table.name, table.db
        if not db or not is_idc(db) or (table.catalog and table.catalog != data_project):
            continue
        view = name.upper().removeprefix("INFORMATION_SCHEMA.")
        if name.upper().startswith("INFORMATION_SCHEMA.") and view in VIEWS:
            wanted = _named_tables(table)
            with_views = _with_release_views(tables_of)
            listed = with_views if wanted is None else _only(with_views, wanted)
            rows = _view_rows(view, db, listed, _view_fields(fields_of), data_project)
            _replace(table, _literal_rows(VIEWS[view], rows), view)
        elif name.endswith("*") and "*" not in name[:-1]:
            try:
                _refuse_views_matched(db, name[:-1])
                reads = _reads(tree, table)
                _replace(table, _wildcard(db, name[:-1], tables_of, fields_of, reads), None)
            except ValidationError as exc:
                exc.offset = _start(table)  # where the caller's text names the table
                raise
    return tree


def _named_tables(table: exp.Table) -> set[str] | None:
    """The table names a ``WHERE table_name = 'x'`` (or ``IN ('x', ...)``) conjunct keeps,
    when ``table`` is its SELECT's only source; else None (every table).

    The rows of other tables would be dropped by that WHERE anyway: leaving them out keeps
    the literal view (every column of every table of a dataset) small enough to analyze.
    """
    from sqlglot import exp

    select = table.parent.parent if isinstance(table.parent, exp.From) else None
    if not isinstance(select, exp.Select) or select.args.get("joins"):
        return None
    where = select.args.get("where")
    if where is None:
        return None
    alias = (table.alias or "").lower()
    names: set[str] | None = None
    for term in where.this.flatten() if isinstance(where.this, exp.And) else [where.this]:
        found = _table_name_literals(term, alias)
        if found is not None:
            names = found if names is None else names & found
    return names


def _table_name_literals(term: exp.Expr, alias: str) -> set[str] | None:
    from sqlglot import exp

    def is_name(node: exp.Expr) -> bool:
        return (
            isinstance(node, exp.Column)
            and node.name.lower() == "table_name"
            and (not node.table or node.table.lower() == alias)
        )

    def strings(nodes: list[exp.Expr]) -> set[str] | None:
        if all(isinstance(n, exp.Literal) and n.is_string for n in nodes):
            return {n.this for n in nodes}
        return None

    if isinstance(term, exp.EQ):
        if is_name(term.this):
            return strings([term.expression])
        if is_name(term.expression):
            return strings([term.this])
    if isinstance(term, exp.In) and is_name(term.this) and not term.args.get("query"):
        return strings(list(term.expressions)) if term.expressions else None
    return None


def _only(tables_of: TablesOf, wanted: set[str]) -> TablesOf:
    return lambda dataset: [t for t in tables_of(dataset) if t in wanted]


def _start(node: exp.Expr) -> int | None:
    starts = [n.meta_get("start") for n in node.walk() if n.meta_get("start") is not None]
    return min(starts) if starts else None


def _replace(table: exp.Table, query: exp.Query, default_alias: str | None) -> None:
    from sqlglot import exp

    alias = table.alias
    if not alias or "." in alias:  # sqlglot's implicit alias of a dotted name
        alias = default_alias or (table.name.rstrip("*") or "wildcard")
    table.replace(exp.Subquery(this=query, alias=exp.TableAlias(this=exp.to_identifier(alias))))


def _view_rows(view, db, tables_of, fields_of, project) -> list[tuple]:
    rows = []
    for name in sorted(tables_of(db)):
        table_type = "VIEW" if name in DERIVED_VIEWS and _holds_views(db) else "BASE TABLE"
        if view == "TABLES":
            rows.append((project, db, name, table_type, "NO", "NO", None, None, None))
            continue
        for pos, fld in enumerate(fields_of(db, name) or (), start=1):
            nullable = "YES" if fld.mode == "NULLABLE" else "NO"
            rows.append(
                (project, db, name, fld.name, pos, nullable, fld.bigquery_type, "NEVER", None,
                 None, "NO", None, "NO", "NO", None, None, None, None)
            )  # fmt: skip
    return rows


def _literal_rows(columns: Sequence[tuple[str, str]], rows: list[tuple]) -> exp.Query:
    """``SELECT * FROM UNNEST([STRUCT(...), ...])`` with every column typed (NULLs too)."""
    import sqlglot
    from sqlglot import exp

    def struct(row: Sequence[object]) -> exp.Expr:
        items = [exp.alias_(_typed(v, t), c) for (c, t), v in zip(columns, row, strict=True)]
        return exp.Struct(expressions=items)

    if not rows:  # an empty view still has its columns
        nulls = ", ".join(f"CAST(NULL AS {t}) AS {c}" for c, t in columns)
        return sqlglot.parse_one(f"SELECT {nulls} FROM UNNEST([1]) WHERE FALSE", read="bigquery")
    array = exp.Array(expressions=[struct(r) for r in rows])
    return exp.select("*").from_(exp.Unnest(expressions=[array]))


def _typed(value: object, kind: str) -> exp.Expr:
    from sqlglot import exp

    if value is None:  # a NULL literal needs its type; strings and integers carry theirs
        return exp.cast(exp.null(), exp.DataType.build(kind, dialect="bigquery"))
    return exp.convert(value)


def _holds_views(db: str) -> bool:
    """``idc_vNN`` and ``idc_current`` (a copy of its tables, views recreated as views)."""
    return _MAIN_DATASET.fullmatch(db) is not None


def _with_release_views(tables_of: TablesOf) -> TablesOf:
    """The dataset's tables and the ``<table>_view`` views its release publishes beside
    them (exports hold no views, so the source cannot list them)."""

    def listed(db: str) -> list[str]:
        tables = list(tables_of(db))
        if _holds_views(db):
            tables += [f"{t}_view" for t in tables if f"{t}_view" in DERIVED_VIEWS]
        return tables

    return listed


def _view_fields(fields_of: FieldsOf) -> FieldsOf:
    """A release view's columns are its table's (``dicom_all_view`` is ``dicom_all``'s query)."""

    def fields(db: str, name: str) -> Sequence[Field] | None:
        if name in DERIVED_VIEWS and _holds_views(db):
            return fields_of(db, name.removesuffix("_view"))
        return fields_of(db, name)

    return fields


def _refuse_views_matched(db: str, prefix: str) -> None:
    """Refuse a wildcard over a main IDC dataset that would match one of its views.

    IDC's release publishes a ``<table>_view`` beside each derived table (ETL
    ``publish_bq_derived_tables``) in ``idc_vNN`` and ``idc_current``, and BigQuery fails
    a wildcard table that matches a view.
    """
    if not _holds_views(db):
        return
    matched = sorted(v for v in DERIVED_VIEWS if v.startswith(prefix.lower()))
    if matched:
        raise ValidationError(
            f"wildcard table {db}.{prefix}*: it matches the view {db}.{matched[0]}, and "
            "BigQuery's wildcard tables cannot match views",
            hint="name the tables one by one (UNION ALL)",
        )


def _reads(tree: exp.Expr, table: exp.Table) -> Callable[[str], bool]:
    """Whether the query may read a column of the wildcard ``table`` by this name.

    Over-approximates on purpose (a refusal, never a wrong answer): any column named so
    that is unqualified or qualified by the wildcard's alias, and every column when a
    ``*`` (or ``alias.*``) could expand over the wildcard or the alias names the whole row.
    """
    from sqlglot import exp

    alias = (table.alias or "").lower()
    names: set[str] = set()
    for col in tree.find_all(exp.Column):
        if isinstance(col.this, exp.Star):
            if not col.table or col.table.lower() == alias:
                return lambda _name: True
        elif not col.table or col.table.lower() == alias:
            names.add(col.name.lower())
    if alias and alias in names:  # the row itself (TO_JSON_STRING(w), w IS NULL, ...)
        return lambda _name: True
    select = table.find_ancestor(exp.Select)
    if select is not None and any(isinstance(e, exp.Star) for e in select.expressions):
        return lambda _name: True
    return lambda name: name.lower() in names


def _wildcard(
    db: str,
    prefix: str,
    tables_of: TablesOf,
    fields_of: FieldsOf,
    reads: Callable[[str], bool] = lambda _name: True,
) -> exp.Query:
    from sqlglot import exp

    matching = sorted(t for t in tables_of(db) if t.startswith(prefix))
    if not matching:
        raise ValidationError(f"wildcard table {db}.{prefix}* matches no table of {db}")
    columns: dict[str, str] = {}
    owner: dict[str, str] = {}
    present: dict[str, set[str]] = {}
    unread: set[str] = set()  # conflicting columns the query never names: left out
    for name in matching:
        fields = fields_of(db, name)
        if fields is None:
            raise ValidationError(f"wildcard table {db}.{prefix}*: no schema for {db}.{name}")
        present[name] = set()
        for fld in fields:
            if fld.name == SUFFIX:
                raise ValidationError(f"{db}.{name} has a column named {SUFFIX}")
            kind = fld.bigquery_type
            if fld.name in unread:
                continue
            if fld.name in columns and columns[fld.name] != kind and not reads(fld.name):
                unread.add(fld.name)
                continue
            if fld.name in columns and columns[fld.name] != kind:
                raise ValidationError(
                    f"wildcard table {db}.{prefix}* cannot union {db}.{owner[fld.name]} and "
                    f"{db}.{name}: column {fld.name} is {columns[fld.name]} in one and {kind} "
                    "in the other",
                    hint="name the tables one by one and CAST the column",
                )
            columns.setdefault(fld.name, kind)
            owner.setdefault(fld.name, name)
            present[name].add(fld.name)
    for gone in unread:
        del columns[gone]
    branches = []
    for name in matching:
        items = [
            exp.column(c, quoted=True)
            if c in present[name]
            else exp.alias_(exp.cast(exp.null(), exp.DataType.build(t, dialect="bigquery")), c)
            for c, t in columns.items()
        ]
        items.append(exp.alias_(exp.Literal.string(name[len(prefix) :]), SUFFIX))
        source = exp.Table(this=exp.to_identifier(name), db=exp.to_identifier(db))
        branches.append(exp.select(*items).from_(source))
    query = branches[0]
    for branch in branches[1:]:
        query = exp.union(query, branch, distinct=False)
    return query


def hide_suffix(tree: exp.Expr) -> exp.Expr:
    """``SELECT *`` over a wildcard table: ``_TABLE_SUFFIX`` is a pseudo column, not in ``*``."""
    from sqlglot import exp

    for select in tree.find_all(exp.Select):
        sources = [select.args.get("from_"), *(select.args.get("joins") or [])]
        wild = [
            s.this
            for s in sources
            if s is not None and isinstance(s.this, exp.Subquery) and _is_wildcard(s.this)
        ]
        if not wild:
            continue
        aliases = {w.alias for w in wild}
        for i, item in enumerate(select.expressions):
            star = isinstance(item, exp.Star) and len(sources) == 1
            qualified = isinstance(item, exp.Column) and isinstance(item.this, exp.Star)
            if (star or (qualified and item.table in aliases)) and not item.args.get("except"):
                ex = exp.Star(**{"except": [exp.column(SUFFIX)]})
                if qualified:
                    ex = exp.Column(this=ex, table=exp.to_identifier(item.table))
                select.expressions[i] = ex
                ex.parent = select
    return tree


def _is_wildcard(sub: exp.Subquery) -> bool:
    from sqlglot import exp

    first = sub.this
    while isinstance(first, exp.Union):
        first = first.this
    return isinstance(first, exp.Select) and any(e.alias == SUFFIX for e in first.expressions)
