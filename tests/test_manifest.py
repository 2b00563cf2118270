"""Manifest writers, readers and provenance (no servers needed)."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from idcbq.errors import ManifestError
from idcbq.manifest import read_manifest, write_manifest
from idcbq.manifest.writers import PROVENANCE_KEY
from tests.fixtures.downloads import synthetic_instances

SEEDED = synthetic_instances(tag="manifest")


def table() -> pa.Table:
    return SEEDED.table()


def urls(path: Path) -> list[str]:
    _info, _schema, batches = read_manifest(path)
    return [u for b in batches for u in b.column("url").to_pylist()]


def expected_urls(provider: str) -> list[str]:
    key = "gcs_bucket" if provider == "gcs" else "aws_bucket"
    scheme = "gs" if provider == "gcs" else "s3"
    return [
        f"{scheme}://{r[key]}/{r['crdc_series_uuid']}/{r['crdc_instance_uuid']}.dcm"
        for r in SEEDED.rows
    ]


@pytest.mark.parametrize("provider", ["gcs", "aws"])
@pytest.mark.parametrize("fmt", ["s5cmd", "urls", "jsonl", "csv", "parquet"])
def test_every_format_round_trips_instance_urls(tmp_path, fmt, provider):
    path = tmp_path / f"m.{fmt}"
    prov = write_manifest(table(), path, format=fmt, provider=provider)
    assert prov["instances"] == len(SEEDED.rows)
    assert urls(path) == expected_urls(provider)


def test_s5cmd_manifest_is_what_idc_users_run(tmp_path):
    aws = tmp_path / "aws.s5cmd"
    write_manifest(table(), aws, format="s5cmd", level="series", provider="aws")
    lines = aws.read_text().splitlines()
    assert (
        lines[2]
        == "# s5cmd --no-sign-request --endpoint-url https://s3.amazonaws.com run aws.s5cmd"
    )
    series = list(dict.fromkeys((r["aws_bucket"], r["crdc_series_uuid"]) for r in SEEDED.rows))
    assert lines[3:] == [f"cp s3://{b}/{s}/* ." for b, s in series]
    gcs = tmp_path / "gcs.s5cmd"
    write_manifest(table(), gcs, format="s5cmd", level="instance", provider="gcs")
    lines = gcs.read_text().splitlines()
    assert "--endpoint-url https://storage.googleapis.com" in lines[2]
    # s5cmd speaks S3 to GCS: s3:// scheme with the GCS bucket names
    assert (
        lines[3]
        == f"cp s3://{SEEDED.rows[0]['gcs_bucket']}/{SEEDED.rows[0]['crdc_series_uuid']}/{SEEDED.rows[0]['crdc_instance_uuid']}.dcm ."
    )
    assert {line.split("/")[2] for line in lines[3:]} == {r["gcs_bucket"] for r in SEEDED.rows}


def test_provenance_counts_bytes_and_licenses(tmp_path):
    path = tmp_path / "m.parquet"
    write_manifest(
        table(), path, format="parquet", provenance={"template": "t.x", "parameters": {"a": 1}}
    )
    prov = json.loads(pq.read_metadata(path).metadata[PROVENANCE_KEY])
    nc = [r for r in SEEDED.rows if "NC" in r["license_short_name"]]
    assert prov["instances"] == len(SEEDED.rows)
    assert prov["series"] == len({r["crdc_series_uuid"] for r in SEEDED.rows})
    assert prov["total_bytes"] == sum(r["instance_size"] for r in SEEDED.rows)
    assert prov["license_groups"] == {"CC BY": len(SEEDED.rows) - len(nc), "CC BY-NC": len(nc)}
    assert prov["licenses"]["CC BY-NC 4.0"]["bytes"] == sum(r["instance_size"] for r in nc)
    assert prov["template"] == "t.x" and prov["tool"] == "idcbq" and prov["tool_version"]
    # text formats: header comment (s5cmd) or sidecar (others)
    s5 = tmp_path / "m.s5cmd"
    write_manifest(table(), s5, format="s5cmd")
    info, _, _ = read_manifest(s5)
    assert info.provenance["total_bytes"] == prov["total_bytes"]
    for fmt in ("urls", "jsonl", "csv"):
        write_manifest(table(), tmp_path / f"m.{fmt}", format=fmt)
        side = json.loads((tmp_path / f"m.{fmt}.provenance.json").read_text())
        assert side["instances"] == len(SEEDED.rows) and side["format"] == fmt


def test_rows_carry_template_columns_and_checksums(tmp_path):
    path = tmp_path / "m.jsonl"
    write_manifest(table(), path, format="jsonl")
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert len(rows) == len(SEEDED.rows)
    for got, src in zip(rows, SEEDED.rows, strict=True):
        assert got["md5"] == src["instance_hash"] and got["size"] == src["instance_size"]
        assert got["license"] == src["license_short_name"]
        for col in ("collection_id", "PatientID", "StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID",
                    "Modality", "crdc_series_uuid", "crdc_instance_uuid"):  # fmt: skip
            assert got[col] == src[col]
        assert got["InstanceNumber"] == src["InstanceNumber"]  # extra result columns ride along


def test_csv_keeps_identifiers_as_strings(tmp_path):
    rows = [dict(r, PatientID="0007") for r in SEEDED.rows[:2]]
    path = tmp_path / "m.csv"
    write_manifest(pa.Table.from_pylist(rows), path, format="csv")
    _, schema, batches = read_manifest(path)
    got = pa.Table.from_batches(list(batches), schema=schema)
    assert got.column("PatientID").to_pylist() == ["0007", "0007"]


IDC_PORTAL_AWS = """# To download the files in this manifest, first install idc-index python package, then run:
# idc download manifest.s5cmd
cp s3://idc-open-data/cdac3f73-4fc9-4e0d-913b-b64aa3100977/* .
cp s3://idc-open-data-two/0a1b2c3d-0000-4000-8000-000000000001/* .
"""
IDC_PORTAL_GCS = """# s5cmd --no-sign-request --endpoint-url https://storage.googleapis.com run manifest.s5cmd
cp s3://idc-open-idc1/0a1b2c3d-0000-4000-8000-000000000001/* .

