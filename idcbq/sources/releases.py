"""IDC versions, dataset names, export layouts and the local cache.

IDC publishes each release as BigQuery datasets ``idc_vNN`` / ``idc_vNN_clinical``
(``idc_current*`` mirror the latest) and exports every table as Parquet under
``bigquery_export/<dataset>/<table>/*.parquet``.

Example:
    >>> v = IdcVersion.parse("v25")
    >>> v.dataset, v.clinical_dataset
    ('idc_v25', 'idc_v25_clinical')
    >>> IdcVersion.parse("current").dataset
    'idc_current'
    >>> IdcVersion.parse("25") == v
    True
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from idcbq.errors import SourceError

#: Google's public data project that hosts IDC's datasets.
IDC_DATA_PROJECT = "bigquery-public-data"
#: IDC's public bucket of Parquet exports (AWS; anonymous reads).
IDC_METADATA_EXPORT = "s3://idc-open-metadata"
#: The IDC release the embedded sample is derived from (idc-index-data 25.x).
SAMPLE_IDC_VERSION = 25
EXPORT_DIR = "bigquery_export"

_VERSION_RE = re.compile(r"^(?:idc_)?v?(\d{1,3})$", re.IGNORECASE)


@dataclass(frozen=True)
class IdcVersion:
    """An IDC release: a number, or ``None`` for ``current``."""

    number: int | None

    @classmethod
    def parse(cls, text: str | int | IdcVersion | None) -> IdcVersion:
        if isinstance(text, IdcVersion):
            return text
        if text is None:
            return cls(None)
        if isinstance(text, int):
            if text < 1:
                raise SourceError(
                    f"unknown IDC version {text!r}", hint="use vNN (e.g. v25) or current"
                )
            return cls(text)
        raw = str(text).strip()
        if raw.lower() in ("current", "idc_current", "latest"):
            return cls(None)
        match = _VERSION_RE.match(raw)
        if not match or int(match.group(1)) < 1:
            raise SourceError(f"unknown IDC version {text!r}", hint="use vNN (e.g. v25) or current")
        return cls(int(match.group(1)))

    @property
    def is_current(self) -> bool:
        return self.number is None

    @property
    def label(self) -> str:
        return "current" if self.number is None else f"v{self.number}"

    @property
    def dataset(self) -> str:
        return "idc_current" if self.number is None else f"idc_v{self.number}"

    @property
    def clinical_dataset(self) -> str:
        return f"{self.dataset}_clinical"

    def __str__(self) -> str:
        return self.label


def cache_dir() -> Path:
    """Where idcbq keeps the built sample and other caches (env ``IDCBQ_CACHE_DIR``)."""
    override = os.environ.get("IDCBQ_CACHE_DIR")
    if override:
        return Path(override).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("idcbq"))


def table_fqn(
    table: str,
    *,
    idc_version: IdcVersion,
    data_project: str = IDC_DATA_PROJECT,
    clinical: bool = False,
) -> str:
    """The BigQuery name of an IDC table, backquoted, as templates render it.

    Example:
        >>> table_fqn("dicom_all", idc_version=IdcVersion.parse("v25"))
        '`bigquery-public-data.idc_v25.dicom_all`'
        >>> table_fqn("column_metadata", idc_version=IdcVersion(None), clinical=True)
        '`bigquery-public-data.idc_current_clinical.column_metadata`'
    """
    dataset = idc_version.clinical_dataset if clinical else idc_version.dataset
    return f"`{data_project}.{dataset}.{table}`"
