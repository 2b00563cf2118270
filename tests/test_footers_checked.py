"""Footer checks of unchanged local files are remembered; any change checks again (issue 21 §3)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow as pa
import pytest

from idcbq.errors import SourceError
from idcbq.sources.checked import check_once, key_of
from idcbq.sources.exports import ExportRoot
from tests.tiny_export import dicom_all_table, write_table, write_tiny_export


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("IDCBQ_CACHE_DIR", str(tmp_path / "cache"))
    return write_tiny_export(tmp_path / "export", rows=40)


def _markers(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "cache" / "footers-checked").rglob("*"))


def test_a_pass_is_recorded_and_not_repeated(root: Path, tmp_path: Path) -> None:
    ExportRoot(root).table("idc_v25", "dicom_all")
    assert len([m for m in _markers(tmp_path) if m.is_file()]) == 1
    files = ExportRoot(root).files("idc_v25", "dicom_all")
    runs: list[int] = []
    check_once(files, lambda: runs.append(1))  # passed before: not run again
    assert runs == []
    check_once(files[:1], lambda: runs.append(1))  # other files: run, then recorded
    check_once(files[:1], lambda: runs.append(1))
    assert runs == [1]


def test_a_failure_is_never_recorded(root: Path, tmp_path: Path) -> None:
    files = ExportRoot(root).files("idc_v25", "dicom_all")

    def refuse() -> None:
        raise SourceError("bad footer")

    for _ in range(2):
        with pytest.raises(SourceError):
            check_once(files, refuse)
    assert not [m for m in _markers(tmp_path) if m.is_file()]


def test_a_replaced_file_is_checked_again(root: Path) -> None:
    ExportRoot(root).table("idc_v25", "dicom_all")  # passes, recorded
    table = dicom_all_table(30, seed=97)
    drifted = table.set_column(
        table.schema.get_field_index("instance_size"),
        "instance_size",
        table["instance_size"].cast(pa.string()),
    )
    target = root / "bigquery_export/idc_v25/dicom_all/000000000001.parquet"
    before = key_of(ExportRoot(root).files("idc_v25", "dicom_all"))
    write_table(root, "idc_v25", "dicom_all_tmp", [drifted])
    shutil.move(root / "bigquery_export/idc_v25/dicom_all_tmp/000000000000.parquet", target)
    assert key_of(ExportRoot(root).files("idc_v25", "dicom_all")) != before
    with pytest.raises(SourceError, match="instance_size"):
        ExportRoot(root).table("idc_v25", "dicom_all")
