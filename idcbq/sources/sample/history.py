"""Which columns and datasets each IDC release had: the evidence the sample follows.

A derived release ``idc_vNN`` carries only the columns there is evidence for in that
release; a column outside the evidence is absent, so a query naming it is refused
(naming the release) instead of being answered with a value IDC never published.

Evidence (``/work/shared/reference``; the v15 schema dump of ``idc_v15.dicom_all`` in
rsyi/whale-bigquery-public-data; the ``git log -p`` of IDC's ETL ``dicom_all.sql``):

- ``collection_name`` and the bucket/series-folder columns (``gcs_bucket``,
  ``aws_bucket``, ``series_gcs_url``, ``series_aws_url``) are not in v15; the ETL's
  ``idc_v16`` branch has them.
- ``tcia_api_collection_id``, ``idc_webapp_collection_id``, ``tcia_tumorLocation``,
  ``tcia_species``, ``tcia_cancerType`` were duplicates until v19 (removed in v20); the
  sample fills them from the columns they duplicated.
- ``Versioned_Source_DOI`` was added in v20; ``analysis_result_id`` by a January 2024
  commit ("about v17/v18": v18 is taken, so v17 and earlier refuse it, failing closed).
- ``series_uuid``/``instance_uuid`` in ``dicom_all`` appear with v24.
- ``dicom_metadata_curated.SeriesInstanceUID`` and ``.cancer_types`` since v24;
  ``original_collections_metadata``'s snake_case names (``cancer_types``, ...) since v24
  (its PascalCase names before).
- Clinical datasets ``idc_vNN_clinical`` start at v11.

Assumption where there is no evidence: a release's tables hold the sample's current
DICOM columns, and releases before v15 have v15's IDC columns.

Example:
    >>> has_column("dicom_all", "Versioned_Source_DOI", 19), has_column("dicom_all", "Versioned_Source_DOI", 20)
    (False, True)
    >>> has_column("dicom_all", "tcia_species", 19), has_column("dicom_all", "tcia_species", 25)
    (True, False)
    >>> has_clinical_dataset(10), has_clinical_dataset(11)
    (False, True)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from idcbq.sources.schema import Field

if TYPE_CHECKING:
    import pyarrow as pa

#: First release with a clinical dataset (``idc_v11_clinical``).
FIRST_CLINICAL_RELEASE = 11

_BUCKET_COLUMNS = ("gcs_bucket", "aws_bucket", "series_gcs_url", "series_aws_url")

#: (table, column) -> (first release, last release) that had it; None: open-ended.
COLUMN_RELEASES: dict[tuple[str, str], tuple[int | None, int | None]] = {
    **{("dicom_all", c): (16, None) for c in ("collection_name", *_BUCKET_COLUMNS)},
    **{("auxiliary_metadata", c): (16, None) for c in ("collection_name", *_BUCKET_COLUMNS)},
    ("dicom_all", "Versioned_Source_DOI"): (20, None),
    ("auxiliary_metadata", "versioned_source_doi"): (20, None),
    ("dicom_all", "analysis_result_id"): (18, None),
    ("dicom_all", "series_uuid"): (24, None),
    ("dicom_all", "instance_uuid"): (24, None),
    ("dicom_metadata_curated", "SeriesInstanceUID"): (24, None),
    ("dicom_metadata_curated", "cancer_types"): (24, None),
    **{
        ("original_collections_metadata", c): (24, None)
        for c in ("cancer_types", "tumor_locations", "supporting_data", "program_id")
    },
    **{
        ("dicom_all", c): (None, 19)
        for c in (
            "tcia_api_collection_id",
            "idc_webapp_collection_id",
            "tcia_tumorLocation",
            "tcia_species",
            "tcia_cancerType",
        )
    },
}

#: Columns IDC had only in early releases: (name, the column it duplicated, placed before).
LEGACY_DICOM_ALL = (
    ("tcia_tumorLocation", "collection_tumorLocation", "collection_tumorLocation"),
    ("tcia_species", "collection_species", "collection_species"),
    ("tcia_cancerType", "collection_cancerType", "collection_cancerType"),
    ("tcia_api_collection_id", "collection_name", "collection_id"),
    ("idc_webapp_collection_id", "collection_id", "collection_id"),
)


def has_column(table: str, column: str, release: int) -> bool:
    """Whether ``table`` of ``idc_v<release>`` had ``column`` (as far as the evidence goes)."""
    found = next(
        (v for (t, c), v in COLUMN_RELEASES.items() if t == table and c.lower() == column.lower()),
        (None, None),
    )
    first, last = found
    return (first is None or release >= first) and (last is None or release <= last)


def has_clinical_dataset(release: int) -> bool:
    """IDC published ``idc_v<release>_clinical`` (v11 and later)."""
    return release >= FIRST_CLINICAL_RELEASE


def release_fields(table: str, release: int, fields: Sequence[Field]) -> tuple[Field, ...]:
    """The sample's ``fields`` of ``table`` as ``release`` had them (dropped and legacy ones)."""
    kept = [f for f in fields if has_column(table, f.name, release)]
    if table != "dicom_all":
        return tuple(kept)
    for name, _source, before in LEGACY_DICOM_ALL:
        if not has_column(table, name, release):
            continue
        at = next((i for i, f in enumerate(kept) if f.name == before), len(kept))
        kept.insert(at, Field(name, "STRING"))
    return tuple(kept)


def add_legacy_values(rows: list[dict[str, Any]], release: int) -> None:
    """Fill the early-release duplicate columns of dicom_all rows (in place)."""
    legacy = [(n, s) for n, s, _ in LEGACY_DICOM_ALL if has_column("dicom_all", n, release)]
    if not legacy:
        return
    for row in rows:
        for name, source in legacy:
            row[name] = row.get(source)


def select_release_columns(table: str, release: int, data: pa.Table) -> pa.Table:
    """``data`` without the columns ``table`` did not have in ``release``."""
    keep = [c for c in data.column_names if has_column(table, c, release)]
    return data if len(keep) == len(data.column_names) else data.select(keep)


def column_note(table: str, column: str, release: int) -> str | None:
    """Why ``table`` of ``idc_v<release>`` lacks ``column`` (IDC added/removed it), or None.

    Example:
        >>> column_note("dicom_all", "Versioned_Source_DOI", 15)
        'IDC added it to dicom_all in v20'
    """
    match = next(
        (v for (t, c), v in COLUMN_RELEASES.items() if t == table and c.lower() == column.lower()),
        None,
    )
    if match is None or has_column(table, column, release):
        return None
    first, last = match
    if first is not None and release < first:
        return f"IDC added it to {table} in v{first}"
    return f"IDC removed it from {table} after v{last}"
