"""Download manifests from query results: s5cmd, URL lists, JSONL/CSV/Parquet, with provenance.

Example:
    >>> import idcbq  # doctest: +SKIP
    >>> result = idcbq.connect().query("cohort.series_by_modality", modalities=["CT"])  # doctest: +SKIP
    >>> write_manifest(result, "ct.s5cmd", format="s5cmd", provider="aws")  # doctest: +SKIP
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from idcbq.manifest.model import FORMATS, LEVELS, MANIFEST_COLUMNS, PROVIDERS

if TYPE_CHECKING:
    from idcbq.engines.base import Engine

__all__ = ["FORMATS", "LEVELS", "MANIFEST_COLUMNS", "PROVIDERS", "read_manifest", "write_manifest"]


def write_manifest(
    result_or_table: Any,
    path: str | os.PathLike[str],
    *,
    format: str,
    level: str = "instance",
    provider: str = "gcs",
    engine: Engine | None = None,
    provenance: dict[str, Any] | None = None,
    s5cmd_dest: str = ".",
    dicomweb_url: str | None = None,
) -> dict[str, Any]:
    """Write a manifest for a query result (or Arrow table / batch reader / DataFrame).

    Rows with only series, study or patient keys are expanded to instances through
    ``engine`` (default: DuckDB on the embedded sample). Returns the provenance that
    was recorded (counts, bytes, license breakdown included).
    """
    from idcbq.manifest.expand import manifest_batches
    from idcbq.manifest.provenance import base_provenance
    from idcbq.manifest.writers import write_batches

    from_index = (provenance or {}).get("source") == "idc-index"  # series-level rows
    schema, batches = manifest_batches(
        result_or_table,
        provider=provider,
        engine=engine,
        series_level=True if from_index else None,
        dicomweb_url=dicomweb_url,
        origin=provenance,
    )
    prov = base_provenance(result_or_table, engine, provenance)
    from idcbq.manifest.dicomweb_urls import (
        count_buckets,
        default_dicomweb_url,
        healthcare_gap_counts,
        is_healthcare,
    )

    base = (dicomweb_url or default_dicomweb_url()).rstrip("/")
    buckets: dict[str, int] = {}
    if is_healthcare(base):  # that store holds one bucket only: count the others
        batches = count_buckets(batches, buckets)
    out = write_batches(
        batches, schema, path, format=format, level=level, provider=provider,
        provenance=prov, s5cmd_dest=s5cmd_dest,
    )  # fmt: skip
    gap = healthcare_gap_counts(base, buckets)
    if gap:
        import warnings

        out["dicomweb_note"] = gap
        warnings.warn(gap, UserWarning, stacklevel=2)
    return out


def read_manifest(path: str | os.PathLike[str]) -> Any:
    """Open a manifest file: ``(info, schema, batches)``; see :mod:`idcbq.manifest.readers`."""
    from idcbq.manifest.readers import read_manifest as _read

    return _read(path)
