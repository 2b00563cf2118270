"""sqlglot's BigQuery and DuckDB dialects, reading ``%%`` in a format as one escaped ``%``.

sqlglot maps format elements (``%c``, ``%T``, ``%F``, ``%D``, ``%x``, ``%e``) between
dialects without knowing ``%%``: ``FORMAT_TIMESTAMP('%%T', ts)``, which prints ``%T`` in
GoogleSQL, came out as DuckDB's ``'%%H:%M:%S'`` and printed ``%H:03:04``. With ``%%`` an
element of its own on both sides, the text after it is left as written.

Example:
    >>> import sqlglot
    >>> tree = sqlglot.parse_one("SELECT FORMAT_TIMESTAMP('%%T %T', ts) FROM t", read=BigQueryFormats)
    >>> "'%%T %H:%M:%S'" in tree.sql(dialect=DuckDBFormats)
    True
"""

from __future__ import annotations

from typing import ClassVar

from sqlglot.dialects.bigquery import BigQuery
from sqlglot.dialects.duckdb import DuckDB

_ESCAPED_PERCENT = {"%%": "%%"}


class BigQueryFormats(BigQuery):
    """BigQuery, with ``%%`` kept whole in format strings."""

    TIME_MAPPING: ClassVar[dict[str, str]] = {**BigQuery.TIME_MAPPING, **_ESCAPED_PERCENT}


class DuckDBFormats(DuckDB):
    """DuckDB, with ``%%`` kept whole in format strings."""

    TIME_MAPPING: ClassVar[dict[str, str]] = {**DuckDB.TIME_MAPPING, **_ESCAPED_PERCENT}
