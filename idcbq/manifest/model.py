"""The manifest row model: one DICOM instance, where it lives, and how to check it.

Every manifest idcbq writes or reads becomes a stream of Arrow record batches with
these columns (extra columns, e.g. ones a directory template needs, ride along).

Example:
    >>> object_key("1f2e", "9a8b")
    '1f2e/9a8b.dcm'
    >>> url_for("gcs", "idc-open-idc1", "1f2e/9a8b.dcm")
    'gs://idc-open-idc1/1f2e/9a8b.dcm'
    >>> url_for("aws", "idc-open-idc1", "1f2e/9a8b.dcm")
    's3://idc-open-data-two/1f2e/9a8b.dcm'
    >>> parse_url("s3://idc-open-data/1f2e/*")
    ('aws', 'idc-open-data', '1f2e/*')
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from idcbq.errors import ManifestError

if TYPE_CHECKING:
    import pyarrow as pa

PROVIDERS = ("gcs", "aws")
FORMATS = ("s5cmd", "urls", "jsonl", "csv", "parquet")
LEVELS = ("series", "instance")

#: Columns of a manifest row, in order. ``url`` is for the manifest's provider.
MANIFEST_COLUMNS: tuple[str, ...] = (
    "url",
    "gcs_bucket",
    "aws_bucket",
    "crdc_series_uuid",
    "crdc_instance_uuid",
    "collection_id",
    "PatientID",
    "StudyInstanceUID",
    "SeriesInstanceUID",
    "SOPInstanceUID",
    "Modality",
    "size",
    "md5",
    "license",
    "dicomweb_series_url",  # <base>/studies/<StudyInstanceUID>/series/<SeriesInstanceUID>
    "dicomweb_instance_url",  # .../instances/<SOPInstanceUID> (instance rows)
)

#: dicom_all columns read to expand series/study/patient keys to instances.
DICOM_ALL_COLUMNS: tuple[str, ...] = (
    "collection_id",
    "PatientID",
    "StudyInstanceUID",
    "SeriesInstanceUID",
    "SOPInstanceUID",
    "Modality",
    "crdc_series_uuid",
    "crdc_instance_uuid",
    "gcs_bucket",
    "aws_bucket",
    "instance_size",
    "instance_hash",
    "license_short_name",
)

# IDC's buckets come in pairs (GCS name -> AWS name); idc-index maps them the same way.
GCS_TO_AWS = {
    "idc-open-data": "idc-open-data",
    "idc-open-idc1": "idc-open-data-two",
    "idc-open-cr": "idc-open-data-cr",
    "public-datasets-idc": "idc-open-data",
}
AWS_TO_GCS = {
    "idc-open-data": "idc-open-data",
    "idc-open-data-two": "idc-open-idc1",
    "idc-open-data-cr": "idc-open-cr",
}

#: Buckets IDC serves files from; the downloader refuses others unless explicitly allowed.
IDC_BUCKETS = frozenset(GCS_TO_AWS) | frozenset(AWS_TO_GCS)

GCS_ENDPOINT = "https://storage.googleapis.com"
AWS_ENDPOINT = "https://s3.amazonaws.com"


def manifest_schema(extra: pa.Schema | None = None) -> pa.Schema:
    """Arrow schema of manifest rows (plus ``extra`` fields not already present)."""
    import pyarrow as pa

    fields = [
        pa.field(name, pa.int64() if name == "size" else pa.string()) for name in MANIFEST_COLUMNS
    ]
    if extra is not None:
        fields += [f for f in extra if f.name not in MANIFEST_COLUMNS]
    return pa.schema(fields)


def object_key(series_uuid: str, instance_uuid: str) -> str:
    """Object name of an instance inside its bucket."""
    return f"{series_uuid}/{instance_uuid}.dcm"


def check_provider(provider: str) -> str:
    if provider not in PROVIDERS:
        raise ManifestError(f"unknown provider {provider!r}", hint="use gcs or aws")
    return provider


def bucket_for(provider: str, gcs_bucket: str | None, aws_bucket: str | None) -> str | None:
    """The bucket to use for ``provider``, mapping IDC's GCS/AWS pairs when one is missing."""
    if provider == "gcs":
        return gcs_bucket or (AWS_TO_GCS.get(aws_bucket, aws_bucket) if aws_bucket else None)
    return aws_bucket or (GCS_TO_AWS.get(gcs_bucket, gcs_bucket) if gcs_bucket else None)


def url_for(provider: str, gcs_bucket: str | None, key: str, aws_bucket: str | None = None) -> str:
    """``gs://`` or ``s3://`` URL of ``key`` for ``provider``; ``gcs_bucket`` is mapped for AWS."""
    bucket = bucket_for(provider, gcs_bucket, aws_bucket)
    return f"{'gs' if provider == 'gcs' else 's3'}://{bucket}/{key}"


def parse_url(url: str) -> tuple[str, str, str]:
    """Split ``gs://bucket/key`` / ``s3://bucket/key`` into (provider, bucket, key)."""
    for scheme, provider in (("gs://", "gcs"), ("s3://", "aws")):
        if url.startswith(scheme):
            bucket, _, key = url[len(scheme) :].partition("/")
            if not bucket or not key:
                break
            return provider, bucket, key
    raise ManifestError(f"not a gs:// or s3:// object URL: {url!r}")


def map_strings(arr: pa.Array, mapping: dict[str, str]) -> pa.Array:
    """Map low-cardinality strings (bucket names) through a dict; unknown values stay."""
    import pyarrow as pa

    enc = arr.dictionary_encode()
    if isinstance(enc, pa.ChunkedArray):
        enc = enc.combine_chunks()
    mapped = pa.array([mapping.get(v, v) for v in enc.dictionary.to_pylist()], pa.string())
    return mapped.take(enc.indices)


def pair_buckets(gcs: pa.Array | None, aws: pa.Array | None) -> tuple[pa.Array, pa.Array]:
    """Both bucket columns (GCS, AWS), the missing one mapped from the other (one must be given)."""
    if gcs is None:
        gcs = map_strings(aws, AWS_TO_GCS)
    if aws is None:
        aws = map_strings(gcs, GCS_TO_AWS)
    return gcs, aws


def conform_batch(
    values: Mapping[str, Any], cols: Mapping[str, Any], schema: pa.Schema, n: int
) -> pa.RecordBatch:
    """A batch of ``schema``: each column from ``values``, else ``cols``, else NULLs; cast to the field type."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arrays = []
    for field in schema:
        arr = values.get(field.name) if field.name in values else cols.get(field.name)
        if arr is None:
            arr = pa.nulls(n, field.type)
        elif arr.type != field.type:
            arr = pc.cast(arr, field.type)
        arrays.append(arr)
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def sorted_keys(batches: Iterable[pa.RecordBatch], key: str) -> list[str]:
    """The distinct non-NULL values of column ``key`` across ``batches``, as sorted strings."""
    keys: dict[str, None] = {}
    for batch in batches:
        for value in batch.column(key).to_pylist():
            if value is not None:
                keys[str(value)] = None
    return sorted(keys)
