"""Export-root discovery and bad input: missing/corrupt files, versions, schema drift."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow as pa
import pytest

from idcbq.engines.duckdb import DuckDBEngine
from idcbq.errors import ExitCode, SourceError
from idcbq.sources.exports import ExportRoot
from idcbq.sources.location import ExportLocation
from tests.tiny_export import dicom_all_table, write_table, write_tiny_export


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return write_tiny_export(tmp_path / "export", rows=50)


def test_listing(root: Path) -> None:
    export = ExportRoot(root)
    assert export.datasets() == [
        "idc_current",
        "idc_current_clinical",
        "idc_v25",
        "idc_v25_clinical",
    ]
    assert export.tables("idc_v25_clinical") == ["nlst_prsn", "table_metadata"]
    files = export.files("idc_v25", "dicom_all")
    assert [Path(f).name for f in files] == ["000000000000.parquet", "000000000001.parquet"]
    assert export.files("idc_v25", "nope") == () and export.tables("idc_v99") == []
    # pointing at bigquery_export itself is the same root
    assert ExportRoot(root / "bigquery_export").datasets() == export.datasets()


def test_checked_table_schema(root: Path) -> None:
    export = ExportRoot(root)
    assert len(export.table("idc_v25", "dicom_all").files) == 2
    schema = export.arrow_schema("idc_v25", "dicom_all")
    assert schema.field("PixelSpacing").type == pa.list_(pa.string())


@pytest.mark.parametrize(
    ("text", "url", "scheme"),
    [
        ("s3://idc-open-metadata", "s3://idc-open-metadata", "s3"),
        ("s3://b/p/bigquery_export/", "s3://b/p", "s3"),
        ("gcs://b/p", "gs://b/p", "gs"),
    ],
)
def test_location_parse(text: str, url: str, scheme: str) -> None:
    loc = ExportLocation.parse(text)
    assert (loc.url, loc.scheme) == (url, scheme)


@pytest.mark.parametrize("text", ["ftp://x/y", "s3://", "s3:///"])
def test_location_rejects(text: str) -> None:
    with pytest.raises(SourceError):
        ExportLocation.parse(text)


def test_unknown_version_lists_what_exists(root: Path) -> None:
    with pytest.raises(SourceError) as info:
        DuckDBEngine.from_options(source=root, idc_version="v19")
    err = info.value
    assert (
        "v19" in err.message and "idc_v25" in (err.hint or "") and "idc_current" in (err.hint or "")
    )
    assert err.exit_code == ExitCode.SOURCE_ERROR


def test_garbage_version_rejected(root: Path) -> None:
    with pytest.raises(SourceError, match="unknown IDC version"):
        DuckDBEngine.from_options(source=root, idc_version="vNext")


def test_root_without_export(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no IDC export") as info:
        DuckDBEngine.from_options(source=tmp_path)
    assert str(tmp_path) in info.value.message


def test_root_without_dicom_all(root: Path) -> None:
    shutil.rmtree(root / "bigquery_export/idc_v25/dicom_all")
    with pytest.raises(SourceError, match="dicom_all") as info:
        DuckDBEngine.from_options(source=root, idc_version="v25")
    assert "idc_v25/dicom_all" in info.value.message
    assert "version_metadata" in (info.value.hint or "")


def _corrupt_variants(path: Path, how: str) -> None:
    data = path.read_bytes()
    if how == "garbage":
        path.write_bytes(b"not parquet at all" * 100)
    elif how == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif how == "empty":
        path.write_bytes(b"")


@pytest.mark.parametrize("how", ["garbage", "truncated", "empty"])
def test_corrupt_file_is_named(root: Path, how: str) -> None:
    bad = root / "bigquery_export/idc_current/dicom_all/000000000001.parquet"
    _corrupt_variants(bad, how)
    # opening pinned to v25 reads no idc_current data, so it still works ...
    with DuckDBEngine.from_options(source=root, idc_version="v25") as eng:
        assert eng.sql("SELECT count(*) AS n FROM dicom_all").to_pylist() == [{"n": 100}]
        # ... and the first use of the broken table names the file
        with pytest.raises(SourceError) as info:
            eng.sql("SELECT count(*) FROM idc_current.dicom_all")
    assert str(bad) in info.value.message
    assert "Traceback" not in str(info.value)


def test_file_deleted_after_open_is_source_error(root: Path) -> None:
    with DuckDBEngine.from_options(source=root, idc_version="v25", check_schema=False) as eng:
        eng.table_fields("idc_v25", "dicom_all")
        gone = root / "bigquery_export/idc_v25/dicom_all/000000000001.parquet"
        gone.unlink()
        with pytest.raises(SourceError) as info:
            eng.sql("SELECT count(*) FROM dicom_all")
    assert gone.name in info.value.message


def test_schema_drift_type_names_file_and_column(root: Path) -> None:
    table = dicom_all_table(30, seed=99)
    drifted = table.set_column(
        table.schema.get_field_index("instance_size"),
        "instance_size",
        table["instance_size"].cast(pa.string()),
    )
    folder = root / "bigquery_export/idc_v25/dicom_all"
    write_table(root, "idc_v25", "dicom_all_tmp", [drifted])
    target = folder / "000000000002.parquet"
    shutil.move(root / "bigquery_export/idc_v25/dicom_all_tmp/000000000000.parquet", target)
    with DuckDBEngine.from_options(source=root, idc_version="v25") as eng:
        with pytest.raises(SourceError) as info:
            eng.sql("SELECT count(*) FROM dicom_all")
        assert str(target) in info.value.message and "instance_size" in info.value.message
        with pytest.raises(SourceError, match="instance_size"):
            eng.table_fields("idc_v25", "dicom_all")


def test_schema_drift_missing_nested_column(root: Path) -> None:
    table = dicom_all_table(30, seed=98)
    seq = pa.array([[{"CodeValue": "1"}]] * 30, pa.list_(pa.struct([("CodeValue", pa.string())])))
    drifted = table.set_column(
        table.schema.get_field_index("AnatomicRegionSequence"), "AnatomicRegionSequence", seq
    )
    paths = write_table(root, "idc_current", "dicom_all_extra", [drifted])
    target = root / "bigquery_export/idc_current/dicom_all/000000000009.parquet"
    shutil.move(paths[0], target)
    with pytest.raises(SourceError) as info:
        ExportRoot(root).table("idc_current", "dicom_all")
    assert str(target) in info.value.message
    assert "AnatomicRegionSequence" in info.value.message and "CodeMeaning" in info.value.message
