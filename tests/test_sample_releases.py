"""Earlier IDC releases in the sample follow idc-index-data's real version history."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest

from idcbq.jobs.diff import diff_cohorts
from tests.release_history import export_table, series_by_release

SERIES_SQL = """
SELECT SeriesInstanceUID, ANY_VALUE(crdc_series_uuid) AS crdc_series_uuid,
       MAX(series_revised_idc_version) AS series_revised_idc_version
FROM dicom_all GROUP BY SeriesInstanceUID
"""


@pytest.fixture(scope="module")
def expected(sample_root: Path) -> dict[int, dict[str, str]]:
    """Series -> crdc_series_uuid of releases 23 and 24, recomputed independently."""
    return series_by_release(sample_root, (23, 24))


@pytest.fixture(scope="module")
def clients(sample_root: Path):
    from idcbq.api import connect

    opened = {v: connect(source=sample_root, idc_version=v) for v in ("v23", "v24", "current")}
    yield opened
    for c in opened.values():
        c.close()


def _rows(result: Any) -> list[dict[str, Any]]:
    table = result.to_arrow() if hasattr(result, "to_arrow") else result.table
    return table.to_pylist()


def test_prior_releases_hold_the_versions_idc_served(
    sample_root: Path, expected: dict[int, dict[str, str]]
) -> None:
    for release in (23, 24):
        got = duckdb.sql(
            f"SELECT SeriesInstanceUID, ANY_VALUE(crdc_series_uuid) FROM "
            f"read_parquet('{export_table(sample_root, f'idc_v{release}', 'dicom_all')}') GROUP BY 1"
        ).fetchall()
        assert dict(got) == expected[release]
    # Some series were revised in v25: their v24 files are other objects.
    current = dict(
        duckdb.sql(
            f"SELECT SeriesInstanceUID, ANY_VALUE(crdc_series_uuid) FROM "
            f"read_parquet('{export_table(sample_root, 'idc_v25', 'dicom_all')}') GROUP BY 1"
        ).fetchall()
    )
    revised = [uid for uid, uuid in expected[24].items() if current[uid] != uuid]
    assert revised
    urls = duckdb.sql(
        f"""SELECT a.gcs_url = b.gcs_url FROM
            read_parquet('{export_table(sample_root, "idc_v24", "dicom_all")}') a
            JOIN read_parquet('{export_table(sample_root, "idc_v25", "dicom_all")}') b
            USING (SOPInstanceUID) WHERE a.SeriesInstanceUID = '{revised[0]}'"""
    ).fetchall()
    assert urls and not any(same for (same,) in urls)
    # An unchanged series version is the same files: same instances, sizes and hashes.
    a, b = (export_table(sample_root, d, "dicom_all") for d in ("idc_v24", "idc_v25"))
    per_version = f"""SELECT crdc_series_uuid, SOPInstanceUID, instance_size, instance_hash,
                             crdc_instance_uuid FROM read_parquet('{{}}')
                      WHERE crdc_series_uuid IN (SELECT crdc_series_uuid FROM read_parquet('{a}')
                                                 INTERSECT
                                                 SELECT crdc_series_uuid FROM read_parquet('{b}'))"""
    older = sorted(duckdb.sql(per_version.format(a)).fetchall())
    assert older and older == sorted(duckdb.sql(per_version.format(b)).fetchall())


def test_prior_release_tables_and_versions(sample_root: Path) -> None:
    export = sample_root / "bigquery_export"
    for dataset in ("idc_v23", "idc_v24"):
        assert sorted(p.name for p in (export / dataset).iterdir()) == sorted(
            p.name for p in (export / "idc_v25").iterdir()
        )
        assert (export / f"{dataset}_clinical" / "table_metadata").is_dir()
    versions = pq.read_table(export / "idc_v23" / "version_metadata").column("idc_version")
    assert max(versions.to_pylist()) == 23


def test_idc_version_selects_the_release(clients: dict[str, Any]) -> None:
    (v23,) = _rows(clients["v23"].sql("SELECT MAX(series_revised_idc_version) AS r FROM dicom_all"))
    (cur,) = _rows(
        clients["current"].sql("SELECT MAX(series_revised_idc_version) AS r FROM dicom_all")
    )
    assert v23["r"] <= 23 < cur["r"]


def test_series_new_since_and_job_diff_show_real_changes(clients: dict[str, Any]) -> None:
    new_v24 = _rows(clients["v24"].query("cohort.series_new_since", since_version=24))
    new_cur = _rows(clients["current"].query("cohort.series_new_since", since_version=24))
    assert new_v24 == [] and new_cur
    changes = {r["change"] for r in new_cur}
    assert "revised" in changes and changes <= {"new", "revised"}
    old = clients["v23"].sql(SERIES_SQL)
    cur = clients["current"].sql(SERIES_SQL)
    table = lambda r: r.to_arrow() if hasattr(r, "to_arrow") else r.table  # noqa: E731
    diff = diff_cohorts(table(old), table(cur))
    by_change = {c: {r["SeriesInstanceUID"] for r in new_cur if r["change"] == c} for c in changes}
    assert set(diff.revised) == by_change["revised"]
    assert by_change.get("new", set()) <= set(diff.added)
    assert diff.unchanged > 0
