"""Turn query results into manifest rows: normalize instance-level results, expand the rest.

A result that already names each instance's object (crdc uuids, bucket, size, hash)
is converted batch by batch. A result with only series/study/patient keys is expanded
to instances by asking the engine it came from for the matching ``dicom_all`` rows,
with the keys bound as an ``ARRAY<STRING>`` parameter (never pasted into SQL).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from idcbq.errors import ManifestError
from idcbq.manifest.keys import describe, key_columns, key_values
from idcbq.manifest.model import (
    AWS_TO_GCS,
    DICOM_ALL_COLUMNS,
    GCS_TO_AWS,
    MANIFEST_COLUMNS,
    check_provider,
    conform_batch,
    manifest_schema,
    map_strings,
    pair_buckets,
)
from idcbq.manifest.no_files import no_files, source_label

if TYPE_CHECKING:
    import pyarrow as pa

    from idcbq.engines.base import Engine

#: Keys a result can be expanded by, most specific first.
EXPANSION_KEYS = (
    "crdc_instance_uuid",
    "SOPInstanceUID",
    "crdc_series_uuid",
    "SeriesInstanceUID",
    "StudyInstanceUID",
    "PatientID",
)
#: Keys bound per engine query (keeps each parameter array a reasonable size).
KEYS_PER_QUERY = 20_000

# Column aliases: manifest name -> names accepted in inputs, preferred first.
_ALIASES = {
    "size": ("size", "instance_size"),
    "md5": ("md5", "instance_hash"),
    "license": ("license", "license_short_name"),
}


def as_batches(source: Any, batch_size: int = 65_536) -> tuple[pa.Schema, Iterator[pa.RecordBatch]]:
    """Schema and record batches of a QueryResult, Arrow table/batch reader or pandas frame."""
    import pyarrow as pa

    if hasattr(source, "to_arrow") and not isinstance(source, pa.Table):
        source = source.to_arrow()
    if isinstance(source, pa.RecordBatchReader):
        return source.schema, iter(source)
    if isinstance(source, pa.RecordBatch):
        source = pa.Table.from_batches([source])
    if not isinstance(source, pa.Table):
        try:
            source = pa.Table.from_pandas(source, preserve_index=False)
        except Exception as exc:
            raise ManifestError(f"cannot make a manifest from {type(source).__name__}") from exc
    return source.schema, iter(source.to_batches(max_chunksize=batch_size))


def is_complete(names: Iterable[str]) -> bool:
    """Whether rows with these columns already say where each object is and how to check it."""
    have = set(names)
    located = bool(have & {"gcs_bucket", "aws_bucket", "gcs_url", "aws_url", "url"})
    sized = bool(have & set(_ALIASES["size"])) and bool(have & set(_ALIASES["md5"]))
    return located and sized and {"crdc_series_uuid", "crdc_instance_uuid"} <= have


def manifest_batches(
    source: Any,
    *,
    provider: str = "gcs",
    engine: Engine | None = None,
    series_level: bool | None = None,
    dicomweb_url: str | None = None,
    origin: Mapping[str, Any] | None = None,
) -> tuple[pa.Schema, Iterator[pa.RecordBatch]]:
    """Manifest schema and a stream of manifest batches (one row per instance) for ``source``.

    Rows from the idc-index tables (``--source idc-index``, or ``series_level=True``)
    have no instances to expand to: each becomes one series-level row (``url`` is the
    ``<bucket>/<crdc_series_uuid>/*`` prefix; the downloader lists it).
    ``dicomweb_url`` is the base of the DICOMweb URL columns (default: IDC's public proxy).
    ``origin`` is the provenance of the rows (engine, source, idc_version): without an
    ``engine``, keys are expanded against that source. Rows whose keys match no file
    there raise a :class:`~idcbq.errors.ManifestError` naming the source and the column.
    """
    from idcbq.manifest.dicomweb_urls import (
        add_dicomweb_urls,
        series_located,
        series_rows,
        series_urls,
    )

    check_provider(provider)
    schema, batches = as_batches(source)
    names = schema.names
    extras = _passthrough_fields(schema)
    if is_complete(names):
        out = manifest_schema(extras)
        return out, (
            add_dicomweb_urls(
                series_urls(normalize_batch(b, provider, out), provider), dicomweb_url
            )
            for b in batches
        )
    if series_level is None:
        series_level = "idc-index" in (
            getattr(source, "source", None),
            getattr(engine, "source", None),
        )
    if series_level:
        if not series_located(names):
            from idcbq.manifest.index_rows import INDEX_KEYS, lookup_series, size_fields

            by = key_columns(names, INDEX_KEYS)
            if by is None:
                raise ManifestError(
                    "idc-index rows need crdc_series_uuid and a bucket to find files by",
                    hint="select crdc_series_uuid and aws_bucket, series_aws_url, "
                    "or a key to look them up by (SeriesInstanceUID, StudyInstanceUID, PatientID)",
                )
            out = manifest_schema(size_fields())
            found = lookup_series(batches, by[0], engine, columns=by[1])
            return out, (
                add_dicomweb_urls(series_rows(b, provider, out), dicomweb_url) for b in found
            )
        out = manifest_schema(extras)
        return out, (
            add_dicomweb_urls(series_rows(b, provider, out), dicomweb_url) for b in batches
        )
    found_key = key_columns(names, EXPANSION_KEYS)  # several columns of one key: all of them
    if found_key is None:
        if not any(b.num_rows for b in batches):  # no rows at all: an empty manifest, not an error
            return manifest_schema(), iter(())
        raise ManifestError(
            "the result has no column to find files by",
            hint=f"select one of {', '.join(EXPANSION_KEYS)} (or a column named <prefix>_<key>; "
            "or gcs_url with instance_size and instance_hash)",
        )
    out = manifest_schema()
    key, columns = found_key
    expanded = _expand(batches, key, provider, engine, out, source, origin, columns)
    return out, (add_dicomweb_urls(b, dicomweb_url) for b in expanded)


def _passthrough_fields(schema: pa.Schema) -> pa.Schema:
    """Flat (non-nested) columns of the input that are not manifest columns: kept as-is."""
    import pyarrow as pa

    known = set(MANIFEST_COLUMNS) | {a for v in _ALIASES.values() for a in v}
    known |= {"gcs_url", "aws_url"}
    keep = [
        f
        for f in schema
        if f.name not in known and not pa.types.is_nested(f.type) and not pa.types.is_binary(f.type)
    ]
    return pa.schema(keep)


def normalize_batch(batch: pa.RecordBatch, provider: str, schema: pa.Schema) -> pa.RecordBatch:
    """Convert one instance-level batch to the manifest schema (vectorized)."""
    import pyarrow.compute as pc

    n = batch.num_rows
    cols = {name: batch.column(name) for name in batch.schema.names}

    def pick(*names: str) -> pa.Array | None:
        for name in names:
            if name in cols:
                return cols[name]
        return None

    gcs = pick("gcs_bucket")
    aws = pick("aws_bucket")
    if gcs is None and "gcs_url" in cols:
        gcs = pc.extract_regex(cols["gcs_url"], r"^gs://(?P<b>[^/]+)/").field("b")
    if aws is None and "aws_url" in cols:
        aws = pc.extract_regex(cols["aws_url"], r"^s3://(?P<b>[^/]+)/").field("b")
    if gcs is None and aws is None and "url" in cols:
        parts = pc.extract_regex(cols["url"], r"^(?P<s>gs|s3)://(?P<b>[^/]+)/")
        scheme, bucket = parts.field("s"), parts.field("b")
        gcs = pc.if_else(pc.equal(scheme, "gs"), bucket, map_strings(bucket, AWS_TO_GCS))
        aws = pc.if_else(pc.equal(scheme, "s3"), bucket, map_strings(bucket, GCS_TO_AWS))
    gcs, aws = pair_buckets(gcs, aws)
    bucket = gcs if provider == "gcs" else aws
    scheme = "gs://" if provider == "gcs" else "s3://"
    url = pc.binary_join_element_wise(
        scheme, bucket, "/", cols["crdc_series_uuid"], "/", cols["crdc_instance_uuid"], ".dcm", ""
    )
    values: dict[str, Any] = {"url": url, "gcs_bucket": gcs, "aws_bucket": aws}
    for name, aliases in _ALIASES.items():
        values[name] = pick(*aliases)
    return conform_batch(values, cols, schema, n)


def _expand(
    batches: Iterator[pa.RecordBatch],
    key: str,
    provider: str,
    engine: Engine | None,
    schema: pa.Schema,
    source: Any = None,
    origin: Mapping[str, Any] | None = None,
    columns: list[str] | None = None,
) -> Iterator[pa.RecordBatch]:
    columns = columns or [key]
    ordered = key_values(batches, columns)
    if not ordered:
        return
    own = engine is None
    if engine is None:
        engine = engine_for(source, origin)
    found = 0
    try:
        for start in range(0, len(ordered), KEYS_PER_QUERY):
            table = query_instances(engine, key, ordered[start : start + KEYS_PER_QUERY])
            found += table.num_rows
            for batch in table.to_batches(max_chunksize=65_536):
                yield normalize_batch(batch, provider, schema)
        if not found:
            raise no_files(len(ordered), describe(key, columns), source_label(engine))
    finally:
        if own:
            engine.close()


def engine_for(source: Any, origin: Mapping[str, Any] | None = None) -> Engine:
    """The engine the rows came from (a QueryResult's, or the one its provenance names).

    DuckDB on that export root (or idc-index), else DuckDB on the embedded sample.
    """
    from idcbq.engines import get_engine

    origin = origin or {}
    kind = getattr(source, "engine", None) or origin.get("engine")
    root = getattr(source, "source", None) or origin.get("source")
    version = getattr(source, "idc_version", None) or origin.get("idc_version")
    if isinstance(kind, str) and kind == "bigquery":
        raise ManifestError(
            "this BigQuery result has only series/study/patient keys; expanding it needs the engine",
            hint="pass engine=<your BigQuery engine> (or client.engine) to write_manifest, or "
            "run `idcbq manifest RESULT --engine bigquery --project P` and download that manifest",
        )
    if isinstance(kind, str) and kind in ("duckdb", "googlesql"):
        opts: dict[str, Any] = {"idc_version": version}
        if root:
            opts["source"] = root
        return get_engine("duckdb", **opts)
    return get_engine("duckdb")


def instances_sql(engine: Engine, key: str, columns: Iterable[str] = DICOM_ALL_COLUMNS) -> str:
    """BigQuery SQL selecting the instances whose ``key`` is in the bound ``@keys`` array."""
    from idcbq.sources.releases import table_fqn

    if key not in EXPANSION_KEYS:
        raise ManifestError(f"cannot expand by column {key!r}")
    fqn = table_fqn("dicom_all", idc_version=engine.idc_version, data_project=engine.data_project)
    cols = ", ".join(columns)
    # `key` comes from the fixed EXPANSION_KEYS list, never from user text.
    return (
        f"SELECT {cols}\nFROM {fqn}\nWHERE {key} IN UNNEST(@keys)\n"
        "ORDER BY crdc_series_uuid, crdc_instance_uuid"
    )


def query_instances(engine: Engine, key: str, values: list[str]) -> pa.Table:
    """The dicom_all instance rows for ``values`` of ``key``, through ``engine``."""
    from idcbq.params import BoundParameter

    columns = list(DICOM_ALL_COLUMNS)
    fields = engine.table_fields(engine.idc_version.dataset, "dicom_all")
    if fields:
        present = {f.name for f in fields}
        columns = [c for c in columns if c in present]
    sql = instances_sql(engine, key, columns)
    prepared = engine.prepare(sql, [BoundParameter.of("keys", "ARRAY<STRING>", values)])
    return engine.execute(prepared)
