"""Analysis against only the columns a query names gives the full schema's answer.

ZetaSQL's analysis time grows with the scanned tables' columns (``dicom_all`` has over
800), so the analyzer sees only the columns a query names
(:mod:`idcbq.engines.googlesql.ast_names`). Each query below is analyzed both ways
with real ZetaSQL; the verdicts and GoogleSQL's output types must be identical.
"""

from __future__ import annotations

import dataclasses

import pytest

from idcbq.engines.googlesql import analysis
from idcbq.engines.googlesql.output_types import output_types
from idcbq.errors import ValidationError
from idcbq.sources.releases import IdcVersion
from idcbq.validate.columns import reference_schema
from idcbq.validate.googlesql import make_resolver

pytest.importorskip("zetasql")

QUERIES = [
    "SELECT COUNT(*) AS n FROM dicom_all",
    "SELECT Modality, COUNT(*) AS n FROM dicom_all GROUP BY Modality ORDER BY n",
    "SELECT * FROM dicom_all LIMIT 1",
    "SELECT * EXCEPT (Modality) FROM dicom_all LIMIT 1",
    "SELECT d.* FROM dicom_all AS d LIMIT 1",
    "SELECT dicom_all FROM dicom_all LIMIT 1",
    "SELECT TO_JSON_STRING(d) AS j FROM dicom_all AS d LIMIT 1",
    "SELECT d.modality, D.SERIESINSTANCEUID FROM dicom_all AS d",
    "SELECT SeriesInstanceUID FROM dicom_all JOIN dicom_all AS b USING (SOPInstanceUID)",
    "SELECT PixelSpacing[SAFE_OFFSET(0)] AS ps FROM dicom_all",
    "SELECT x FROM dicom_all, UNNEST(PixelSpacing) AS x",
    "SELECT (SELECT COUNT(*) FROM dicom_all AS i WHERE i.PatientID = o.PatientID) AS n "
    "FROM dicom_all AS o",
    "WITH s AS (SELECT * FROM dicom_all) SELECT Modality FROM s",
    "SELECT Modality FROM dicom_all |> WHERE Modality = 'CT'",
    "FROM dicom_all |> AGGREGATE COUNT(*) AS n GROUP BY Modality",
    "SELECT Modalty FROM dicom_all",
    "SELECT Modality FROM dicom_all WHERE instance_size = 'abc'",
]


def _both_ways(sql: str) -> tuple[object, object]:
    resolver = make_resolver(reference_schema, IdcVersion.parse("current"), "bigquery-public-data")
    found: dict = {}

    def resolve(parts):
        hit = resolver(parts)
        if hit is None:
            return None
        found[hit[0]] = hit
        return hit[0]

    rewritten, unknown = analysis.rewrite(sql, resolve)
    assert not unknown
    tables = {analysis.flat_name(key): fields for key, (_k, fields) in found.items()}
    answers = []
    for columns in (rewritten.columns, None):
        one = dataclasses.replace(rewritten, columns=columns)
        try:
            resolved, _ids, _t = analysis.resolve_statement(one, sql, tables)
        except ValidationError as exc:
            answers.append(("refused", exc.message))
        else:
            answers.append(("ok", repr(output_types(resolved))))
    return answers[0], answers[1]


@pytest.mark.parametrize("sql", QUERIES)
def test_narrowed_analysis_equals_full_analysis(sql):
    narrowed, full = _both_ways(sql)
    assert narrowed == full


@pytest.mark.parametrize(
    "sql, reaches_all",
    [
        ("SELECT COUNT(*) FROM t", False),
        ("SELECT a * 2 FROM t", False),
        ("SELECT * FROM t", True),
        ("SELECT t.* FROM t", True),
        ("SELECT * REPLACE (1 AS a) FROM t", True),
        ("SELECT t FROM t", True),
        ("SELECT x FROM t AS x", True),
        ("SELECT x.a FROM t AS x", False),
        ("FROM t |> WHERE a = 1", True),
    ],
)
def test_named_columns_says_when_a_query_reaches_unnamed_columns(sql, reaches_all):
    parsed = analysis.ParsedSQL(sql)
    assert (parsed.columns is None) is reaches_all
    if not reaches_all:
        assert "a" in parsed.columns or "count" in parsed.columns


def test_narrowing_is_what_makes_dicom_all_analysis_small():
    parsed = analysis.ParsedSQL("SELECT Modality FROM dicom_all WHERE PatientID = 'x'")
    fields = reference_schema("idc_current", "dicom_all")
    narrowed = analysis.narrow_tables({"t": fields}, parsed.columns)["t"]
    assert sorted(f.name for f in narrowed) == ["Modality", "PatientID"]
    assert len(fields) > 100
