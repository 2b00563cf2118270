"""The Python API end to end on DuckDB over the sample export (real Parquet, no mocks)."""

from __future__ import annotations

from pathlib import Path

import pytest

import idcbq
from idcbq.errors import ParameterError, TemplateError, ValidationError

FIXTURES = Path(__file__).parent / "data" / "templates"


@pytest.fixture(scope="module")
def client(sample_root):
    with idcbq.connect("duckdb", source=sample_root, templates=[FIXTURES]) as c:
        yield c


def direct(client, sql: str) -> list[tuple]:
    """The same question asked in plain DuckDB SQL, bypassing idcbq's pipeline."""
    return [tuple(r.values()) for r in client.engine.sql(sql).to_pylist()]


def test_query_matches_direct_duckdb(client):
    result = client.query("test.series_by_modality", modalities=["CT", "MR"])
    expected = direct(
        client,
        "SELECT COUNT(DISTINCT SeriesInstanceUID), SUM(instance_size) FROM dicom_all "
        "WHERE Modality IN ('CT', 'MR')",
    )[0]
    table = result.to_arrow()
    assert table.num_rows == expected[0] > 0
    assert sum(table.column("series_size_bytes").to_pylist()) == expected[1]
    assert set(table.column("Modality").to_pylist()) <= {"CT", "MR"}
    prov = result.provenance()
    assert prov["template"] == "test.series_by_modality"
    assert prov["parameters"] == {"modalities": ["CT", "MR"], "collection_id": None}
    assert result.engine == "duckdb" and result.source == str(sample_root_of(client))
    assert "@modalities" in result.source_sql and "$modalities" in result.sql


def sample_root_of(client):
    return client.engine.source


def test_optional_filter_and_limit(client):
    some = client.query("test.series_by_modality", modalities=["CT"], limit=1).to_arrow()
    collection = some.column("collection_id")[0].as_py()
    filtered = client.query("test.series_by_modality", modalities=["CT"], collection_id=collection)
    (n,) = direct(
        client,
        f"SELECT COUNT(DISTINCT SeriesInstanceUID) FROM dicom_all WHERE Modality = 'CT' "
        f"AND collection_id = '{collection}'",  # test-side baseline only
    )[0]
    assert len(filtered) == n
    assert set(filtered.to_pandas()["collection_id"]) == {collection}


def test_every_fixture_template_runs_with_its_example(client):
    for tpl in client.templates:
        if tpl.name.startswith("test."):
            result = client.query(tpl.name, limit=5, **tpl.header.example_params())
            assert result.columns == list(tpl.header.output), tpl.name


def test_nested_unnest_template(client):
    result = client.query("test.seg_segments")
    (n,) = direct(
        client,
        "SELECT COUNT(*) FROM dicom_all, UNNEST(SegmentSequence) AS u(s) WHERE Modality = 'SEG'",
    )[0]
    assert len(result) == n


def test_sql_with_typed_and_inferred_params(client):
    res = client.sql(
        "SELECT Modality, COUNT(*) AS n FROM dicom_all WHERE Modality IN UNNEST(@m) GROUP BY 1",
        params={"m": ["CT", "MR"]},
    )
    expected = dict(
        direct(
            client,
            "SELECT Modality, COUNT(*) FROM dicom_all WHERE Modality IN ('CT','MR') GROUP BY 1",
        )
    )
    assert dict(zip(res.to_pandas()["Modality"], res.to_pandas()["n"], strict=True)) == expected
    typed = client.sql(
        "SELECT COUNT(*) AS n FROM dicom_all WHERE instance_size > @s",
        params={"s": 0},
        types={"s": "INT64"},
    )
    assert typed.to_arrow().column("n")[0].as_py() > 0


def test_render_gives_both_sqls(client):
    r = client.render("test.typed_filters", collection_id="x")
    assert "`bigquery-public-data.idc_current.dicom_all`" in r.bigquery_sql
    assert "$collection_id" in r.engine_sql and "@collection_id" not in r.engine_sql
    assert {p["name"] for p in r.param_table()} == {
        "min_instances",
        "min_slice_thickness",
        "collection_id",
        "with_size",
    }


def test_injection_attempt_is_only_a_value(client):
    evil = "x' OR '1'='1"
    result = client.query("test.typed_filters", collection_id=evil)
    assert len(result) == 0


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda c: c.query("test.series_by_modality"), ParameterError),
        (lambda c: c.query("test.series_by_modality", modalities="CT"), ParameterError),
        (
            lambda c: c.sql("SELECT * FROM dicom_all; DELETE FROM dicom_all WHERE TRUE"),
            ValidationError,
        ),
        (lambda c: c.sql("SELECT Modalty FROM dicom_all"), ValidationError),
        (lambda c: c.sql("SELECT * FROM dicom_all WHERE Modality = @m"), ValidationError),
        (lambda c: c.query("test.nope"), idcbq.errors.UsageError),
    ],
)
def test_errors_before_engine(client, call, error):
    with pytest.raises(error):
        call(client)


def test_broken_user_template_reports_file(tmp_path, sample_root):
    (tmp_path / "mine.bad.sql").write_text(
        "/*---\nname: mine.bad\ndescription: d\n---*/\nSELECT SeriesInstanceUID\nFROM {{ table('dicom_all') }}\nWHERE Modalty = 'CT'\n"
    )
    with (
        idcbq.connect("duckdb", source=sample_root, templates=[tmp_path]) as c,
        pytest.raises(ValidationError) as info,
    ):
        c.query("mine.bad")
    assert str(info.value).startswith(f"{tmp_path / 'mine.bad.sql'}:7:7: unknown column Modalty")
    assert isinstance(info.value, TemplateError)
