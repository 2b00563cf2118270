"""``idcbq.connect("bigquery", ...)`` on the BigQuery emulator holding the sample export."""

from __future__ import annotations

from pathlib import Path

import pytest

import idcbq
from idcbq.errors import CostCapError, ValidationError
from tests.cross_engine_support import rows, sort_key

FIXTURES = Path(__file__).parent / "data" / "templates"

pytestmark = pytest.mark.bigquery


@pytest.fixture(scope="module")
def bq(bq_sample):
    emu = bq_sample.emulator
    with idcbq.connect(
        "bigquery",
        api_endpoint=emu.url,
        project=emu.project,
        data_project=bq_sample.data_project,
        templates=[FIXTURES],
        location="US",
        use_bqstorage=False,
        progress=False,
    ) as client:
        yield client


@pytest.fixture(scope="module")
def duck(sample_root):
    with idcbq.connect("duckdb", source=sample_root, templates=[FIXTURES]) as client:
        yield client


def same(a, b) -> bool:
    return sorted(rows(a.to_arrow()), key=sort_key) == sorted(rows(b.to_arrow()), key=sort_key)


def test_connect_passes_bigquery_options_to_the_engine(bq, bq_sample):
    engine = bq.engine
    assert engine.name == "bigquery" and engine.data_project == bq_sample.data_project
    assert engine.location == "US" and engine.use_bqstorage is False and engine.progress is False


def test_query_template_matches_duckdb(bq, duck):
    result = bq.query("test.series_by_modality", modalities=["MR", "SEG"])
    assert result.engine == "bigquery" and len(result) > 0
    assert set(result.to_arrow().column("Modality").to_pylist()) == {"MR", "SEG"}
    assert same(result, duck.query("test.series_by_modality", modalities=["MR", "SEG"]))
    assert result.provenance()["template"] == "test.series_by_modality"
    frame = result.to_pandas()
    assert list(frame.columns) == ["SeriesInstanceUID", "Modality", "collection_id",
                                   "series_size_bytes"]  # fmt: skip


def test_sql_infers_types_from_python_values(bq, duck):
    sql = (
        "SELECT collection_id, COUNT(*) AS n FROM dicom_all "
        "WHERE Modality IN UNNEST(@m) AND instance_size >= @min GROUP BY collection_id"
    )
    params = {"m": ["CT", "PT"], "min": 1}
    result = bq.sql(sql, params=params)
    assert len(result) > 0
    assert same(result, duck.sql(sql, params=params))
    assert {p.name: str(p.type) for p in result.params} == {"m": "ARRAY<STRING>", "min": "INT64"}


def test_render_and_estimate_use_the_data_project(bq, bq_sample):
    rendered = bq.render("test.modality_counts")
    assert f"`{bq_sample.data_project}.idc_current.dicom_all`" in rendered.bigquery_sql
    assert rendered.engine == "bigquery"
    assert bq.estimate("test.modality_counts") == 0  # the emulator's dry run: 0 bytes
    assert bq.estimate("SELECT COUNT(*) AS n FROM dicom_all WHERE Modality = @m", m="CT") == 0


def test_validator_runs_before_bigquery(bq):
    with pytest.raises(ValidationError, match="unknown column Modalty"):
        bq.sql("SELECT Modalty FROM dicom_all")


def test_max_bytes_billed_refuses_over_cap(bq_sample):
    emu = bq_sample.emulator
    with idcbq.connect(
        "bigquery",
        api_endpoint=emu.url,
        project=emu.project,
        data_project=bq_sample.data_project,
        max_bytes_billed="1000",
        progress=False,
    ) as capped:
        with pytest.raises(CostCapError, match=r"1,000") as caught:
            capped.sql("SELECT COUNT(*) AS n FROM dicom_all")
        assert caught.value.exit_code == 3


def test_duckdb_ignores_bigquery_only_options(sample_root):
    with idcbq.connect(
        "duckdb", source=sample_root, max_bytes_billed=1, api_endpoint="http://127.0.0.1:9",
        use_bqstorage=False, location="US",
    ) as client:  # fmt: skip
        assert client.sql("SELECT COUNT(*) AS n FROM dicom_all").to_arrow()["n"][0].as_py() > 0
