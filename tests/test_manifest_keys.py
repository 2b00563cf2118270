"""A result with several series-UID columns becomes a manifest of all of them (issue 17 i).

``seg.series_with_referenced`` returns ``seg_SeriesInstanceUID`` and
``referenced_SeriesInstanceUID``: through ``idcbq query`` / ``idcbq manifest`` (CLI) and
``connect().query`` / ``write_manifest`` (API) on the embedded sample, the manifest holds
the files of both the segmentations and the images they segment. The oracle is the
sample's ``dicom_all`` read straight from its Parquet files with pyarrow.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

TEMPLATE = "seg.series_with_referenced"
COLUMNS = ["collection_id", "seg_SeriesInstanceUID", "referenced_SeriesInstanceUID",
           "referenced_Modality", "referenced_instances"]  # fmt: skip


def idcbq(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    out, err = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    with out.open("w") as o, err.open("w") as e:
        code = subprocess.run([sys.executable, "-m", "idcbq", *args], stdout=o, stderr=e,
                              timeout=600, cwd=tmp_path, env=os.environ.copy()).returncode  # fmt: skip
    assert code == 0, (args, out.read_text(), err.read_text())
    return subprocess.CompletedProcess(args, code, out.read_text(), err.read_text())


def instances_of(sample_root: Path, series: set[str]) -> set[str]:
    """crdc_instance_uuid of every instance of ``series`` in the sample's dicom_all."""
    import pyarrow.dataset as ds

    folder = sample_root / "bigquery_export" / "idc_current" / "dicom_all"  # the CLI's default
    table = ds.dataset(folder, format="parquet").to_table(
        columns=["SeriesInstanceUID", "crdc_instance_uuid"]
    )
    return {r["crdc_instance_uuid"] for r in table.to_pylist() if r["SeriesInstanceUID"] in series}


@pytest.fixture(scope="module")
def seg_csv(tmp_path_factory, sample_root) -> Path:
    folder = tmp_path_factory.mktemp("seg")
    idcbq(folder, "query", TEMPLATE, "--out", "seg.csv")
    return folder / "seg.csv"


def both_columns(rows: list[dict]) -> tuple[set[str], set[str]]:
    segs = {r["seg_SeriesInstanceUID"] for r in rows}
    refs = {r["referenced_SeriesInstanceUID"] for r in rows}
    return segs, refs


@pytest.mark.parametrize("fmt", ["jsonl", "s5cmd"])
def test_cli_manifest_holds_segmentations_and_their_images(tmp_path, seg_csv, sample_root, fmt):
    with seg_csv.open() as fh:
        reader = csv.DictReader(fh)
        assert reader.fieldnames == COLUMNS  # the template's interface is unchanged
        rows = list(reader)
    segs, refs = both_columns(rows)
    assert segs and refs and not segs & refs
    done = idcbq(tmp_path, "manifest", str(seg_csv), "--out", f"m.{fmt}")
    want = instances_of(sample_root, segs | refs)
    if fmt == "jsonl":
        got = [json.loads(x) for x in (tmp_path / "m.jsonl").read_text().splitlines()]
        assert {r["SeriesInstanceUID"] for r in got} == segs | refs
        assert {r["crdc_instance_uuid"] for r in got} == want
    else:
        lines = [x for x in (tmp_path / "m.s5cmd").read_text().splitlines() if x.startswith("cp")]
        got = {x.split()[1].rsplit("/", 1)[-1].removesuffix(".dcm") for x in lines}
        assert got == want
    assert f"{len(want)} instances, {len(segs | refs)} series" in done.stderr


def test_api_write_manifest_of_a_two_column_result(tmp_path, sample_root):
    import idcbq
    from idcbq.manifest import write_manifest

    client = idcbq.connect()
    try:
        result = client.query(TEMPLATE)
        assert result.columns == COLUMNS
        prov = write_manifest(result, tmp_path / "m.parquet", format="parquet")
    finally:
        client.close()
    segs, refs = both_columns(result.to_arrow().to_pylist())
    import pyarrow.parquet as pq

    got = pq.read_table(tmp_path / "m.parquet").to_pylist()
    assert {r["SeriesInstanceUID"] for r in got} == segs | refs
    assert {r["crdc_instance_uuid"] for r in got} == instances_of(sample_root, segs | refs)
    assert prov["series"] == len(segs | refs)
