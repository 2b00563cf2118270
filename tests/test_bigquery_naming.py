"""Qualifying IDC table names in BigQuery SQL without touching anything else."""

from __future__ import annotations

import pytest

from idcbq.engines.bigquery.naming import qualify_tables
from idcbq.errors import ValidationError
from idcbq.sources.releases import IdcVersion

V25 = IdcVersion(25)
CURRENT = IdcVersion(None)


def q(sql, project="bigquery-public-data", version=V25):
    return qualify_tables(sql, data_project=project, idc_version=version)


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT * FROM dicom_all", "SELECT * FROM `bigquery-public-data.idc_v25.dicom_all`"),
        (
            "SELECT * FROM idc_current.dicom_all d",
            "SELECT * FROM `bigquery-public-data.idc_current.dicom_all` d",
        ),
        (
            "SELECT * FROM `idc_v22.dicom_all`",
            "SELECT * FROM `bigquery-public-data.idc_v22.dicom_all`",
        ),
        (
            "SELECT * FROM idc_v25_clinical.tcga_clinical",
            "SELECT * FROM `bigquery-public-data.idc_v25_clinical.tcga_clinical`",
        ),
        (
            "SELECT * FROM `bigquery-public-data.idc_v25.dicom_all`",
            "SELECT * FROM `bigquery-public-data.idc_v25.dicom_all`",
        ),
        ("SELECT * FROM `my-proj.other.t`", "SELECT * FROM `my-proj.other.t`"),
        ("SELECT * FROM other_ds.t", "SELECT * FROM other_ds.t"),
    ],
)
def test_qualify(sql, expected):
    assert q(sql) == expected


def test_version_decides_bare_names():
    assert q("SELECT 1 FROM dicom_all", version=CURRENT) == (
        "SELECT 1 FROM `bigquery-public-data.idc_current.dicom_all`"
    )


def test_mirror_project_replaces_public_project_for_idc_datasets_only():
    sql = "SELECT * FROM `bigquery-public-data.idc_v25.dicom_all` JOIN `bigquery-public-data.samples.shakespeare` ON TRUE"
    assert q(sql, project="mirror") == (
        "SELECT * FROM `mirror.idc_v25.dicom_all` JOIN `bigquery-public-data.samples.shakespeare` ON TRUE"
    )


def test_ctes_unnest_comments_strings_and_params_untouched():
    sql = (
        "# leading comment mentions dicom_all\n"
        "WITH dicom_all_ct AS (\n"
        "  SELECT * FROM dicom_all WHERE Modality = 'dicom_all' -- dicom_all\n"
        ")\n"
        'SELECT s.SegmentNumber, "x" AS y\n'
        "FROM dicom_all_ct AS d, UNNEST(d.SegmentSequence) AS s\n"
        "WHERE d.collection_id IN UNNEST(@ids)"
    )
    out = q(sql)
    assert out == sql.replace(
        "SELECT * FROM dicom_all WHERE",
        "SELECT * FROM `bigquery-public-data.idc_v25.dicom_all` WHERE",
    )


def test_same_table_twice_and_multiple_statements_positions():
    sql = "SELECT a.x FROM dicom_all a JOIN dicom_all b USING (x)"
    assert q(sql, project="p") == (
        "SELECT a.x FROM `p.idc_v25.dicom_all` a JOIN `p.idc_v25.dicom_all` b USING (x)"
    )


def test_unparseable_sql_is_a_validation_error():
    with pytest.raises(ValidationError, match="cannot parse"):
        q("SELECT FROM WHERE (")
