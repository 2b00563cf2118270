"""Seeding a real fake-gcs-server from the sample, then template -> manifest -> download -> pydicom."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pydicom
import pytest

from idcbq.sources.sample.seed import seed_gcs, seed_rows, seedable_series_uids

pytestmark = [pytest.mark.gcs, pytest.mark.slow]


@pytest.fixture(scope="module")
def seeded_sample(sample_root, gcs_server):
    report = seed_gcs(sample_root, gcs_server.url)
    return report


def test_seeded_objects_match_sample_sizes_and_md5(seeded_sample, sample_root, gcs_server):
    assert seeded_sample.mismatched == 0
    assert seeded_sample.objects > 0 and set(seeded_sample.series) == set(
        seedable_series_uids(sample_root)
    )
    client = gcs_server.client()
    rows = seed_rows(sample_root, series=3)
    for row in rows:
        blob = client.bucket(row["gcs_bucket"]).get_blob(
            f"{row['crdc_series_uuid']}/{row['crdc_instance_uuid']}.dcm"
        )
        assert blob is not None and blob.size == row["instance_size"]
        data = blob.download_as_bytes()
        assert hashlib.md5(data).hexdigest() == row["instance_hash"]


def _seedable_query(sample_root: Path):
    import idcbq

    info = json.loads((sample_root / "idcbq_sample.json").read_text())
    seedable = info["seedable_series"]
    uids = {s["SeriesInstanceUID"] for s in seedable}
    # the modality with the most seedable series, one of its collections
    counts: dict[tuple[str, str], int] = {}
    for s in seedable:
        counts[(s["Modality"], s["collection_id"])] = (
            counts.get((s["Modality"], s["collection_id"]), 0) + 1
        )
    modality, collection = max(counts, key=counts.get)
    client = idcbq.connect(source=sample_root)
    result = client.query(
        "cohort.series_by_modality", modalities=[modality], collection_id=collection
    )
    kept = result.table.filter(pc.is_in(result.table["SeriesInstanceUID"], pa.array(sorted(uids))))
    assert kept.num_rows > 0
    return dataclasses.replace(result, table=kept), modality, collection


def test_template_to_manifest_to_verified_dicom_files(
    seeded_sample, sample_root, gcs_server, tmp_path
):
    from idcbq.download import download
    from idcbq.manifest import write_manifest

    result, modality, collection = _seedable_query(sample_root)
    manifest = tmp_path / "cohort.parquet"
    prov = write_manifest(result, manifest, format="parquet")
    assert prov["template"] == "cohort.series_by_modality"
    assert prov["parameters"]["modalities"] == [modality]
    series = set(result.table["SeriesInstanceUID"].to_pylist())
    expected = {
        r["crdc_instance_uuid"]: r
        for r in seed_rows(sample_root)
        if r["SeriesInstanceUID"] in series
    }
    assert prov["instances"] == len(expected)

    report = download(manifest, tmp_path / "data", endpoint=gcs_server.url, quiet=True)
    assert report.ok, report.summary()
    files = list((tmp_path / "data").rglob("*.dcm"))
    assert len(files) == len(expected)
    for path in files:
        row = expected[path.stem]
        ds = pydicom.dcmread(path)
        assert ds.SOPInstanceUID == row["SOPInstanceUID"]
        assert ds.SeriesInstanceUID == row["SeriesInstanceUID"]
        assert path.parent.parts[-4:] == (collection, row["PatientID"], row["StudyInstanceUID"],
                                          f"{modality}_{row['SeriesInstanceUID']}")  # fmt: skip


def test_cli_manifest_from_results_file_then_download(
    seeded_sample, sample_root, gcs_server, tmp_path
):
    from idcbq.cli import main

    result, _, _ = _seedable_query(sample_root)
    results_file = tmp_path / "result.parquet"
    pq.write_table(result.table, results_file)
    out = tmp_path / "m.s5cmd"
    with pytest.raises(SystemExit) as made:
        main(["manifest", str(results_file), "--out", str(out), "--level", "series",
              "--engine", "duckdb"])  # fmt: skip
    assert made.value.code == 0
    body = [ln for ln in out.read_text().splitlines() if not ln.startswith("#")]
    assert len(body) == result.table.num_rows  # one wildcard line per series
    with pytest.raises(SystemExit) as fetched:
        main(
            [
                "download",
                str(out),
                "--dest",
                str(tmp_path / "d"),
                "--endpoint",
                gcs_server.url,
                "-q",
            ]
        )
    assert fetched.value.code == 0
    uuids = set(result.table["crdc_series_uuid"].to_pylist())
    assert {p.parent.name for p in (tmp_path / "d").rglob("*.dcm")} == uuids
