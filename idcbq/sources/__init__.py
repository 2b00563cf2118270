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
