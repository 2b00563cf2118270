"""Validation of rendered BigQuery SQL: each rejection names file, line, column, snippet."""

from __future__ import annotations

import pytest

from idcbq.errors import ValidationError
from idcbq.params import BoundParameter
from idcbq.validate import TableAllowList, check, validate

P = [
    BoundParameter.of("mods", "ARRAY<STRING>", ["CT"]),
    BoundParameter.of("c", "STRING", "nlst"),
]

GOOD = [
    "SELECT SeriesInstanceUID FROM dicom_all WHERE Modality IN UNNEST(@mods)",
    "SELECT d.SeriesInstanceUID FROM `bigquery-public-data.idc_v25.dicom_all` AS d WHERE d.collection_id = @c",
    "WITH s AS (SELECT SeriesInstanceUID, SegmentSequence FROM idc_current.dicom_all)\n"
    "SELECT s.SeriesInstanceUID, seg.SegmentLabel FROM s, UNNEST(s.SegmentSequence) AS seg",
    "SELECT Modality, COUNT(*) AS n FROM dicom_all GROUP BY Modality ORDER BY n DESC",
    "SELECT d.PatientID, c.anything FROM dicom_all d JOIN idc_v25_clinical.nlst_prsn c "
    "ON d.PatientID = c.dicom_patient_id AND d.collection_id = 'nlst'",
    "SELECT SeriesInstanceUID FROM dicom_all d, d.PixelSpacing ps",
    "SELECT x.n FROM (SELECT COUNT(*) AS n FROM dicom_all) x",
    "SELECT a FROM (SELECT * FROM dicom_all) AS t",  # star: undecidable, not rejected
    "SELECT SeriesInstanceUID FROM dicom_all UNION ALL SELECT SeriesInstanceUID FROM idc_v20.dicom_all",
    "SELECT table_name FROM idc_current_clinical.column_metadata;",
    # the WITH OFFSET alias is a column of the UNNEST source, next to the struct's fields
    "SELECT ARRAY(SELECT s.SegmentLabel FROM UNNEST(d.SegmentSequence) AS s WITH OFFSET AS pos "
    "ORDER BY pos) FROM dicom_all d",
]


@pytest.mark.parametrize("sql", GOOD)
def test_accepts_read_only_idc_queries(sql):
    result = validate(sql, params=P)
    assert result.tables


BAD = [
    # (sql, message fragment, line, column)
    ("SELECT Modalty FROM dicom_all", "unknown column Modalty", 1, 8),
    (
        "SELECT d.SeriesInstanceUid, d.Modalty\nFROM dicom_all d",
        "unknown column Modalty in d",
        1,
        29,
    ),
    ("SELECT s.SegmentLabl FROM dicom_all d, UNNEST(d.SegmentSequence) s", "SegmentLabl", 1, 8),
    (
        "SELECT ARRAY(SELECT s.SegmentLabel FROM UNNEST(d.SegmentSequence) AS s WITH OFFSET AS pos "
        "ORDER BY ps) FROM dicom_all d",
        "unknown column ps",
        1,
        100,
    ),
    ("SELECT *\nFROM evil.t", "table evil.t is not allowed", 2, 6),
    (
        "WITH x AS (SELECT * FROM `other-proj.idc_v25.dicom_all`)\nSELECT * FROM x",
        "other-proj.idc_v25.dicom_all",
        1,
        26,
    ),
    (
        "SELECT * FROM dicom_all WHERE SOPInstanceUID IN (\n  SELECT id FROM secret.ids)",
        "secret.ids",
        2,
        18,
    ),
    ("SELECT * FROM dicom_all d\nJOIN mydata.t USING (PatientID)", "mydata.t", 2, 6),
    ("SELECT * FROM dicom_all /* FROM evil.t */ WHERE collection_id = @nope", "@nope", 1, 65),
    ("DELETE FROM dicom_all WHERE TRUE", "read-only", 1, 1),
    ("SELECT 1;\nDROP TABLE x", "2 statements", 2, 1),
    ("INSERT INTO t SELECT 1", "read-only", 1, 1),
    ("CREATE TABLE t AS SELECT 1", "read-only", 1, 1),
    ("EXPORT DATA OPTIONS(uri='gs://b/*') AS SELECT 1", "EXPORT DATA", 1, 1),
    ("MERGE t USING s ON t.a = s.a WHEN MATCHED THEN DELETE", "read-only", 1, 1),
    ("DECLARE x INT64 DEFAULT 1;\nSELECT x", "2 statements", 2, 1),
    ("EXECUTE IMMEDIATE 'SELECT 1'", "read-only", 1, 1),
    ("CALL proc()", "read-only", 1, 1),
    ("SET x = 1", "read-only", 1, 1),
    ("SELECT getenv('HOME')", "getenv", 1, 8),
    ("SELECT *\n  FROM read_parquet('/etc/passwd')", "not allowed", 2, 8),
    ("SELECT * FROM EXTERNAL_QUERY('conn', 'SELECT 1')", "not allowed", 1, 15),
    ("SELECT @@project_id", "system variable", 1, 8),
    ("SELECT FROM WHERE", "syntax error", 1, 13),
    ("SELECT * FROM `idc_current.INFORMATION_SCHEMA.COLUMNS`", "not allowed", 1, 15),
]


