"""The table rule: every table a query reads is an IDC table of the source's release.

Kept apart from :mod:`idcbq.validate.tables` (what a table reference is) so that the
unknown-name rule (:mod:`idcbq.validate.unknown`) can read those types without a circle.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from idcbq.errors import ValidationError
from idcbq.validate.statements import node_location
from idcbq.validate.tables import TableAllowList, TableRef, cte_in_scope
from idcbq.validate.unknown import unknown_table_hint

if TYPE_CHECKING:
    from sqlglot import exp

    from idcbq.templates.locations import LocationMap


def check_tables(
    tree: exp.Expression,
    sql: str,
    lmap: LocationMap,
    allow: TableAllowList,
    add: Callable[[ValidationError], None],
) -> dict[int, TableRef]:
    """Check every table reference; return {id(table node): TableRef} for real tables."""
    from sqlglot import exp

    refs: dict[int, TableRef] = {}
    for table in tree.find_all(exp.Table):
        if not isinstance(table.this, exp.Identifier):
            what = table.this.sql(dialect="bigquery") if table.this else "?"
            add(
                ValidationError(
                    f"table function {what[:60]} is not allowed; read IDC tables (or UNNEST arrays)",
                    location=node_location(table, sql, lmap),
                )
            )
            continue
        if cte_in_scope(table):
            continue
        ref = allow.resolve(table.catalog, table.db, table.name)
        shown = ".".join(p for p in (table.catalog, table.db, table.name) if p)
        if ref is None:
            add(
                ValidationError(
                    f"table {shown} is not allowed",
                    location=node_location(table, sql, lmap),
                    hint=f"{unknown_table_hint(table.name, allow)}; "
                    f"in templates use {{{{ table('dicom_all') }}}}",
                )
            )
            continue
        if allow.unknown_idc_table(ref):
            add(
                ValidationError(
                    f"table {shown} is not an IDC table",
                    location=node_location(table, sql, lmap),
                    hint=unknown_table_hint(table.name, allow),
                )
            )
            continue
        refs[id(table)] = ref
    return refs
