"""Unknown names through the CLI, on DuckDB and on the GoogleSQL engine (issue 17 l).

One rule: a name that is not an IDC table gets a did-you-mean and exit 2; a real IDC
table or release the source does not hold exits 6, naming what the source has and which
sources have it. IDC's display form of a collection and a near miss of a source name get
a did-you-mean too.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
ENGINES = ["duckdb", "googlesql"]


def _idcbq(*args: str, cwd: Path, sample: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "IDCBQ_SAMPLE_ROOT": str(sample)}
    for name in ("IDCBQ_SOURCE", "IDCBQ_ENGINE", "IDCBQ_IDC_VERSION"):
        env.pop(name, None)
    env["IDCBQ_CONFIG"] = os.devnull
    return subprocess.run(
        [sys.executable, "-m", "idcbq", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=300,
        check=False,
    )


@pytest.mark.parametrize("engine", ENGINES)
def test_unknown_table_gets_did_you_mean_and_exit_2(engine, sample_root, tmp_path):
    for sql in (
        "SELECT * FROM dicom_metadata_nope",
        "SELECT * FROM `bigquery-public-data.idc_current.dicom_metadata_nope`",
    ):
        out = _idcbq("sql", "--engine", engine, sql, cwd=tmp_path, sample=sample_root)
        assert out.returncode == 2, out.stderr
        assert "did you mean dicom_metadata" in out.stderr
        assert "Traceback" not in out.stderr


@pytest.mark.parametrize("engine", ENGINES)
def test_idc_table_the_source_lacks_exits_6_naming_what_it_has(engine, sample_root, tmp_path):
    out = _idcbq(
        "sql", "--engine", engine,
        "SELECT COUNT(*) FROM `bigquery-public-data.idc_current.dicom_pivot`",
        cwd=tmp_path, sample=sample_root,
    )  # fmt: skip
    assert out.returncode == 6, out.stderr
    assert "dicom_pivot is not in" in out.stderr
    assert "tables there: " in out.stderr and "dicom_all" in out.stderr
    assert "--engine bigquery" in out.stderr and "s3://idc-open-metadata" in out.stderr


@pytest.mark.parametrize("engine", ENGINES)
def test_release_the_source_lacks_exits_6(engine, sample_root, tmp_path):
    out = _idcbq(
        "sql", "--engine", engine, "SELECT COUNT(*) FROM idc_v99.dicom_all",
        cwd=tmp_path, sample=sample_root,
    )  # fmt: skip
    assert out.returncode == 6, out.stderr
    assert "idc_v99 is not in" in out.stderr
    assert "releases there: v2, v3, " in out.stderr and "v23, v24, v25, current" in out.stderr
    assert "--engine bigquery" in out.stderr


def test_display_form_of_a_collection_gets_did_you_mean(sample_root, tmp_path):
    out = _idcbq(
        "query", "summary.collections", "-p", "collection_ids=QIN-LUNG-CT",
        cwd=tmp_path, sample=sample_root,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "did you mean 'qin_lung_ct'?" in out.stderr


@pytest.mark.parametrize("engine", ENGINES)
def test_near_miss_of_a_source_name_gets_did_you_mean(engine, sample_root, tmp_path):
    out = _idcbq(
        "query", "summary.collections", "--engine", engine, "--source", "idc-indx",
        cwd=tmp_path, sample=sample_root,
    )  # fmt: skip
    assert out.returncode == 6, out.stderr
    assert "did you mean --source idc-index?" in out.stderr
    assert not (tmp_path / "idc-indx").exists()
