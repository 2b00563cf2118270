"""DuckDB over the idc-index tables (``--source idc-index``): IDC's series-level index.

The same engine as any export root, with three differences: the root is the linked
layout :func:`idcbq.sources.idc_index.ensure_root` builds from the installed
``idc-index-data``; unqualified table names are idc-index's (``index``,
``prior_versions_index``, ...), not ``dicom_all``; and column types come from the
``*_schema.json`` files the package ships.

Example:
    >>> engine = IdcIndexEngine.from_options(source="idc-index")          # doctest: +SKIP
    >>> engine.sql("SELECT COUNT(*) AS n FROM index").to_pylist()         # doctest: +SKIP
    [{'n': 1044191}]
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, ClassVar

from idcbq.engines.duckdb.engine import SOURCE_ENGINES, DuckDBEngine
from idcbq.errors import SourceError
from idcbq.sources.idc_index import (
    IDC_INDEX_SOURCE,
    INDEX_TABLES,
    ensure_root,
    idc_version_number,
    is_idc_index,
)

if TYPE_CHECKING:
    from idcbq.engines.base import EngineOptions
    from idcbq.sources.schema import Field


class IdcIndexEngine(DuckDBEngine):
    """DuckDB on the idc-index tables; ``source`` reads ``idc-index``."""

    #: Tables a query may name without a dataset (the validator's allow-list).
    bare_tables: ClassVar[frozenset[str]] = INDEX_TABLES

    def __init__(
        self,
        options: EngineOptions | None = None,
        *,
        source: str | os.PathLike[str] | None = None,
        **kwargs: Any,
    ):
        root = ensure_root()
        super().__init__(options, source=root, **kwargs)
        self.root = str(root)
        self.source = IDC_INDEX_SOURCE

    def _check_pinned_version(self) -> None:
        version = self.idc_version
        if version.is_current or self.export.has_table(version.dataset, "index"):
            return
        number = idc_version_number()
        self.close()
        raise SourceError(
            f"the idc-index tables describe IDC v{number} only, not {version.label}",
            hint=f"use --idc-version v{number} or current; for older releases read "
            "prior_versions_index (series with their min/max IDC version)",
        )

    def table_fields(self, dataset: str, table: str) -> tuple[Field, ...] | None:
        """Columns from the package's ``*_schema.json`` (nested fields from the footer)."""
        from idcbq.sources.idc_index import table_fields

        if table not in INDEX_TABLES or not self.export.has_table(dataset, table):
            return None
        return table_fields(table)


SOURCE_ENGINES.append((is_idc_index, IdcIndexEngine))
