"""The embedded default: a local IDC-shaped Parquet export derived from idc-index-data."""

from __future__ import annotations

from pathlib import Path

from idcbq.sources.releases import EXPORT_DIR
from idcbq.sources.sample.paths import default_sample_root


def build_sample(root: Path, **options: object) -> Path:
    """Build the sample export under ``root`` (``root/bigquery_export/...``)."""
    from idcbq.sources.sample.build import build_sample as _build

    return _build(root, **options)


def ensure_sample(root: Path | None = None) -> Path:
    """Return the default sample root, building it first if it is not there yet."""
    root = Path(root) if root else default_sample_root()
    if not (root / EXPORT_DIR / "idc_current" / "dicom_all").is_dir():
        build_sample(root)
    return root
