"""Engines behind one interface; each lives in its own module and imports lazily."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from idcbq.errors import UsageError

if TYPE_CHECKING:
    from idcbq.engines.base import Engine

ENGINES = ("duckdb", "bigquery", "googlesql")


def get_engine(name: str, **options: Any) -> Engine:
    """Create an engine by name (``duckdb``, ``bigquery``, ``googlesql``) with its options."""
    if name == "duckdb":
        from idcbq.engines.duckdb import DuckDBEngine

        return DuckDBEngine.from_options(**options)
    if name == "bigquery":
        from idcbq.engines.bigquery import BigQueryEngine

        return BigQueryEngine.from_options(**options)
    if name == "googlesql":
        from idcbq.engines.googlesql.runtime import require_zetasql

        require_zetasql()
        from idcbq.engines.googlesql import GoogleSQLEngine

        return GoogleSQLEngine.from_options(**options)
    raise UsageError(f"unknown engine {name!r}", hint=f"use one of {', '.join(ENGINES)}")
