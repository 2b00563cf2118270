"""Compare two cohorts series by series: added, removed, revised.

A series is keyed by its DICOM ``SeriesInstanceUID``. IDC gives a revised series a
new ``crdc_series_uuid`` and bumps ``series_revised_idc_version``, so a change of either
marks the series as revised.

Example:
    >>> import pyarrow as pa
    >>> old = pa.table({"SeriesInstanceUID": ["1", "2"], "crdc_series_uuid": ["a", "b"]})
    >>> new = pa.table({"SeriesInstanceUID": ["2", "3"], "crdc_series_uuid": ["b2", "c"]})
    >>> d = diff_cohorts(old, new)
    >>> d.added, d.removed, d.revised
    (['3'], ['1'], ['2'])
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from idcbq.errors import UsageError

if TYPE_CHECKING:
    import pyarrow as pa

KEY = "SeriesInstanceUID"
REVISION_COLUMNS = ("crdc_series_uuid", "series_revised_idc_version")


@dataclass
class CohortDiff:
    """Series-level differences; lists hold SeriesInstanceUIDs, sorted."""

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    revised: list[str] = field(default_factory=list)
    unchanged: int = 0

    @property
    def changed(self) -> list[str]:
        """Series whose files a scheduled job must fetch: added plus revised."""
        return sorted(set(self.added) | set(self.revised))

    def summary(self) -> dict[str, Any]:
        return {
            "added": len(self.added),
            "removed": len(self.removed),
            "revised": len(self.revised),
            "unchanged": self.unchanged,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.summary(),
            "series": {"added": self.added, "removed": self.removed, "revised": self.revised},
        }


def _series_versions(table: pa.Table) -> dict[str, tuple[Any, ...]]:
    if KEY not in table.column_names:
        raise UsageError(
            f"cannot diff cohorts: results have no {KEY} column",
            hint="select SeriesInstanceUID in the query",
        )
    present = [c for c in REVISION_COLUMNS if c in table.column_names]
    columns = [table.column(KEY).to_pylist()] + [table.column(c).to_pylist() for c in present]
    versions: dict[str, set[tuple[Any, ...]]] = {}
    for row in zip(*columns, strict=True):
        if row[0] is None:
            continue
        versions.setdefault(row[0], set()).add(tuple(row[1:]))
    return {uid: tuple(sorted(v, key=repr)) for uid, v in versions.items()}


def diff_cohorts(previous: pa.Table, current: pa.Table) -> CohortDiff:
    """Series added, removed and revised between two query results (any grain)."""
    old = _series_versions(previous)
    new = _series_versions(current)
    added = sorted(new.keys() - old.keys())
    removed = sorted(old.keys() - new.keys())
    common = new.keys() & old.keys()
    revised = sorted(uid for uid in common if new[uid] != old[uid])
    return CohortDiff(
        added=added, removed=removed, revised=revised, unchanged=len(common) - len(revised)
    )
