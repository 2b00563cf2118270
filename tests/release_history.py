"""Which version of each sample series a release holds, recomputed from idc-index-data.

The sample derives old releases from idc-index-data's version history; tests check it
against this independent computation with plain DuckDB SQL over the same files.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import duckdb

from idcbq.sources.sample.source import source_files


def export_table(root: Path, dataset: str, table: str) -> str:
    """The Parquet glob of one table of the sample's BigQuery export."""
    return str(root / "bigquery_export" / dataset / table / "*.parquet")


def series_by_release(sample_root: Path, releases: Iterable[int]) -> dict[int, dict[str, str]]:
    """Release -> {SeriesInstanceUID: crdc_series_uuid} of the sample's current series.

    A series is in a release in its current version from its revision on, else in the
    prior version whose [min, max] release range holds that release.
    """
    src = source_files()
    con = duckdb.connect()
    con.execute(
        f"""CREATE VIEW cur AS
            SELECT i.* FROM read_parquet('{src.path("idc_index.parquet")}') i
            WHERE SeriesInstanceUID IN (SELECT SeriesInstanceUID FROM
                  read_parquet('{export_table(sample_root, "idc_v25", "dicom_all")}'))"""
    )
    out: dict[int, dict[str, str]] = {}
    for release in releases:
        rows = con.execute(
            f"""
            SELECT SeriesInstanceUID, crdc_series_uuid FROM cur
            WHERE series_revised_idc_version <= $r
            UNION ALL
            SELECT p.SeriesInstanceUID, p.crdc_series_uuid
            FROM read_parquet('{src.path("prior_versions_index.parquet")}') p
            JOIN cur USING (SeriesInstanceUID)
            WHERE cur.series_revised_idc_version > $r AND cur.series_init_idc_version <= $r
              AND $r BETWEEN p.min_idc_version AND p.max_idc_version
            """,
            {"r": release},
        ).fetchall()
        out[release] = dict(rows)
    con.close()
    return out
