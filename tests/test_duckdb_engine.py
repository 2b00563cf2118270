"""DuckDB engine on real Parquet exports: names, answers vs pyarrow, parameters, errors."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from idcbq.engines.base import PreparedQuery
from idcbq.engines.duckdb import DuckDBEngine
from idcbq.errors import ParameterError, QueryError
from idcbq.params import BoundParameter
from tests.tiny_export import read_table, write_tiny_export


@pytest.fixture(scope="module")
def tiny_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_export(tmp_path_factory.mktemp("tiny"))


@pytest.fixture(scope="module")
def engine(tiny_root: Path):
    with DuckDBEngine.from_options(source=tiny_root, idc_version="v25") as eng:
        yield eng


def modality_summary(table: pa.Table) -> dict[str, tuple[int, int]]:
    """Reference answer computed by pyarrow: {Modality: (rows, total instance_size)}."""
    grouped = table.group_by("Modality").aggregate(
        [("Modality", "count"), ("instance_size", "sum")]
    )
    return {
        m: (n, s)
        for m, n, s in zip(
            grouped["Modality"].to_pylist(),
            grouped["Modality_count"].to_pylist(),
            grouped["instance_size_sum"].to_pylist(),
            strict=True,
        )
    }


GROUP_BY = "SELECT Modality, count(*) AS n, sum(instance_size) AS size FROM {t} GROUP BY Modality"


def as_summary(result: pa.Table) -> dict[str, tuple[int, int]]:
    rows = result.to_pylist()
    return {r["Modality"]: (r["n"], r["size"]) for r in rows}


def test_group_by_matches_pyarrow(engine: DuckDBEngine, tiny_root: Path) -> None:
    result = engine.sql(GROUP_BY.format(t="dicom_all"))
    assert as_summary(result) == modality_summary(read_table(tiny_root, "idc_v25", "dicom_all"))
    # BigQuery's SUM(INT64) is INT64; DuckDB's HUGEINT must not leak out as a decimal.
    assert result.schema.field("size").type == pa.int64()


@pytest.mark.parametrize(
    ("name", "dataset"),
    [
        ("dicom_all", "idc_v25"),
        ("main.dicom_all", "idc_v25"),
        ("idc_v25.dicom_all", "idc_v25"),
        ("idc_current.dicom_all", "idc_current"),
        ('"bigquery-public-data".idc_v25.dicom_all', "idc_v25"),
        ('"bigquery-public-data".idc_current.dicom_all', "idc_current"),
    ],
)
def test_bigquery_names_resolve(
    engine: DuckDBEngine, tiny_root: Path, name: str, dataset: str
) -> None:
    result = engine.sql(GROUP_BY.format(t=name))
    assert as_summary(result) == modality_summary(read_table(tiny_root, dataset, "dicom_all"))


def test_pinned_current_and_clinical(tiny_root: Path) -> None:
    with DuckDBEngine.from_options(source=tiny_root, idc_version="current") as eng:
        got = eng.sql("SELECT SOPInstanceUID FROM dicom_all ORDER BY 1")["SOPInstanceUID"]
        want = read_table(tiny_root, "idc_current", "dicom_all")["SOPInstanceUID"]
        assert got.to_pylist() == sorted(want.to_pylist())
        short = eng.sql("SELECT * FROM clinical.nlst_prsn ORDER BY dicom_patient_id")
        full = eng.sql("SELECT * FROM idc_current_clinical.nlst_prsn ORDER BY dicom_patient_id")
        assert short.equals(full)
        assert full.num_rows == read_table(tiny_root, "idc_current_clinical", "nlst_prsn").num_rows
        # clinical tables are not unqualified (as on BigQuery)
        with pytest.raises(QueryError, match="nlst_prsn"):
            eng.sql("SELECT * FROM nlst_prsn")


def test_clinical_join_with_parameter(engine: DuckDBEngine, tiny_root: Path) -> None:
    sql = (
        "SELECT count(*) AS n FROM idc_v25.dicom_all d JOIN idc_v25_clinical.nlst_prsn c "
        "ON d.PatientID = c.dicom_patient_id WHERE d.Modality = $modality AND c.age_at_diagnosis >= $age"
    )
    query = PreparedQuery(
        "duckdb",
        sql,
        sql,
        (BoundParameter.of("modality", "STRING", "CT"), BoundParameter.of("age", "INT64", 50)),
    )
    dicom = read_table(tiny_root, "idc_v25", "dicom_all")
    clinical = read_table(tiny_root, "idc_v25_clinical", "nlst_prsn")
    old = set(
        pc.filter(clinical, pc.greater_equal(clinical["age_at_diagnosis"], 50))[
            "dicom_patient_id"
        ].to_pylist()
    )
    want = sum(
        1
        for m, p in zip(dicom["Modality"].to_pylist(), dicom["PatientID"].to_pylist(), strict=True)
        if m == "CT" and p in old
    )
    assert engine.execute(query).to_pylist() == [{"n": want}]


def test_values_are_bound_not_interpolated(engine: DuckDBEngine, tiny_root: Path) -> None:
    sql = "SELECT count(*) AS n FROM dicom_all WHERE list_contains(CAST($mods AS VARCHAR[]), Modality)"
    mods = ["CT", "SEG"]
    query = PreparedQuery("duckdb", sql, sql, (BoundParameter.of("mods", "ARRAY<STRING>", mods),))
    dicom = read_table(tiny_root, "idc_v25", "dicom_all")
    want = pc.sum(pc.is_in(dicom["Modality"], pa.array(mods))).as_py()
    assert engine.execute(query).to_pylist() == [{"n": want}]
    # a value that would break SQL text if pasted in is just a value
    evil = "CT' OR '1'='1"
    assert engine.sql(
        "SELECT count(*) AS n FROM dicom_all WHERE Modality = $m", {"m": evil}
    ).to_pylist() == [{"n": 0}]


def test_missing_parameter_is_named(engine: DuckDBEngine) -> None:
    with pytest.raises(ParameterError, match=r"\$modality"):
        engine.sql("SELECT * FROM dicom_all WHERE Modality = $modality")


def test_limit_wraps_without_editing(engine: DuckDBEngine) -> None:
    sql = "SELECT SOPInstanceUID FROM dicom_all ORDER BY SOPInstanceUID -- trailing comment\n;"
    full = engine.sql(sql)
    limited = engine.sql(sql, limit=5)
    assert limited.num_rows == 5
    assert limited.column(0).to_pylist() == full.column(0).to_pylist()[:5]


@pytest.mark.parametrize(
    ("sql", "match"),
    [
        ("CREATE TABLE t AS SELECT 1", "read-only"),
        ("COPY (SELECT 1) TO '/tmp/x.csv'", "read-only"),
        ("SELECT 1; SELECT 2", "one SQL statement"),
        ("SELECT Modalty FROM dicom_all", "Modalty"),
        ("SELEC 1", "parse|syntax"),
    ],
)
def test_bad_queries_raise_query_error(engine: DuckDBEngine, sql: str, match: str) -> None:
    with pytest.raises(QueryError, match=match) as info:
        engine.sql(sql)
    assert "Traceback" not in str(info.value)


def test_unknown_table_hint_lists_tables(engine: DuckDBEngine) -> None:
    with pytest.raises(QueryError) as info:
        engine.sql("SELECT * FROM idc_v25.no_such_table")
    assert "dicom_all" in (info.value.hint or "")


def test_projection_pushdown_in_plan(engine: DuckDBEngine) -> None:
    plan = engine.explain("SELECT Modality, count(*), sum(instance_size) FROM dicom_all GROUP BY 1")
    scan = plan[plan.index("READ_PARQUET") :]
    assert "Modality" in scan and "instance_size" in scan
    assert "Filler00" not in scan and "PatientID" not in scan


def test_table_fields_from_footers(engine: DuckDBEngine, tiny_root: Path) -> None:
    from idcbq.sources.schema import fields_from_arrow

    fields = engine.table_fields("idc_v25", "dicom_all")
    first = sorted((tiny_root / "bigquery_export/idc_v25/dicom_all").glob("*.parquet"))[0]
    assert fields == fields_from_arrow(pq.read_schema(first))
    by_name = {f.name: f for f in fields}
    assert by_name["PixelSpacing"].bigquery_type == "ARRAY<STRING>"
    assert by_name["AnatomicRegionSequence"].child("CodeValue") is not None
    assert engine.table_fields("idc_v25", "nope") is None
    assert engine.table_fields("clinical", "nlst_prsn") is not None
    assert engine.list_tables("idc_v25") == ["dicom_all", "version_metadata"]
    assert engine.list_tables("clinical") == ["nlst_prsn", "table_metadata"]


def test_prepare_transpiles_bigquery_sql(engine: DuckDBEngine, tiny_root: Path) -> None:
    sql = (
        "SELECT Modality, COUNT(*) AS n FROM `bigquery-public-data.idc_v25.dicom_all` "
        "WHERE Modality IN UNNEST(@mods) GROUP BY Modality"
    )
    prepared = engine.prepare(sql, [BoundParameter.of("mods", "ARRAY<STRING>", ["MR", "PT"])])
    assert prepared.engine == "duckdb" and prepared.source_sql == sql
    got = {r["Modality"]: r["n"] for r in engine.execute(prepared).to_pylist()}
    want = {
        m: n
        for m, (n, _) in modality_summary(read_table(tiny_root, "idc_v25", "dicom_all")).items()
        if m in ("MR", "PT")
    }
    assert got == want


def test_results_convert_to_pandas(engine: DuckDBEngine) -> None:
    frame = engine.sql("SELECT Modality, PixelSpacing FROM dicom_all", limit=3).to_pandas()
    assert list(frame.columns) == ["Modality", "PixelSpacing"] and len(frame) == 3


@pytest.mark.slow
def test_sample_per_modality_matches_pyarrow(sample_root: Path) -> None:
    with DuckDBEngine.from_options(source=sample_root) as eng:
        dataset = eng.idc_version.dataset
        got = as_summary(eng.sql(GROUP_BY.format(t="dicom_all")))
        table = pa.concat_tables(
            pq.read_table(p, columns=["Modality", "instance_size"])
            for p in sorted(
                (sample_root / "bigquery_export" / dataset / "dicom_all").glob("*.parquet")
            )
        )
        assert got == modality_summary(table)
        assert eng.sql(GROUP_BY.format(t="idc_v25.dicom_all")).num_rows == len(got)
        for table_name in eng.list_tables(eng.idc_version.clinical_dataset):
            assert eng.table_fields(eng.idc_version.clinical_dataset, table_name)


def test_engines_share_endpoint_defaults(monkeypatch):
    """DuckDB and googlesql read the same variables for S3/GCS endpoints (boto3's order)."""
    from idcbq.engines.base import default_endpoints

    monkeypatch.delenv("AWS_ENDPOINT_URL_S3", raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", "http://127.0.0.1:2")
    assert default_endpoints(None, None) == ("http://127.0.0.1:1", "http://127.0.0.1:2")
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:3")
    assert default_endpoints(None, "http://x:4") == ("http://127.0.0.1:3", "http://x:4")
