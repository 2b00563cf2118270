"""The sample's source of truth: the series-level IDC index in ``idc-index-data``.

``idc_index.parquet`` holds one row per series of the IDC release (v25: 1,044,191
series); the small ``*_index.parquet`` files hold collections, analysis results and
versions. The builder reads them with pyarrow only.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from idcbq.errors import SourceError

if TYPE_CHECKING:
    import pyarrow as pa


@dataclass(frozen=True)
class SourceFiles:
    """Paths and version of the installed ``idc-index-data`` package."""

    directory: Path
    version: str

    def path(self, name: str) -> Path:
        return self.directory / name


@cache
def source_files() -> SourceFiles:
    """Locate the installed ``idc-index-data`` files."""
    try:
        import idc_index_data
    except ImportError as exc:  # pragma: no cover - it is a pinned dependency
        raise SourceError(
            "the sample is built from the 'idc-index-data' package, which is not installed",
            hint="pip install idc-index-data==25.0.5",
        ) from exc
    directory = Path(idc_index_data.__file__).parent
    index = directory / "idc_index.parquet"
    if not index.is_file():
        raise SourceError(f"{index}: missing from the idc-index-data package")
    return SourceFiles(directory, str(getattr(idc_index_data, "__version__", "unknown")))


#: Columns of idc_index.parquet the builder uses (all of them today).
SERIES_COLUMNS = (
    "collection_id",
    "analysis_result_id",
    "PatientID",
    "SeriesInstanceUID",
    "StudyInstanceUID",
    "source_DOI",
    "PatientAge",
    "PatientSex",
    "StudyDate",
    "StudyDescription",
    "BodyPartExamined",
    "Modality",
    "SOPClassUID",
    "TransferSyntaxUID",
    "PhotometricInterpretation",
    "PixelRepresentation",
    "Manufacturer",
    "ManufacturerModelName",
    "SeriesDate",
    "SeriesDescription",
    "SeriesNumber",
    "instanceCount",
    "license_short_name",
    "series_init_idc_version",
    "series_revised_idc_version",
    "aws_bucket",
    "crdc_series_uuid",
    "series_size_MB",
)


def all_collection_ids() -> list[str]:
    """Every collection id in the index, sorted."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    table = pq.read_table(source_files().path("idc_index.parquet"), columns=["collection_id"])
    return sorted(pc.unique(table["collection_id"]).to_pylist())


#: A collection with more series than this (NLST: 592,600) is read, when a series cap
#: applies, as the series of the patients the selection keeps (:func:`_trimmed_filters`).
LARGE_COLLECTION = 50_000


def read_series(
    collections: list[str] | None = None, *, max_series_per_collection: int | None = None
) -> list[dict[str, Any]]:
    """Series rows (dicts) of the given collections, in IDC's index order.

    With ``max_series_per_collection``, a collection over ``LARGE_COLLECTION`` series is
    read trimmed to what the build can use (see :func:`_trimmed_filters`).
    """
    import pyarrow.parquet as pq

    path = source_files().path("idc_index.parquet")
    filters: Any = [("collection_id", "in", list(collections))] if collections else None
    if collections and max_series_per_collection is not None:
        filters = _trimmed_filters(list(collections), max_series_per_collection)
    table = pq.read_table(path, columns=list(SERIES_COLUMNS), filters=filters)
    return _sorted_rows(table.to_pylist())


def _trimmed_filters(collections: list[str], cap: int) -> list[list[tuple[str, str, Any]]]:
    """Parquet filters (OR of ANDs): small collections whole, large ones trimmed.

    A large collection keeps every series of the patients selection keeps. Selection
    keeps whole studies and compares studies only with each other, so it chooses the
    same studies from this slice as from the whole collection, and version facts per
    patient and study come out the same. The two series holding the collection's lowest
    ``series_init_idc_version`` and highest ``series_revised_idc_version`` are kept too,
    so its collection-level versions do (for the current release).
    """
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from idcbq.sources.sample.select import select_series

    path = source_files().path("idc_index.parquet")
    light = ["collection_id", "PatientID", "StudyInstanceUID", "SeriesInstanceUID"]
    light += ["analysis_result_id", "Modality"]
    light += ["series_init_idc_version", "series_revised_idc_version"]
    ids = pq.read_table(
        path, columns=["collection_id"], filters=[("collection_id", "in", collections)]
    )
    counts = {c["values"]: c["counts"] for c in pc.value_counts(ids["collection_id"]).to_pylist()}
    large = sorted(c for c in collections if counts.get(c, 0) > LARGE_COLLECTION)
    small = [c for c in collections if c not in large]
    out: list[list[tuple[str, str, Any]]] = [[("collection_id", "in", small)]] if small else []
    for cid in large:
        part = pq.read_table(path, columns=light, filters=[("collection_id", "=", cid)])
        keys = part.select(light[:6]).to_pylist()
        chosen = select_series(keys, max_series_per_collection=cap)
        patients = sorted({s["PatientID"] for s in chosen})
        extremes = [
            _extreme_uid(part, "series_init_idc_version", "min"),
            _extreme_uid(part, "series_revised_idc_version", "max"),
        ]
        out.append([("collection_id", "=", cid), ("PatientID", "in", patients)])
        out.append([("collection_id", "=", cid), ("SeriesInstanceUID", "in", extremes)])
    return out


