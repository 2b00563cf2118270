"""DICOMweb URLs in manifests, and series-level rows for results without instances.

Every manifest row carries ``dicomweb_series_url``
(``<base>/studies/<StudyInstanceUID>/series/<SeriesInstanceUID>``) and, when the row is
one instance, ``dicomweb_instance_url`` (``.../instances/<SOPInstanceUID>``): WADO-RS
resources any DICOMweb client or viewer can open.

The base is IDC's public proxy unless given (``--dicomweb-url``, ``$IDCBQ_DICOMWEB_URL``):
no authentication, all of IDC, with a per-IP daily quota. Google Healthcare's store of a
release (:func:`healthcare_store_url`) needs Google credentials and holds only the series
in the ``idc-open-data`` bucket (about 96% of IDC).

Example:
    >>> healthcare_store_url(25).endswith("/dicomStores/idc-store-v25/dicomWeb")
    True
    >>> series_url("https://h/dicomWeb", "1.2", "1.2.3")
    'https://h/dicomWeb/studies/1.2/series/1.2.3'
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from idcbq.manifest.model import conform_batch, pair_buckets

if TYPE_CHECKING:
    import pyarrow as pa

#: IDC's public DICOMweb proxy (no auth, all of IDC, per-IP daily quota).
DICOMWEB_PUBLIC_PROXY = (
    "https://proxy.imaging.datacommons.cancer.gov/current/"
    "viewer-only-no-downloads-see-tinyurl-dot-com-slash-3j3d9jyp/dicomWeb"
)
#: Google Healthcare's versioned IDC store (auth; only the idc-open-data bucket).
HEALTHCARE_STORE = (
    "https://healthcare.googleapis.com/v1/projects/nci-idc-data/locations/us-central1/"
    "datasets/idc/dicomStores/idc-store-v{version}/dicomWeb"
)
#: The one bucket whose series the Healthcare store holds (GCS and AWS names).
HEALTHCARE_BUCKETS = frozenset({"idc-open-data"})
DICOMWEB_COLUMNS = ("dicomweb_series_url", "dicomweb_instance_url")
_HEALTHCARE_RE = re.compile(r"^https://healthcare\.googleapis\.com/", re.IGNORECASE)


def healthcare_store_url(version: int) -> str:
    """The Google Healthcare DICOMweb URL of IDC release ``version``."""
    return HEALTHCARE_STORE.format(version=int(version))


def default_dicomweb_url() -> str:
    """``$IDCBQ_DICOMWEB_URL`` if set, else IDC's public proxy."""
    return (os.environ.get("IDCBQ_DICOMWEB_URL") or DICOMWEB_PUBLIC_PROXY).rstrip("/")


def is_healthcare(base: str) -> bool:
    """Whether a DICOMweb base is a Google Healthcare API store."""
    return bool(_HEALTHCARE_RE.match(base))


def healthcare_gap(base: str, gcs_buckets: Iterable[str | None]) -> str | None:
    """A warning if ``base`` is a Healthcare store and some series live in other buckets."""
    counts: dict[str, int] = {}
    for bucket in gcs_buckets:
        if bucket:
            counts[bucket] = counts.get(bucket, 0) + 1
    return healthcare_gap_counts(base, counts)


def healthcare_gap_counts(base: str, counts: dict[str, int]) -> str | None:
    """:func:`healthcare_gap` from ``{gcs_bucket: rows}`` counts."""
    if not is_healthcare(base):
        return None
    others = {b: n for b, n in counts.items() if b not in HEALTHCARE_BUCKETS}
    if not others:
        return None
    listed = ", ".join(f"{b} ({n})" for b, n in sorted(others.items()))
    return (
        f"the Google Healthcare store holds only the idc-open-data bucket; "
        f"{sum(others.values())} row(s) are in {listed} and are not there "
        f"(use the public proxy {DICOMWEB_PUBLIC_PROXY} or a bucket download for them)"
    )


def count_buckets(
    batches: Iterable[pa.RecordBatch], counts: dict[str, int]
) -> Iterable[pa.RecordBatch]:
    """Pass manifest batches through, adding up rows per ``gcs_bucket`` into ``counts``."""
    import pyarrow.compute as pc

    for batch in batches:
        if "gcs_bucket" in batch.schema.names:
            vc = pc.value_counts(batch.column("gcs_bucket").fill_null(""))
            for item in vc.to_pylist():
                if item["values"]:
                    counts[item["values"]] = counts.get(item["values"], 0) + item["counts"]
        yield batch


def series_url(base: str, study: str, series: str) -> str:
    return f"{base.rstrip('/')}/studies/{study}/series/{series}"


