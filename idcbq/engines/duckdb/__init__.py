"""DuckDB engine over IDC Parquet exports (local, S3, GCS).

- :mod:`.connection`: a DuckDB connection able to read a local, ``s3://`` or ``gs://`` root.
- :mod:`.engine`: :class:`DuckDBEngine`, views named like BigQuery's tables, execution.
- Export listing and footer checks live in :mod:`idcbq.sources.exports` (usable without an engine).
"""

from __future__ import annotations

from idcbq.engines.duckdb.engine import DuckDBEngine
from idcbq.sources.connection import connect_for, httpfs_extension_path

__all__ = ["DuckDBEngine", "connect_for", "httpfs_extension_path"]
