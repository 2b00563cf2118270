"""Where an IDC export root lives: a local directory, ``s3://bucket[/prefix]`` or ``gs://...``.

Parsing only (no listing, no DuckDB), so :mod:`.connection` and :mod:`.exports` both
build on it.

Example:
    >>> loc = ExportLocation.parse("s3://idc-open-metadata")
    >>> loc.scheme, loc.table_url("idc_v25", "dicom_all")
    ('s3', 's3://idc-open-metadata/bigquery_export/idc_v25/dicom_all')
    >>> ExportLocation.parse("gs://my-bucket/copy/").url
    'gs://my-bucket/copy'
    >>> ExportLocation.parse("idc").url
    's3://idc-open-metadata'
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from idcbq.errors import SourceError
from idcbq.sources.releases import EXPORT_DIR, IDC_METADATA_EXPORT


@dataclass(frozen=True)
class ExportLocation:
    """Where an export root lives: ``scheme`` is ``file``, ``s3`` or ``gs``."""

    url: str
    scheme: str

    @classmethod
    def parse(cls, source: str | os.PathLike[str] | ExportLocation) -> ExportLocation:
        if isinstance(source, ExportLocation):
            return source
        text = str(source).strip()
        if text.lower() == "idc":  # shorthand for IDC's public export bucket
            text = IDC_METADATA_EXPORT
        if text.startswith(("s3://", "gs://", "gcs://")):
            scheme, rest = text.split("://", 1)
            rest = rest.strip("/")
            if not rest:
                raise SourceError(f"{text!r}: no bucket name", hint="use s3://bucket[/prefix]")
            # Users may point at the root or at its bigquery_export folder.
            if rest.endswith(f"/{EXPORT_DIR}"):
                rest = rest[: -len(EXPORT_DIR) - 1]
            scheme = "gs" if scheme == "gcs" else scheme
            return cls(url=f"{scheme}://{rest}", scheme=scheme)
        if "://" in text:
            raise SourceError(
                f"unsupported source {text!r}", hint="use a local directory, s3://... or gs://..."
            )
        path = Path(text).expanduser().resolve()
        if path.name == EXPORT_DIR:
            path = path.parent
        return cls(url=str(path), scheme="file")

    @property
    def is_remote(self) -> bool:
        return self.scheme != "file"

    @property
    def bucket(self) -> str | None:
        return self.url.split("://", 1)[1].split("/", 1)[0] if self.is_remote else None

    @property
    def export_url(self) -> str:
        return f"{self.url}/{EXPORT_DIR}"

    def dataset_url(self, dataset: str) -> str:
        return f"{self.export_url}/{dataset}"

    def table_url(self, dataset: str, table: str) -> str:
        return f"{self.export_url}/{dataset}/{table}"
