"""The embedded default: a local IDC-shaped Parquet export derived from idc-index-data."""

from __future__ import annotations

from pathlib import Path


def build_sample(root: Path, **options: object) -> Path:
    """Build the sample export under ``root`` (``root/bigquery_export/...``)."""
    from idcbq.sources.sample.build import build_sample as _build

    return _build(root, **options)
