"""Where IDC's tables come from: releases, exports, footers, the sample, idc-index, mirrors.

The floor below the engines: nothing here imports an engine, the API or the CLI.

- :mod:`.releases`: IDC versions (``v25``, ``current``), BigQuery table names, the cache
  directory.
- :mod:`.schema`: IDC's reference table schemas (BigQuery fields, their Arrow types).
- :mod:`.exports`: an export root, local or remote (``s3://``, ``gs://``): its datasets,
  tables, Parquet files and their schemas; :mod:`.connection` opens DuckDB on one.
- :mod:`.footers`, :mod:`.thrift`: Parquet footers of remote exports, their on-disk cache
  and row-group statistics.
- :mod:`.idc_index`: the ``idc-index`` package's tables as a source.
- :mod:`.sample`: the embedded sample export and its builder.
- :mod:`.mirror`: local copies of a remote export (``idcbq mirror``).
"""

from __future__ import annotations

from typing import Any

#: Names this package held when it was one module, ``idcbq/sources.py`` (notebooks import
#: ``ensure_sample`` from it): still importable from here, loaded on first use.
_MOVED = {
    "IDC_DATA_PROJECT": "idcbq.sources.releases",
    "IDC_METADATA_EXPORT": "idcbq.sources.releases",
    "SAMPLE_IDC_VERSION": "idcbq.sources.releases",
    "EXPORT_DIR": "idcbq.sources.releases",
    "IdcVersion": "idcbq.sources.releases",
    "cache_dir": "idcbq.sources.releases",
    "table_fqn": "idcbq.sources.releases",
    "default_sample_root": "idcbq.sources.sample.paths",
    "sample_code_hash": "idcbq.sources.sample.paths",
    "ensure_sample": "idcbq.sources.sample",
}


def __getattr__(name: str) -> Any:
    if name in _MOVED:
        import importlib

        return getattr(importlib.import_module(_MOVED[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