@pytest.mark.parametrize(("sql", "fragment", "line", "column"), BAD)
def test_rejects_with_location(sql, fragment, line, column):
    with pytest.raises(ValidationError) as info:
        validate(sql, params=P)
    err = info.value
    assert fragment in str(err)
    assert (err.location.line, err.location.column) == (line, column), str(err)
    assert err.location.snippet == sql.splitlines()[line - 1]
    assert err.exit_code == 2


def test_did_you_mean():
    with pytest.raises(ValidationError) as info:
        validate("SELECT SeriesInstanceUid, Modalty FROM dicom_all")
    assert info.value.hint == "did you mean Modality?"


def test_user_declared_tables_and_data_project():
    sql = "SELECT * FROM `my-proj.cohorts.selected` s JOIN dicom_all d USING (SeriesInstanceUID)"
    with pytest.raises(ValidationError, match=r"my-proj\.cohorts\.selected"):
        validate(sql)
    validate(sql, allowed_tables=["my-proj.cohorts.selected"])
    mirror = "SELECT * FROM `mirror.idc_v25.dicom_all`"
    with pytest.raises(ValidationError):
        validate(mirror)
    validate(mirror, data_project="mirror")
    allow = TableAllowList(data_project="mirror")
    assert allow.resolve("bigquery-public-data", "idc_v25", "dicom_all") is None


def test_check_lists_every_problem():
    _, problems = check("SELECT 1 FROM evil.a, evil.b WHERE x = @undeclared")
    messages = [p.message for p in problems]
    assert len(problems) == 3, messages
    with pytest.raises(ValidationError, match=r"and 2 more"):
        validate("SELECT 1 FROM evil.a, evil.b WHERE x = @undeclared")


def test_parameter_type_is_rechecked():
    bad = BoundParameter(name="c", type=BoundParameter.of("c", "INT64", 1).type, value="one")
    with pytest.raises(ValidationError, match="INT64"):
        validate("SELECT * FROM dicom_all WHERE instance_size > @c", params=[bad])


def test_validation_does_not_rewrite_sql():
    sql = "SELECT SeriesInstanceUID AS `UID` FROM dicom_all"
    assert validate(sql).sql == sql


@pytest.mark.parametrize("sql", ["SELECT FROM", "DECLARE x INT64;\nSELECT FROM"])
def test_a_query_cut_short_says_so_in_the_users_words(sql):
    # sqlglot names the end of input by its internal SENTINEL token
    with pytest.raises(ValidationError) as info:
        validate(sql, params=P)
    message = str(info.value).splitlines()[0]
    assert "the end of the query" in message and "SENTINEL" not in message, message
