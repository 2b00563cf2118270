"""GoogleSQL engine: BigQuery SQL on ZetaSQL's reference implementation (``zetasql`` + wasmtime).

- :mod:`.runtime`: the WebAssembly module, started once per process, compiled-module cache.
- :mod:`.analysis`: table paths, catalogs, language options, located analysis errors.
- :mod:`.values`: Arrow <-> ZetaSQL values.
- :mod:`.engine`: :class:`GoogleSQLEngine`.
"""

from __future__ import annotations

from idcbq.engines.googlesql.engine import GoogleSQLEngine

__all__ = ["GoogleSQLEngine"]
