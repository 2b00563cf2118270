"""Helpers for the jobs tests: a simulated IDC release of the sample export, spec files."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MAIN_DATASETS = ("idc_current", "idc_v25")


@dataclass
class Release:
    """A modified copy of an export root and which series it changed."""

    root: Path
    removed: str
    revised: str
    added: str
    added_from: str


def _new_uuid(text: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"idcbq-test-release/{text}"))


def _revise(row: dict[str, Any], *, new_series_uid: str | None, version: int) -> dict[str, Any]:
    """A row as IDC would publish it after a revision: new CRDC uuids (and URLs), new version."""
    row = dict(row)
    old_series, old_instance = row["crdc_series_uuid"], row["crdc_instance_uuid"]
    series_uuid = _new_uuid(f"{old_series}/{new_series_uid}/{version}")
    instance_uuid = _new_uuid(f"{old_instance}/{new_series_uid}/{version}")
    for key, value in list(row.items()):
        if isinstance(value, str):
            row[key] = value.replace(old_series, series_uuid).replace(old_instance, instance_uuid)
    row["series_revised_idc_version"] = version
    row["instance_revised_idc_version"] = version
    if new_series_uid:
        row["SeriesInstanceUID"] = new_series_uid
        row["SOPInstanceUID"] = row["SOPInstanceUID"] + ".999"
        row["series_init_idc_version"] = version
    return row


def make_release(sample_root: Path, dest: Path, *, modality: str = "CT") -> Release:
    """Copy the sample as the next IDC release: one series removed, one revised, one added.

    Tables other than ``dicom_all`` are symlinked; ``dicom_all`` of the main datasets is
    rewritten with pyarrow (same schema, nested columns included).
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    src = Path(sample_root) / "bigquery_export"
    out = dest / "bigquery_export"
    for dataset in src.iterdir():
        (out / dataset.name).mkdir(parents=True)
        for table in dataset.iterdir():
            if not (dataset.name in MAIN_DATASETS and table.name == "dicom_all"):
                os.symlink(table, out / dataset.name / table.name)
    for extra in Path(sample_root).iterdir():
        if extra.name != "bigquery_export":
            os.symlink(extra, dest / extra.name)

    table = ds.dataset(src / "idc_current" / "dicom_all", format="parquet").to_table()
    uids = sorted(
        set(table.filter(pc.field("Modality") == modality).column("SeriesInstanceUID").to_pylist())
    )
    removed, revised, added_from = uids[0], uids[1], uids[2]
    added = added_from + ".999"
    version = int(pc.max(table.column("series_revised_idc_version")).as_py() or 25) + 1
    series = table.column("SeriesInstanceUID")
    keep = pc.invert(pc.is_in(series, value_set=pa.array([removed, revised])))
    new_rows = [
        _revise(r, new_series_uid=None, version=version)
        for r in table.filter(pc.equal(series, revised)).to_pylist()
    ] + [
        _revise(r, new_series_uid=added, version=version)
        for r in table.filter(pc.equal(series, added_from)).to_pylist()
    ]
    changed = pa.Table.from_pylist(new_rows, schema=table.schema)
    release = pa.concat_tables([table.filter(keep), changed])
    for dataset in MAIN_DATASETS:
        folder = out / dataset / "dicom_all"
        folder.mkdir()
        pq.write_table(release, folder / "000000000000.parquet")
    return Release(dest, removed=removed, revised=revised, added=added, added_from=added_from)


def write_spec(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