def _extreme_uid(part: pa.Table, column: str, which: str) -> str:
    import pyarrow.compute as pc

    values = pc.fill_null(part[column], 1)
    target = pc.min(values) if which == "min" else pc.max(values)
    return part["SeriesInstanceUID"][pc.index(values, target).as_py()].as_py()


def iter_series_batches(batch_series: int = 50_000) -> Iterator[list[dict[str, Any]]]:
    """Stream every series of the index in batches that never split a study.

    The index is ordered by collection, patient, study, series, so holding back
    the last study of each batch keeps studies whole (references stay in-batch).
    """
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(source_files().path("idc_index.parquet"))
    pending: list[dict[str, Any]] = []
    for batch in parquet.iter_batches(batch_size=batch_series, columns=list(SERIES_COLUMNS)):
        pending.extend(batch.to_pylist())
        last_study = pending[-1]["StudyInstanceUID"]
        cut = len(pending)
        while cut > 0 and pending[cut - 1]["StudyInstanceUID"] == last_study:
            cut -= 1
        if cut == 0:
            continue
        yield _sorted_rows(pending[:cut])
        pending = pending[cut:]
    if pending:
        yield _sorted_rows(pending)


def _sorted_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    key = ("collection_id", "PatientID", "StudyInstanceUID", "SeriesInstanceUID")
    return sorted(rows, key=lambda r: tuple(r[k] or "" for k in key))


@cache
def collections_facts() -> dict[str, dict[str, Any]]:
    """``collections_index.parquet`` rows keyed by collection_id."""
    import pyarrow.parquet as pq

    rows = pq.read_table(source_files().path("collections_index.parquet")).to_pylist()
    return {r["collection_id"]: r for r in rows}


@cache
def analysis_results_facts() -> dict[str, dict[str, Any]]:
    """``analysis_results_index.parquet`` rows keyed by analysis_result_id."""
    import pyarrow.parquet as pq

    rows = pq.read_table(source_files().path("analysis_results_index.parquet")).to_pylist()
    return {r["analysis_result_id"]: r for r in rows}


@cache
def version_facts() -> list[dict[str, Any]]:
    """``version_metadata_index.parquet`` rows (idc_version, version_timestamp)."""
    import pyarrow.parquet as pq

    rows = pq.read_table(source_files().path("version_metadata_index.parquet")).to_pylist()
    return sorted(rows, key=lambda r: r["idc_version"])


@cache
def license_facts() -> dict[str, dict[str, str]]:
    """License short name -> {license_url, license_long_name, license_short_name}."""
    out: dict[str, dict[str, str]] = {}
    for coll in collections_facts().values():
        for src in coll.get("sources") or ():
            lic = src.get("license") or {}
            if lic.get("license_short_name"):
                out.setdefault(lic["license_short_name"], dict(lic))
    for res in analysis_results_facts().values():
        if res.get("license_short_name"):
            out.setdefault(
                res["license_short_name"],
                {k: res[k] for k in ("license_url", "license_long_name", "license_short_name")},
            )
    return out


@cache
def source_url_by_doi() -> dict[str, str]:
    """Lower-case DOI -> landing URL, from collection and analysis-result sources."""
    out: dict[str, str] = {}
    for coll in collections_facts().values():
        for src in coll.get("sources") or ():
            if src.get("source_doi"):
                out.setdefault(src["source_doi"].lower(), src.get("source_url") or "")
    for res in analysis_results_facts().values():
        if res.get("source_DOI"):
            out.setdefault(res["source_DOI"].lower(), res.get("source_url") or "")
    return out
