"""What a manifest says about itself: how its rows were chosen, counts, bytes, licenses.

Counts accumulate batch by batch while a manifest streams out, so a million-row
manifest never needs all rows in memory to state its totals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

SIDECAR_SUFFIX = ".provenance.json"


def license_group(name: str | None) -> str:
    """Coarse license class: ``CC BY-NC`` (non-commercial), ``CC BY``, or ``other``.

    Example:
        >>> [license_group(x) for x in ("CC BY 4.0", "CC BY-NC 3.0", None)]
        ['CC BY', 'CC BY-NC', 'other']
    """
    text = (name or "").upper()
    if "NC" in text.replace("CC BY", "").split() or "BY-NC" in text:
        return "CC BY-NC"
    if text.startswith("CC BY") or text.startswith("CC-BY"):
        return "CC BY"
    return "other"


@dataclass
class ManifestStats:
    """Running totals over the manifest rows written so far."""

    instances: int = 0
    total_bytes: int = 0
    unknown_sizes: int = 0
    series: set[str] = field(default_factory=set)
    licenses: dict[str, dict[str, int]] = field(default_factory=dict)

    def add(self, batch: pa.RecordBatch) -> None:
        import pyarrow.compute as pc

        self.instances += batch.num_rows
        names = batch.schema.names
        if "crdc_instance_uuid" in names:  # series rows (idc-index) are not instances
            self.instances -= batch.column("crdc_instance_uuid").null_count
        sizes = batch.column("size")
        if {"crdc_instance_uuid", "instanceCount", "series_size_MB"} <= set(names):
            # idc-index series rows: count their files and bytes from idc-index's own sizes
            series = pc.is_null(batch.column("crdc_instance_uuid"))
            counts = pc.filter(batch.column("instanceCount"), series)
            self.instances += int(pc.sum(counts).as_py() or 0)
            mb = pc.if_else(series, batch.column("series_size_MB"), None)
            sizes = pc.if_else(series, pc.cast(pc.round(pc.multiply(mb, 1e6)), "int64"), sizes)
        self.total_bytes += int(pc.sum(sizes).as_py() or 0)
        self.unknown_sizes += sizes.null_count
        self.series.update(v for v in pc.unique(batch.column("crdc_series_uuid")).to_pylist() if v)
        lic = batch.column("license").fill_null("unknown")
        for name in pc.unique(lic).to_pylist():
            mask = pc.equal(lic, name)
            entry = self.licenses.setdefault(name, {"instances": 0, "bytes": 0})
            entry["instances"] += int(pc.sum(mask.cast("int64")).as_py() or 0)
            entry["bytes"] += int(pc.sum(pc.filter(sizes, mask)).as_py() or 0)

    def as_dict(self) -> dict[str, Any]:
        groups: dict[str, int] = {}
        for name, entry in self.licenses.items():
            key = license_group(None if name == "unknown" else name)
            groups[key] = groups.get(key, 0) + entry["instances"]
        return {
            "instances": self.instances,
            "series": len(self.series),
            "total_bytes": self.total_bytes,
            "unknown_sizes": self.unknown_sizes,
            "licenses": dict(sorted(self.licenses.items())),
            "license_groups": dict(sorted(groups.items())),
        }


def base_provenance(
    source: Any, engine: Any = None, given: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Provenance of the rows: the QueryResult's own, or what is known about a plain table."""
    from idcbq.core.version import __version__

    if given is not None:
        prov = dict(given)
    elif hasattr(source, "provenance") and callable(source.provenance):
        prov = dict(source.provenance())
    else:
        prov = {"tool": "idcbq", "tool_version": __version__, "source": type(source).__name__}
    prov.setdefault("tool", "idcbq")
    prov["tool_version"] = __version__
    if engine is not None:
        prov.setdefault("engine", getattr(engine, "name", type(engine).__name__))
        prov.setdefault("idc_version", str(engine.idc_version))
    prov["manifest_created"] = datetime.now(UTC).isoformat()
    return prov
