"""Every IDC release from v2 on, offline: derived on first use from idc-index-data's history.

Expected memberships are recomputed here with SQL straight from idc-index-data's
``idc_index.parquet`` and ``prior_versions_index.parquet`` (not from the builder).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from idcbq.errors import ValidationError
from tests.child import run_idcbq
from tests.release_history import series_by_release

REPO = Path(__file__).resolve().parents[1]
RELEASES = ("v2", "v10", "v14", "v15", "v18", "v24", "current")


@pytest.fixture(scope="module")
def history(sample_root: Path) -> dict[int, dict[str, str]]:
    """Release -> {SeriesInstanceUID: crdc_series_uuid}, recomputed independently."""
    return series_by_release(sample_root, range(2, 26))


def _number(label: str) -> int:
    return 25 if label == "current" else int(label.removeprefix("v"))


def _idcbq(sample_root: Path, tmp_path: Path, *args: str) -> Any:
    env = {**os.environ, "PYTHONPATH": str(REPO), "IDCBQ_SAMPLE_ROOT": str(sample_root)}
    for name in ("IDCBQ_SOURCE", "IDCBQ_ENGINE", "IDCBQ_IDC_VERSION"):
        env.pop(name, None)
    env["IDCBQ_CONFIG"] = os.devnull
    return run_idcbq(*args, env=env, cwd=tmp_path, timeout=600)


SERIES_SQL = (
    "SELECT SeriesInstanceUID, ANY_VALUE(crdc_series_uuid) AS crdc_series_uuid "
    "FROM dicom_all GROUP BY SeriesInstanceUID"
)


@pytest.mark.parametrize("label", RELEASES)
def test_api_release_holds_the_series_versions_idc_served(
    sample_root: Path, history: dict[int, dict[str, str]], label: str
) -> None:
    from idcbq.api import connect

    with connect(source=sample_root, idc_version=label) as client:
        result = client.sql(SERIES_SQL)
    got = {r["SeriesInstanceUID"]: r["crdc_series_uuid"] for r in result.to_arrow().to_pylist()}
    assert got == history[_number(label)]
    dataset = "idc_current" if label == "current" else f"idc_{label}"
    assert result.provenance()["idc_datasets"] == [dataset]


@pytest.mark.parametrize("label", ["v2", "v10", "v14", "v15", "v18", "v24"])
def test_cli_release_by_name_and_by_flag(
    sample_root: Path, history: dict[int, dict[str, str]], label: str, tmp_path: Path
) -> None:
    count = "SELECT COUNT(DISTINCT SeriesInstanceUID) AS n FROM {}"
    named = _idcbq(
        sample_root, tmp_path, "sql", "--format", "json",
        count.format(f"`bigquery-public-data.idc_{label}.dicom_all`"),
    )  # fmt: skip
    assert named.returncode == 0, named.stderr
    flag = _idcbq(
        sample_root, tmp_path, "sql", "--idc-version", label,
        count.format("dicom_all"), "--out", str(tmp_path / "n.json"),
    )  # fmt: skip
    assert flag.returncode == 0, flag.stderr
    expected = len(history[_number(label)])
    assert json.loads(named.stdout)[0]["n"] == expected
    assert json.loads((tmp_path / "n.json").read_text())[0]["n"] == expected
    provenance = json.loads((tmp_path / "n.json.provenance.json").read_text())
    assert provenance["idc_version"] == label and provenance["idc_datasets"] == [f"idc_{label}"]


def test_release_v1_is_refused_naming_the_releases_there(sample_root: Path, tmp_path: Path):
    out = _idcbq(sample_root, tmp_path, "sql", "SELECT COUNT(*) FROM idc_v1.dicom_all")
    assert out.returncode == 6, out.stderr
    assert "idc_v1 is not in" in out.stderr and "cannot derive IDC v1" in out.stderr
    assert "releases there: v2, v3," in out.stderr and "v24, v25, current" in out.stderr
    flag = _idcbq(sample_root, tmp_path, "sql", "--idc-version", "v1", "SELECT 1 FROM dicom_all")
    assert flag.returncode == 6 and "cannot derive IDC v1" in flag.stderr


def test_columns_follow_each_releases_evidence(sample_root: Path, tmp_path: Path) -> None:
    from idcbq.api import connect

    out = _idcbq(
        sample_root, tmp_path, "sql",
        "SELECT Versioned_Source_DOI FROM `bigquery-public-data.idc_v15.dicom_all`",
    )  # fmt: skip
    assert out.returncode == 2, out.stderr
    assert "idc_v15.dicom_all has no Versioned_Source_DOI: IDC added it" in out.stderr
    # The duplicates IDC dropped in v20 are there before, with the values they duplicated.
    with connect(source=sample_root, idc_version="v14") as client:
        rows = (
            client.sql(
                "SELECT COUNTIF(idc_webapp_collection_id != collection_id) AS differ, "
                "COUNT(*) AS n FROM dicom_all"
            )
            .to_arrow()
            .to_pylist()
        )
    assert rows[0]["n"] > 0 and rows[0]["differ"] == 0
    with (
        connect(source=sample_root, idc_version="v24") as client,
        pytest.raises(ValidationError, match="IDC removed it from dicom_all after v19"),
    ):
        client.sql("SELECT idc_webapp_collection_id FROM dicom_all")


def test_clinical_datasets_start_at_v11(sample_root: Path, tmp_path: Path) -> None:
    out = _idcbq(
        sample_root, tmp_path, "sql", "SELECT COUNT(*) FROM idc_v10_clinical.table_metadata"
    )
    assert out.returncode == 6, out.stderr
    assert "clinical datasets start at v11" in out.stderr
    ok = _idcbq(
        sample_root, tmp_path, "sql", "SELECT COUNT(*) AS n FROM idc_v14_clinical.table_metadata"
    )
    assert ok.returncode == 0, ok.stderr


def test_releases_command_lists_every_release(sample_root: Path, tmp_path: Path) -> None:
    text = _idcbq(sample_root, tmp_path, "releases")
    assert text.returncode == 0, text.stderr
    expected = [f"idc_v{n}" for n in range(2, 26)] + ["idc_current"]
    assert text.stdout.split() == expected
    assert "idc_current is idc_v25" in text.stderr
    listed = _idcbq(sample_root, tmp_path, "releases", "--json", "--source", str(sample_root))
    assert listed.returncode == 0, listed.stderr
    items = json.loads(listed.stdout)
    assert [i["dataset"] for i in items] == expected
    by_name = {i["dataset"]: i for i in items}
    assert by_name["idc_current"]["same_as"] == "idc_v25"
    assert by_name["idc_v10"]["clinical_dataset"] is None
    assert by_name["idc_v11"]["clinical_dataset"] == "idc_v11_clinical"
    missing = _idcbq(sample_root, tmp_path, "releases", "--source", str(tmp_path / "nope"))
    assert missing.returncode == 6 and "no IDC export here" in missing.stderr


def test_googlesql_agrees_on_an_earlier_release(sample_root: Path) -> None:
    from idcbq.api import connect

    sql = (
        "SELECT collection_id, Modality, COUNT(DISTINCT SeriesInstanceUID) AS series, "
        "SUM(instance_size) AS bytes FROM `bigquery-public-data.idc_v14.dicom_all` "
        "GROUP BY collection_id, Modality ORDER BY collection_id, Modality"
    )
    results = {}
    for engine in ("duckdb", "googlesql"):
        with connect(source=sample_root, engine=engine, idc_version="current") as client:
            results[engine] = client.sql(sql).to_arrow().to_pylist()
    assert results["duckdb"] and results["duckdb"] == results["googlesql"]
