"""`idcbq mirror` on a wide synthetic export: layout, pruning, incremental runs, verification."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from idcbq.engines.duckdb import DuckDBEngine
from idcbq.errors import SourceError
from idcbq.sources.mirror import MANIFEST, mirror, read_manifest
from idcbq.testing.wide_export import WideSpec, collection_name, write_wide_export

SPEC = WideSpec(files=8, collections=4, rows_per_file=40, row_group_rows=20, leaf_columns=1500)
SQL = "SELECT SOPInstanceUID, Modality, instance_size FROM dicom_all WHERE collection_id = $c"


@pytest.fixture(scope="module")
def wide_root(tmp_path_factory) -> Path:
    return write_wide_export(tmp_path_factory.mktemp("wide"), SPEC)


@pytest.fixture
def source(wide_root, tmp_path) -> Path:
    """A private copy of the export (tests edit it)."""
    dst = tmp_path / "source"
    shutil.copytree(wide_root / "bigquery_export", dst / "bigquery_export")
    return dst


@pytest.fixture(autouse=True)
def _footer_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("IDCBQ_FOOTER_CACHE", str(tmp_path / "footers"))


def _rows(root: Path, collection: str) -> list[tuple]:
    with DuckDBEngine.from_options(source=root, idc_version="v25") as eng:
        table = eng.sql(SQL + " ORDER BY 1", {"c": collection})
    return list(zip(*(table.column(i).to_pylist() for i in range(3)), strict=True))


def test_mirror_has_idc_layout_provenance_and_same_answers(source, tmp_path):
    dest = tmp_path / "mirror"
    report = mirror(str(source), dest, columns="templates", progress=False)
    files = sorted((dest / "bigquery_export/idc_v25/dicom_all").glob("*.parquet"))
    assert [f.name for f in files] == [f"{i:012d}.parquet" for i in range(8)]
    assert report.fetched == 8 and report.rows == 8 * 40
    kept = pq.read_schema(files[0]).names
    assert {"collection_id", "SOPInstanceUID", "Modality", "instance_size"} <= set(kept)
    assert len(kept) < 100 < len(pq.read_schema(next(source.rglob("*.parquet"))).names)
    manifest = json.loads((dest / MANIFEST).read_text())
    entry = manifest["datasets"]["idc_v25"]["tables"]["dicom_all"]
    assert manifest["source"] == str(source) and entry["columns"] == kept and entry["rows"] == 320
    assert manifest["latest"] == "idc_v25" and entry["mirrored_at"]
    c = collection_name(1)
    assert _rows(dest, c) == _rows(source, c) != []


def test_collections_keep_only_admitting_row_groups(source, tmp_path):
    report = mirror(str(source), tmp_path / "m", collections=[collection_name(2)], progress=False)
    assert report.rows == 2 * 40  # the two files of collection 2
    assert _rows(tmp_path / "m", collection_name(2)) == _rows(source, collection_name(2))
    assert _rows(tmp_path / "m", collection_name(0)) == []


def test_rerun_fetches_nothing_and_added_columns_fetch_only_those(source, tmp_path):
    dest = tmp_path / "m"
    first = mirror(str(source), dest, columns="SOPInstanceUID", progress=False)
    again = mirror(str(source), dest, columns="SOPInstanceUID", progress=False)
    assert (again.unchanged, again.fetched, again.chunk_bytes) == (8, 0, 0)
    more = mirror(str(source), dest, columns="SOPInstanceUID,PatientSex", progress=False)
    assert (more.merged, more.fetched) == (8, 0)
    assert 0 < more.kept_bytes < first.kept_bytes  # one small column, not the file again
    local = pq.read_table(next((dest / "bigquery_export").rglob("*.parquet")))
    src = pq.read_table(next(source.rglob("*.parquet")), columns=local.column_names)
    assert local.equals(src)
    assert (
        "PatientSex" in read_manifest(dest)["datasets"]["idc_v25"]["tables"]["dicom_all"]["columns"]
    )


def test_new_release_fetches_only_changed_files(source, tmp_path):
    dest = tmp_path / "m"
    mirror(str(source), dest, idc_version="v25", progress=False)
    v26 = source / "bigquery_export/idc_v26/dicom_all"
    shutil.copytree(source / "bigquery_export/idc_v25/dicom_all", v26)
    # One file of the new release differs (same rows, re-encoded in one row group).
    changed = v26 / "000000000000.parquet"
    pq.write_table(pq.read_table(changed), changed, compression="zstd", row_group_size=40)
    report = mirror(str(source), dest, idc_version="current", progress=False)
    assert report.dataset == "idc_v26"
    assert (report.linked, report.fetched) == (7, 1)
    assert read_manifest(dest)["latest"] == "idc_v26"
    assert _rows_version(dest, "v26", collection_name(3)) != []


def _rows_version(root: Path, version: str, collection: str) -> list:
    with DuckDBEngine.from_options(source=root, idc_version=version) as eng:
        return eng.sql(SQL, {"c": collection}).column(0).to_pylist()


def test_truncated_source_file_fails_verification_and_names_it(source, tmp_path):
    bad = source / "bigquery_export/idc_v25/dicom_all/000000000003.parquet"
    data = bad.read_bytes()
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(SourceError, match=r"000000000003\.parquet") as info:
        mirror(str(source), tmp_path / "m", progress=False)
    assert "1 file(s) failed" in str(info.value)
    kept = sorted(p.name for p in (tmp_path / "m").rglob("*.parquet"))
    assert len(kept) == 7 and bad.name not in kept  # the others are mirrored


def test_corrupt_column_chunk_fails_verification(source, tmp_path):
    bad = source / "bigquery_export/idc_v25/dicom_all/000000000005.parquet"
    meta = pq.read_metadata(bad)
    index = [meta.schema.column(i).path for i in range(meta.num_columns)].index("SOPInstanceUID")
    chunk = meta.row_group(0).column(index)
    start = chunk.dictionary_page_offset or chunk.data_page_offset
    data = bytearray(bad.read_bytes())
    data[start : start + 24] = b"\xff" * 24  # the page header becomes garbage
    bad.write_bytes(bytes(data))
    with pytest.raises(SourceError, match=r"000000000005\.parquet"):
        mirror(str(source), tmp_path / "m", progress=False)


def test_column_outside_the_mirror_names_the_command_that_adds_it(source, tmp_path):
    dest = tmp_path / "m"
    mirror(str(source), dest, columns="templates", progress=False)
    with (
        DuckDBEngine.from_options(source=dest, idc_version="v25") as eng,
        pytest.raises(SourceError) as info,
    ):
        eng.sql("SELECT Rows FROM dicom_all")
    text = str(info.value)
    assert "'Rows'" in text and "not in the mirror" in text
    assert f"idcbq mirror --source {source}" in text and "--columns templates,Rows" in text
    # Validation sees the source's columns, so the query reaches this clear error.
    fields = DuckDBEngine.from_options(source=dest, idc_version="v25").table_fields(
        "idc_v25", "dicom_all"
    )
    assert "Rows" in {f.name for f in fields}


def test_job_refreshes_its_mirror_then_queries_it(source, tmp_path):
    from idcbq.jobs.runner import run_job
    from idcbq.jobs.spec import load_spec

    (tmp_path / "q.sql").write_text(
        "SELECT collection_id, PatientID, StudyInstanceUID, SeriesInstanceUID, SOPInstanceUID,\n"
        "  crdc_series_uuid, crdc_instance_uuid, gcs_url, instance_size, Modality\n"
        "FROM dicom_all WHERE collection_id = @c\n"
    )
    spec_path = tmp_path / "job.toml"
    spec_path.write_text(
        '[job]\nname = "m"\n[query]\nsql_file = "q.sql"\nparams = { c = "collection_001" }\n'
        '[engine]\nname = "duckdb"\n'
        f'[mirror]\ndest = "mirror"\nsource = "{source}"\n'
        '[outputs]\ndestination = "runs"\nresults = ["parquet"]\nmanifests = ["jsonl"]\n'
    )
    outcome = run_job(load_spec(spec_path))
    assert outcome.error is None, outcome.error
    record = outcome.record
    assert record["mirror"]["dataset"] == "idc_v25" and record["mirror"]["fetched"] == 8
    assert record["counts"]["rows"] == 2 * 40
    again = run_job(load_spec(spec_path))
    assert again.error is None, again.error
    record = again.record
    assert record["mirror"]["unchanged"] == 8 and record["mirror"]["fetched"] == 0


def test_mirror_records_footer_summaries_so_queries_open_only_matching_files(source, tmp_path):
    dest = tmp_path / "m"
    mirror(str(source), dest, progress=False)
    with DuckDBEngine.from_options(source=dest, idc_version="v25") as eng:
        files, pruned = eng._footer_files(
            "idc_v25", "dicom_all", {"collection_id": ["collection_002"]}
        )
    assert pruned and [Path(f).name for f in files] == [
        "000000000004.parquet",
        "000000000005.parquet",
    ]


def test_series_result_over_a_narrow_mirror_expands_to_a_full_manifest(source, tmp_path):
    """Whatever --columns says, a mirror keeps what manifest expansion reads."""
    from idcbq.manifest import write_manifest
    from idcbq.manifest.model import DICOM_ALL_COLUMNS

    dest = tmp_path / "mirror"
    mirror(str(source), dest, columns="SOPInstanceUID", progress=False)
    kept = set(pq.read_schema(next(dest.rglob("dicom_all/*.parquet"))).names)
    assert set(DICOM_ALL_COLUMNS) <= kept
    with DuckDBEngine.from_options(source=dest, idc_version="v25") as eng:
        series = eng.sql(
            "SELECT DISTINCT SeriesInstanceUID FROM dicom_all WHERE collection_id = $c",
            {"c": collection_name(1)},
        )
        out = tmp_path / "m.jsonl"
        info = write_manifest(series, out, format="jsonl", engine=eng)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    with DuckDBEngine.from_options(source=source, idc_version="v25") as eng:
        want = (
            eng.sql(
                "SELECT COUNT(*) AS n FROM dicom_all WHERE collection_id = $c",
                {"c": collection_name(1)},
            )
            .column("n")[0]
            .as_py()
        )
    assert len(rows) == info["instances"] == want > 0
    assert all(r["crdc_instance_uuid"] and r["license"] == "CC BY 4.0" for r in rows)


def _mix_collections(source: Path) -> tuple[str, str]:
    """Make file 0 hold two collections in each row group (as IDC's files often do)."""
    path = sorted(source.rglob("dicom_all/*.parquet"))[0]
    table = pq.read_table(path)
    ids = table.column("collection_id").to_pylist()
    other = collection_name(3)
    mixed = [other if i % 2 else c for i, c in enumerate(ids)]
    index = table.schema.get_field_index("collection_id")
    table = table.set_column(index, "collection_id", pa.array(mixed, pa.string()))
    pq.write_table(table, path, compression="zstd", row_group_size=SPEC.row_group_rows)
    return ids[0], other


def test_collections_keep_only_their_rows_when_row_groups_mix_them(source, tmp_path):
    wanted, other = _mix_collections(source)
    dest = tmp_path / "m"
    first = mirror(str(source), dest, columns="SOPInstanceUID", collections=[wanted])
    more = mirror(str(source), dest, columns="SOPInstanceUID,PatientSex", collections=[wanted])
    assert more.merged == first.fetched and more.fetched == 0  # new columns, same rows
    local = pq.read_table(dest / "bigquery_export/idc_v25/dicom_all")
    assert set(local["collection_id"].to_pylist()) == {wanted}
    assert _rows(dest, wanted) == _rows(source, wanted) != []
    assert _rows(dest, other) == []
    assert more.rows == len(_rows(source, wanted))
