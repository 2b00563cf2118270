"""Series rows for idc-index results that name series but not where their files are.

A result from ``--source idc-index`` that has only keys (``SeriesInstanceUID``,
``StudyInstanceUID``, ``PatientID`` or ``crdc_series_uuid``) is looked up in idc-index's
own ``index`` table, as instance-level results are in ``dicom_all``: one row per series
with its ``crdc_series_uuid`` and buckets, the keys bound as an ``ARRAY<STRING>``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from idcbq.manifest.keys import describe, key_columns, key_values

if TYPE_CHECKING:
    import pyarrow as pa

#: Keys a series-level result can be looked up by, most specific first.
INDEX_KEYS = ("crdc_series_uuid", "SeriesInstanceUID", "StudyInstanceUID", "PatientID")
#: Columns of ``index`` a series manifest row needs.
INDEX_COLUMNS = (
    "collection_id", "PatientID", "StudyInstanceUID", "SeriesInstanceUID", "Modality",
    "crdc_series_uuid", "aws_bucket", "license_short_name", "instanceCount", "series_size_MB",
)  # fmt: skip
#: What idc-index knows of a series' files without listing its bucket prefix.
SIZE_COLUMNS = ("instanceCount", "series_size_MB")


def size_fields() -> pa.Schema:
    """Schema of :data:`SIZE_COLUMNS`, kept on series-level manifest rows (dry runs use them)."""
    import pyarrow as pa

    return pa.schema([("instanceCount", pa.int64()), ("series_size_MB", pa.float64())])


KEYS_PER_QUERY = 20_000


def index_key(names: list[str]) -> str | None:
    """The key to look series up by (a column is it or ends in ``_<key>``), or None."""
    found = key_columns(names, INDEX_KEYS)
    return found[0] if found else None


def lookup_series(
    batches: Iterator[pa.RecordBatch], key: str, engine: Any = None,
    columns: list[str] | None = None,
) -> Iterator[pa.RecordBatch]:  # fmt: skip
    """Rows of idc-index's ``index`` for the ``key`` values in ``columns`` (default: ``key``)."""
    from idcbq.params import BoundParameter

    columns = columns or [key]
    ordered = key_values(batches, columns)
    if not ordered:
        return
    own = engine is None or getattr(engine, "source", None) != "idc-index"
    if own:
        from idcbq.engines import get_engine

        engine = get_engine("duckdb", source="idc-index")
    try:
        # `key` comes from the fixed INDEX_KEYS list, never from user text.
        sql = (
            f"SELECT {', '.join(INDEX_COLUMNS)} FROM index WHERE {key} IN UNNEST(@keys) "
            "ORDER BY collection_id, PatientID, StudyInstanceUID, SeriesInstanceUID"
        )
        found = 0
        for start in range(0, len(ordered), KEYS_PER_QUERY):
            chunk = ordered[start : start + KEYS_PER_QUERY]
            prepared = engine.prepare(sql, [BoundParameter.of("keys", "ARRAY<STRING>", chunk)])
            table = engine.execute(prepared)
            found += table.num_rows
            yield from table.to_batches(max_chunksize=65_536)
        if not found:
            from idcbq.manifest.no_files import no_files, source_label

            raise no_files(len(ordered), describe(key, columns), source_label(engine))
    finally:
        if own:
            engine.close()
