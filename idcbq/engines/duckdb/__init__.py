"""DuckDB engine over IDC Parquet exports (local, S3, GCS).

- :mod:`.connection`: a DuckDB connection able to read a local, ``s3://`` or ``gs://`` root.
- :mod:`.engine`: :class:`DuckDBEngine`, views named like BigQuery's tables, execution.
- Export listing and footer checks live in :mod:`idcbq.exports` (usable without an engine).
"""

from __future__ import annotations

from idcbq.engines.duckdb.connection import connect_for, httpfs_extension_path
from idcbq.engines.duckdb.engine import DuckDBEngine

__all__ = ["DuckDBEngine", "connect_for", "httpfs_extension_path"]
