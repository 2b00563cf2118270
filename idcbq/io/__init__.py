"""Reading and writing result tables and manifests' files on the local file system.

- :mod:`.formats`: the table formats (Parquet, CSV, JSON Lines, JSON), ``write_table`` and
  ``read_table``.
- :mod:`.readback`: reading a table file back with its types; :mod:`.readback_known`
  streams one whose schema was recorded; :mod:`.schemafile` records and checks that
  ``<file>.schema.json``; :mod:`.scan` holds the byte-level scans they share.
- :mod:`.localfs`: local file-system errors as one-line messages, output paths.
- :mod:`.settings`: the model of the config file's settings (:mod:`idcbq.config` reads
  the file; the model loads pydantic, so only when something needs checking).
"""