cp   s3://idc-open-data/cdac3f73-4fc9-4e0d-913b-b64aa3100977/7b9a9d9e-1111-4222-8333-444455556666.dcm  ./x/
"""


def test_reads_idc_portal_s5cmd_manifests(tmp_path):
    aws = tmp_path / "aws.s5cmd"
    aws.write_text(IDC_PORTAL_AWS)
    info, schema, batches = read_manifest(aws)
    rows = pa.Table.from_batches(list(batches), schema=schema).to_pylist()
    assert info.provider == "aws" and info.format == "s5cmd"
    assert [
        (r["aws_bucket"], r["gcs_bucket"], r["crdc_series_uuid"], r["crdc_instance_uuid"])
        for r in rows
    ] == [
        ("idc-open-data", "idc-open-data", "cdac3f73-4fc9-4e0d-913b-b64aa3100977", None),
        ("idc-open-data-two", "idc-open-idc1", "0a1b2c3d-0000-4000-8000-000000000001", None),
    ]
    gcs = tmp_path / "gcs.s5cmd"
    gcs.write_text(IDC_PORTAL_GCS)
    info, schema, batches = read_manifest(gcs)
    rows = pa.Table.from_batches(list(batches), schema=schema).to_pylist()
    assert info.provider == "gcs" and info.endpoint == "https://storage.googleapis.com"
    assert [r["url"] for r in rows] == [
        "gs://idc-open-idc1/0a1b2c3d-0000-4000-8000-000000000001/*",
        "gs://idc-open-data/cdac3f73-4fc9-4e0d-913b-b64aa3100977/7b9a9d9e-1111-4222-8333-444455556666.dcm",
    ]
    assert rows[1]["crdc_instance_uuid"] == "7b9a9d9e-1111-4222-8333-444455556666"


def test_reads_plain_url_lists(tmp_path):
    path = tmp_path / "list.txt"
    path.write_text("gs://idc-open-data/s1/i1.dcm\n\ns3://idc-open-data-two/s2/*\n")
    _, schema, batches = read_manifest(path)
    rows = pa.Table.from_batches(list(batches), schema=schema).to_pylist()
    assert [(r["gcs_bucket"], r["crdc_series_uuid"], r["crdc_instance_uuid"]) for r in rows] == [
        ("idc-open-data", "s1", "i1"),
        ("idc-open-idc1", "s2", None),
    ]


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("cp s3://idc-open-data/a/b/c.dcm .\n", 1),
        ("# c\nrm s3://idc-open-data/a/* .\n", 2),
        ("cp s3://idc-open-data/s/i.dcm .\ncp http://x/y .\n", 2),
    ],
)
def test_bad_manifest_lines_name_file_and_line(tmp_path, text, line):
    path = tmp_path / "bad.s5cmd"
    path.write_text(text)
    with pytest.raises(ManifestError) as err:
        _, _, batches = read_manifest(path)
        list(batches)
    assert f"bad.s5cmd:{line}" in str(err.value)


def test_failed_write_leaves_nothing_behind(tmp_path):
    def boom():
        yield from table().to_batches(max_chunksize=4)[:1]
        raise RuntimeError("engine died mid-stream")

    reader = pa.RecordBatchReader.from_batches(table().schema, boom())
    for fmt in ("s5cmd", "jsonl", "parquet", "csv"):
        with pytest.raises(RuntimeError):
            write_manifest(reader if fmt == "s5cmd" else pa.RecordBatchReader.from_batches(table().schema, boom()),
                           tmp_path / f"m.{fmt}", format=fmt)  # fmt: skip
    assert list(tmp_path.iterdir()) == []


def test_bad_options_are_refused(tmp_path):
    with pytest.raises(ManifestError, match="format"):
        write_manifest(table(), tmp_path / "m", format="zip")
    with pytest.raises(ManifestError, match="series"):
        write_manifest(table(), tmp_path / "m.jsonl", format="jsonl", level="series")
    with pytest.raises(ManifestError, match="no column to find files by"):
        write_manifest(pa.table({"x": [1]}), tmp_path / "m.jsonl", format="jsonl")
    assert list(tmp_path.iterdir()) == []


def test_streams_a_batch_reader_in_one_pass(tmp_path):
    """A one-shot RecordBatchReader (as from a big query) is consumed once, batch by batch."""
    n = 50_000
    big = pa.table({
        "crdc_series_uuid": [f"s{i // 100}" for i in range(n)], "crdc_instance_uuid": [f"i{i}" for i in range(n)],
        "gcs_bucket": ["idc-open-data"] * n, "instance_size": list(range(n)), "instance_hash": ["0" * 32] * n,
        "license_short_name": ["CC BY 4.0"] * n,
    })  # fmt: skip
    reader = pa.RecordBatchReader.from_batches(big.schema, big.to_batches(max_chunksize=4096))
    prov = write_manifest(reader, tmp_path / "big.parquet", format="parquet")
    assert (
        prov["instances"] == n
        and prov["series"] == n // 100
        and prov["total_bytes"] == n * (n - 1) // 2
    )
    assert pq.read_metadata(tmp_path / "big.parquet").num_rows == n


def test_jsonl_results_stream_in_blocks_with_identifiers_kept_as_strings(tmp_path):
    """A JSON Lines results file is read block by block; digit-only IDs never turn numeric."""
    from idcbq.manifest.readers import read_table

    n = 40_000  # several MB: more than one of pyarrow's 1 MB blocks
    path = tmp_path / "results.jsonl"
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(n):
            fh.write(json.dumps({"PatientID": f"{i:04d}", "SeriesInstanceUID": f"1.2.{i}",
                                 "instance_size": i, "note": "x" * 64}) + "\n")  # fmt: skip
    schema, batches, fmt = read_table(path)
    sizes = [b.num_rows for b in batches]
    assert fmt == "jsonl" and len(sizes) > 1 and sum(sizes) == n
    assert schema.field("PatientID").type == pa.string()
    assert schema.field("SeriesInstanceUID").type == pa.string()
    assert schema.field("instance_size").type == pa.int64()


def test_jsonl_results_with_a_bad_line_far_down_name_the_file(tmp_path):
    from idcbq.manifest.readers import read_table

    path = tmp_path / "results.jsonl"
    good = json.dumps({"SeriesInstanceUID": "1.2.3", "note": "y" * 200}) + "\n"
    path.write_text(good * 20_000 + "{not json\n", encoding="utf-8")
    # Met mid-stream (pyarrow >= 19 streams JSON Lines; older pyarrow reads it at open).
    with pytest.raises(ManifestError, match=r"results\.jsonl"):
        _schema, batches, _ = read_table(path)
        for _ in batches:
            pass
