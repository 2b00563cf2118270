"""Assemble ``dicom_all`` rows (one per instance) and convert them to Arrow.

Columns: every current IDC-added column and every ``priority`` DICOM column of the
reference schema (``idcbq.sources.schema``), in the reference order, with its Arrow type.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from typing import TYPE_CHECKING, Any

from idcbq.sources.sample import attributes, instances, sequences
from idcbq.sources.sample.dicom_files import instance_bytes, instance_md5
from idcbq.sources.sample.ids import md5_hex
from idcbq.sources.schema import Field, dicom_all_fields, prune_empty_records

if TYPE_CHECKING:
    import pyarrow as pa


@cache
def dicom_all_sample_fields() -> tuple[Field, ...]:
    """The sample's ``dicom_all`` columns, in reference order."""
    chosen = (f for f in dicom_all_fields() if f.meta.get("idc_added") or f.meta.get("priority"))
    return tuple(prune_empty_records(f) for f in chosen)


def instance_rows(
    plans: list[instances.SeriesPlan], versions: instances.VersionFacts
) -> Iterator[dict[str, Any]]:
    """Yield one dict per instance; keys not among the columns are ignored later."""
    for plan in plans:
        common = instances.series_common(plan, versions)
        common.update(attributes.series_attributes(plan))
        common.update(sequences.series_sequences(plan))
        if plan.seedable and common.get("Rows"):
            # Seeded files carry a tiny pixel matrix; keep the metadata truthful.
            common["Rows"] = common["Columns"] = 16
        sizes = instances.series_sizes(plan)
        for index in range(plan.kept):
            row = dict(common)
            row.update(instances.instance_values(plan, index))
            row.update(attributes.instance_attributes(plan, row, index))
            if plan.seedable:
                data = instance_bytes(row)
                row["instance_size"] = len(data)
                row["instance_hash"] = instance_md5(data)
            else:
                row["instance_size"] = sizes[index] if index < len(sizes) else sizes[-1]
                row["instance_hash"] = md5_hex(
                    "instance", row["SOPInstanceUID"], row["instance_size"]
                )
            yield row


def rows_to_table(rows: list[dict[str, Any]]) -> pa.Table:
    """An Arrow table with exactly the sample's dicom_all schema."""
    from idcbq.sources.sample.tables import to_arrow

    return to_arrow(dicom_all_sample_fields(), rows)
