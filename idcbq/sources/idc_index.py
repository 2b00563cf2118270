"""The idc-index tables as a source: IDC's real series-level index, offline.

The PyPI package ``idc-index-data`` ships the tables ``idc-index`` queries, as Parquet
with a BigQuery-style ``*_schema.json`` beside each. ``--source idc-index`` exposes
them under the names idc-index users write (``SELECT ... FROM index``):

=========================  ==================================  ===========================
table                      file in idc-index-data              one row per
=========================  ==================================  ===========================
``index``                  ``idc_index.parquet``               series (all of IDC)
``prior_versions_index``   ``prior_versions_index.parquet``    series version no longer current
``collections_index``      ``collections_index.parquet``       collection
``analysis_results_index`` ``analysis_results_index.parquet``  analysis result collection
``version_metadata_index`` ``version_metadata_index.parquet``  IDC release
=========================  ==================================  ===========================

The DuckDB engine reads an export root (``bigquery_export/<dataset>/<table>/*.parquet``),
so this module lays the package's files out as one, with symbolic links (no copy), in
the cache directory. The tables appear in ``idc_current`` and in the release the package
was built from (``idc_vNN``), and unqualified names resolve to them.

Example:
    >>> is_idc_index("idc-index"), is_idc_index("s3://idc-open-metadata")
    (True, False)
    >>> TABLE_FILES["index"]
    'idc_index'
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from idcbq.errors import SourceError
from idcbq.sources.releases import EXPORT_DIR, cache_dir

if TYPE_CHECKING:
    from idcbq.sources.schema import Field

#: The ``--source`` value that selects these tables.
IDC_INDEX_SOURCE = "idc-index"
#: Table name (as idc-index users write it) -> base name of the file in idc-index-data.
TABLE_FILES: dict[str, str] = {
    "index": "idc_index",
    "prior_versions_index": "prior_versions_index",
    "collections_index": "collections_index",
    "analysis_results_index": "analysis_results_index",
    "version_metadata_index": "version_metadata_index",
}
INDEX_TABLES = frozenset(TABLE_FILES)


def is_idc_index(source: object) -> bool:
    """Whether a ``--source`` value names the idc-index tables."""
    return isinstance(source, str) and source.strip().lower() in (IDC_INDEX_SOURCE, "idc_index")


@cache
def package_dir() -> Path:
    """Folder of the installed ``idc-index-data`` package (its Parquet and schema files)."""
    import importlib.util

    # find_spec, not import: the package's __init__ walks its file list (~0.1 s).
    spec = importlib.util.find_spec("idc_index_data")
    if spec is None or not spec.submodule_search_locations:
        raise SourceError(
            "--source idc-index needs the idc-index-data package", hint="pip install idc-index-data"
        )
    return Path(next(iter(spec.submodule_search_locations)))


@cache
def package_version() -> str:
    """Version of ``idc-index-data`` (its major number is the IDC release, e.g. 25.0.5)."""
    from importlib.metadata import version

    return version("idc-index-data")


@cache
def idc_version_number() -> int:
    """The IDC release the installed tables describe (max of ``version_metadata_index``)."""
    import pyarrow.parquet as pq

    # ParquetFile.read, not pq.read_table: that one imports pyarrow.dataset (and pandas).
    table = pq.ParquetFile(table_file("version_metadata_index")).read(columns=["idc_version"])
    return max(int(v) for v in table.column(0).to_pylist() if v is not None)


def table_file(table: str) -> Path:
    """The Parquet file of one table; SourceError if the package lacks it."""
    path = package_dir() / f"{TABLE_FILES[table]}.parquet"
    if not path.is_file():
        raise SourceError(
            f"{path}: missing from idc-index-data {package_version()}",
            hint="reinstall idc-index-data (pip install --force-reinstall idc-index-data)",
        )
    return path


def ensure_root(root: Path | None = None) -> Path:
    """An export root whose datasets hold links to the package's tables; built once.

    Layout: ``<root>/bigquery_export/{idc_current,idc_vNN}/<table>/<file>.parquet``.
    """
    root = root or cache_dir() / f"idc-index-{package_version()}"
    number = idc_version_number()
    for dataset in ("idc_current", f"idc_v{number}"):
        for table in TABLE_FILES:
            target = table_file(table)
            folder = root / EXPORT_DIR / dataset / table
            link = folder / target.name
            if link.exists() and os.path.realpath(link) == str(target.resolve()):
                continue
            folder.mkdir(parents=True, exist_ok=True)
            tmp = folder / f".{target.name}.{os.getpid()}.tmp"
            tmp.unlink(missing_ok=True)
            try:
                tmp.symlink_to(target)
            except OSError:  # no symlinks here: a hard link, else a copy
                try:
                    os.link(target, tmp)
                except OSError:
                    import shutil

                    shutil.copyfile(target, tmp)
            os.replace(tmp, link)
    return root


@cache
def _schema_json(table: str) -> dict[str, Any]:
    path = package_dir() / f"{TABLE_FILES[table]}_schema.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SourceError(f"{path}: cannot read the table schema ({exc})") from exc


def table_description(table: str) -> str:
    """The one-paragraph description idc-index-data gives a table."""
    return str(_schema_json(table).get("table_description") or "")


@cache
def table_fields(table: str) -> tuple[Field, ...]:
    """Columns of an idc-index table: names, types, modes, descriptions from ``*_schema.json``.

    The JSON lists RECORD columns without their sub-fields (``collections_index.sources``);
    those sub-fields are taken from the Parquet footer.

    Example:
        >>> [f.bigquery_type for f in table_fields("version_metadata_index")]
        ['INT64', 'STRING']
    """
    import dataclasses

    import pyarrow.parquet as pq

    from idcbq.sources.schema import field_from_json, fields_from_arrow

    if table not in TABLE_FILES:
        raise KeyError(table)
    declared = [field_from_json(c) for c in _schema_json(table)["columns"]]
    footer = {f.name: f for f in fields_from_arrow(pq.read_schema(table_file(table)))}
    out = []
    for fld in declared:
        if fld.is_record and not fld.fields and fld.name in footer:
            fld = dataclasses.replace(fld, fields=footer[fld.name].fields)
        out.append(fld)
    return tuple(out)


def schema_lookup(dataset: str, table: str) -> tuple[Field, ...] | None:
    """A validator schema lookup for the idc-index tables (None for anything else)."""
    if dataset.lower().endswith("_clinical") or table not in TABLE_FILES:
        return None
    return table_fields(table)
