"""DuckDB engine over IDC Parquet exports (local, S3, GCS).

- :mod:`.engine`: :class:`DuckDBEngine`, views named like BigQuery's tables, execution.
- :mod:`.statements`: the tables a statement names, parameter binding, results' types.
- :mod:`.pruning`: which files of a remote export a query can skip.
- :mod:`.idc_index`: the engine for ``--source idc-index`` (registered on import here).
- The DuckDB connection to a local, ``s3://`` or ``gs://`` root, export listing and footer
  checks live in ``idcbq/sources/`` (usable without an engine).
"""

from __future__ import annotations

import idcbq.engines.duckdb.idc_index  # noqa: F401  (registers --source idc-index)
from idcbq.engines.duckdb.engine import DuckDBEngine
from idcbq.sources.connection import connect_for, httpfs_extension_path

__all__ = ["DuckDBEngine", "connect_for", "httpfs_extension_path"]
