"""Which IDC releases a source holds: the one answer ``idcbq releases``, error hints and
INFORMATION_SCHEMA-like listings share.

A source is an export root (local directory, mirror, ``s3://``, ``gs://``), the embedded
sample (whose earlier releases are derived on first use, so they count as held), or
``idc-index`` (IDC's current release only).

Example:
    >>> sort_datasets(["idc_current", "idc_v10", "idc_v2", "idc_v2_clinical"])
    ['idc_v2', 'idc_v2_clinical', 'idc_v10', 'idc_current']
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from idcbq.sources.exports import ExportRoot

_DATASET = re.compile(r"^idc_(v(\d+)|current)(_clinical)?$")


def _key(name: str) -> tuple[int, int, str]:
    match = _DATASET.match(name)
    if match is None:
        return (2, 0, name)
    number = int(match.group(2)) if match.group(2) else 10**6  # idc_current last
    return (0 if match.group(2) else 1, number, name)


def sort_datasets(names: list[str] | tuple[str, ...] | set[str]) -> list[str]:
    """IDC dataset names in release order (``idc_v2`` < ``idc_v10``), ``idc_current`` last."""
    return sorted(names, key=_key)


@dataclass(frozen=True)
class Release:
    """One release dataset a source holds."""

    dataset: str
    #: The release number; for ``idc_current`` the release it copies, if known.
    number: int | None
    #: Its clinical dataset, if the source holds one.
    clinical: str | None = None
    #: For ``idc_current``: the ``idc_vNN`` dataset it equals (None if unknown).
    same_as: str | None = None
    #: False for the sample's releases derived on first use (not built yet).
    on_disk: bool = True

    def as_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "release": self.number,
            "clinical_dataset": self.clinical,
            "same_as": self.same_as,
            "on_disk": self.on_disk,
        }


@dataclass(frozen=True)
class SourceReleases:
    """The releases of one source, in release order (``idc_current`` last)."""

    source: str
    releases: tuple[Release, ...] = field(default_factory=tuple)

    @property
    def datasets(self) -> list[str]:
        """Main release datasets: ``idc_v2`` ... ``idc_v25``, ``idc_current``."""
        return [r.dataset for r in self.releases]

    @property
    def clinical_datasets(self) -> list[str]:
        return [r.clinical for r in self.releases if r.clinical]

    @property
    def current(self) -> str | None:
        """The ``idc_vNN`` that ``idc_current`` equals, or None."""
        return next((r.same_as for r in self.releases if r.dataset == "idc_current"), None)

    def labels(self) -> list[str]:
        """``v2``, ..., ``v25``, ``current`` (how ``--idc-version`` spells them)."""
        return [r.dataset.removeprefix("idc_") for r in self.releases]


def releases_of_export(export: ExportRoot) -> SourceReleases:
    """The releases an export root holds (sample: also those it derives on first use)."""
    names = set(export.datasets())
    pending = set(export.derivable())
    sample_current = _sample_current(export)
    numbered = [n for n in names if (m := _DATASET.match(n)) and m.group(2) and not m.group(3)]
    out = []
    for name in sort_datasets(
        [n for n in names if _DATASET.match(n) and not n.endswith("_clinical")]
    ):
        match = _DATASET.match(name)
        assert match is not None
        number = int(match.group(2)) if match.group(2) else None
        same_as = None
        if number is None:
            latest = max(numbered, key=_key) if numbered else None
            same_as = f"idc_v{sample_current}" if sample_current else latest
            number = int(same_as.removeprefix("idc_v")) if same_as else None
        clinical = f"{name}_clinical" if f"{name}_clinical" in names else None
        out.append(Release(name, number, clinical, same_as, on_disk=name not in pending))
    return SourceReleases(str(export.location.url), tuple(out))


def _sample_current(export: ExportRoot) -> int | None:
    if export.location.is_remote:
        return None
    from pathlib import Path

    from idcbq.sources.sample.lazy import sample_manifest

    manifest = sample_manifest(Path(export.location.url))
    return int(manifest["idc_version"]) if manifest and manifest.get("idc_version") else None


def source_releases(source: str | os.PathLike[str] | None = None, **connect: Any) -> SourceReleases:
    """The IDC releases a source holds, for ``idcbq releases`` and listings.

    Args:
        source: export root (directory, ``s3://``, ``gs://``), ``sample`` or None (the
            embedded sample, built if missing), or ``idc-index``.
        connect: endpoint options for remote roots (``s3_endpoint``, ``gcs_endpoint``,
            ``anonymous``), as :func:`idcbq.sources.connection.connect_for` takes them.

    Raises:
        SourceError: the source is not an IDC export (no ``bigquery_export/``).
    """
    from idcbq.errors import SourceError
    from idcbq.sources.exports import ExportRoot

    if source is not None and str(source).strip().lower() == "idc-index":
        from idcbq.sources.sample.source import source_files

        number = int(source_files().version.split(".")[0])
        return SourceReleases(
            "idc-index",
            (
                Release(f"idc_v{number}", number),
                Release("idc_current", number, same_as=f"idc_v{number}"),
            ),
        )
    if source is None or str(source).strip().lower() == "sample":
        from idcbq.sources.sample import ensure_sample

        source = ensure_sample()
    con = None
    if connect or str(source).startswith(("s3://", "gs://", "gcs://")) or str(source) == "idc":
        from idcbq.sources.connection import connect_for
        from idcbq.sources.location import ExportLocation

        con = connect_for(ExportLocation.parse(source), **connect)
    try:
        export = ExportRoot(source, con=con)
        if not export.exists():
            raise SourceError(
                f"{export.location.export_url}: no IDC export here",
                hint="pass a directory or bucket that contains bigquery_export/",
            )
        return releases_of_export(export)
    finally:
        if con is not None:
            con.close()