def add_dicomweb_urls(batch: pa.RecordBatch, base: str | None = None) -> pa.RecordBatch:
    """Fill the DICOMweb URL columns of a manifest batch (existing values are kept)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    names = batch.schema.names
    if not all(c in names for c in DICOMWEB_COLUMNS):
        return batch
    base = (base or default_dicomweb_url()).rstrip("/")
    n = batch.num_rows
    study = _col(batch, "StudyInstanceUID", n)
    series = _col(batch, "SeriesInstanceUID", n)
    sop = _col(batch, "SOPInstanceUID", n)
    s_url = pc.binary_join_element_wise(base, "/studies/", study, "/series/", series, "")
    i_url = pc.binary_join_element_wise(s_url, "/instances/", sop, "")
    arrays = list(batch.columns)
    for name, made in zip(DICOMWEB_COLUMNS, (s_url, i_url), strict=True):
        i = names.index(name)
        have = arrays[i]
        arrays[i] = pc.coalesce(have, made) if have.null_count < n else made.cast(pa.string())
    return pa.RecordBatch.from_arrays(arrays, schema=batch.schema)


def _col(batch: pa.RecordBatch, name: str, n: int) -> pa.Array:
    import pyarrow as pa

    if name in batch.schema.names:
        arr = batch.column(name)
        return arr if arr.type == pa.string() else arr.cast(pa.string())
    return pa.nulls(n, pa.string())


def series_located(names: Iterable[str]) -> bool:
    """Whether rows say where each series' files are (uuid + bucket, or a series URL)."""
    have = set(names)
    if have & {"series_aws_url", "series_gcs_url"}:
        return True
    return "crdc_series_uuid" in have and bool(have & {"aws_bucket", "gcs_bucket"})


def series_urls(batch: pa.RecordBatch, provider: str) -> pa.RecordBatch:
    """Give series-level rows (no ``crdc_instance_uuid``) their ``<bucket>/<uuid>/*`` URL.

    Rows re-read from a manifest of idc-index series keep their prefix URL instead of
    losing it to the instance URL (which needs an instance).
    """
    import pyarrow.compute as pc

    names = batch.schema.names
    if "url" not in names or batch.column("url").null_count == 0:
        return batch
    instance = batch.column("crdc_instance_uuid")
    if instance.null_count == 0:
        return batch
    bucket = batch.column("gcs_bucket" if provider == "gcs" else "aws_bucket")
    scheme = "gs://" if provider == "gcs" else "s3://"
    prefix = pc.binary_join_element_wise(
        scheme, bucket, "/", batch.column("crdc_series_uuid"), "/*", ""
    )
    url = pc.if_else(pc.is_null(instance), prefix, batch.column("url"))
    return batch.set_column(names.index("url"), "url", url.cast(batch.schema.field("url").type))


def series_rows(batch: pa.RecordBatch, provider: str, schema: pa.Schema) -> pa.RecordBatch:
    """One series-level manifest row per input row (idc-index results).

    ``url`` is ``<scheme>://<bucket>/<crdc_series_uuid>/*``; instance columns, size and
    MD5 are null (the downloader lists the prefix and verifies each object against the
    listing's size and MD5).
    """
    import pyarrow.compute as pc

    n = batch.num_rows
    cols = {name: batch.column(name) for name in batch.schema.names}
    uuid = cols.get("crdc_series_uuid")
    gcs, aws = cols.get("gcs_bucket"), cols.get("aws_bucket")
    for url_col, scheme in (("series_aws_url", "s3"), ("series_gcs_url", "gs")):
        if url_col in cols and (uuid is None or (gcs is None and aws is None)):
            parts = pc.extract_regex(cols[url_col], rf"^{scheme}://(?P<b>[^/]+)/(?P<u>[^/*]+)")
            uuid = uuid if uuid is not None else parts.field("u")
            if scheme == "s3" and aws is None and gcs is None:
                aws = parts.field("b")
            elif scheme == "gs" and aws is None and gcs is None:
                gcs = parts.field("b")
    gcs, aws = pair_buckets(gcs, aws)
    bucket = gcs if provider == "gcs" else aws
    scheme = "gs://" if provider == "gcs" else "s3://"
    values = {
        "url": pc.binary_join_element_wise(scheme, bucket, "/", uuid, "/*", ""),
        "gcs_bucket": gcs,
        "aws_bucket": aws,
        "crdc_series_uuid": uuid,
        "license": cols.get("license", cols.get("license_short_name")),
    }
    return conform_batch(values, cols, schema, n)
