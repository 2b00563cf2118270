"""sqlglot's BigQuery and DuckDB dialects, reading the text of a query as GoogleSQL does.

- ``%%`` in a format is one escaped ``%``. sqlglot maps format elements (``%c``, ``%T``,
  ``%F``, ``%D``, ``%x``, ``%e``) between dialects without knowing it:
  ``FORMAT_TIMESTAMP('%%T', ts)``, which prints ``%T`` in GoogleSQL, came out as DuckDB's
  ``'%%H:%M:%S'`` and printed ``%H:03:04``. With ``%%`` an element of its own on both
  sides, the text after it is left as written.
- ``%F``, ``%E6S``, ``%e`` and ``%c`` stay as written (sqlglot spelled them
  ``%Y-%m-%d``, ``%S.%f``, ``%-d`` and ``... %Y``, which GoogleSQL treats otherwise:
  ``%F`` is not read, ``%E6S`` reads no fraction too, ``%-d`` is unpadded, ``%c``'s year
  has 4 digits), for :mod:`idcbq.transpile.formats`.
- An empty format stays empty (sqlglot's format mapping returned None, spelled
  ``'None'``: ``FORMAT_DATE('', d)`` printed ``None``).
- A JSONPath literal must start with ``$`` (GoogleSQL raises otherwise); sqlglot read
  ``'a'`` as ``$.a``. Such a path stays a string literal here, for
  :mod:`idcbq.transpile.json_values` to refuse.

Example:
    >>> import sqlglot
    >>> tree = sqlglot.parse_one("SELECT FORMAT_TIMESTAMP('%%T %T', ts) FROM t", read=GoogleSQLText)
    >>> "'%%T %H:%M:%S'" in tree.sql(dialect=DuckDBText)
    True
"""

from __future__ import annotations

from typing import ClassVar

from sqlglot import exp
from sqlglot.dialects.bigquery import BigQuery
from sqlglot.dialects.duckdb import DuckDB

_ESCAPED_PERCENT = {"%%": "%%"}
_KEPT = {"%F": "%F", "%E6S": "%E6S", "%e": "%e", "%c": "%c"}


class GoogleSQLText(BigQuery):
    """BigQuery, with ``%%`` kept whole in formats and JSONPaths read as GoogleSQL does."""

    TIME_MAPPING: ClassVar[dict[str, str]] = {
        **BigQuery.TIME_MAPPING,
        **_ESCAPED_PERCENT,
        **_KEPT,
    }

    @classmethod
    def format_time(cls, expression: str | exp.Expr | None) -> exp.Expr | None:
        if isinstance(expression, exp.Literal) and expression.is_string and not expression.this:
            return exp.Literal.string("")
        return super().format_time(expression)

    def to_json_path(self, path: exp.Expr | None) -> exp.Expr | None:
        if isinstance(path, exp.Literal) and path.is_string and not path.name.startswith("$"):
            return path  # not a GoogleSQL JSONPath: left as text, refused later
        return super().to_json_path(path)


class DuckDBText(DuckDB):
    """DuckDB, with ``%%`` kept whole in format strings."""

    TIME_MAPPING: ClassVar[dict[str, str]] = {**DuckDB.TIME_MAPPING, **_ESCAPED_PERCENT}
