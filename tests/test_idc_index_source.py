"""``--source idc-index``: the real series-level tables of idc-index-data, offline."""

from __future__ import annotations

import hashlib
import json

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

import idcbq
from idcbq.errors import ExitCode, SourceError, ValidationError
from idcbq.sources.idc_index import TABLE_FILES, package_dir, table_fields


def _cli():
    return __import__("idcbq.cli", fromlist=["cli"]).cli


@pytest.fixture(scope="module")
def index_client():
    with idcbq.connect(source="idc-index") as client:
        yield client


def test_cli_counts_every_series_of_idc():
    result = CliRunner().invoke(
        _cli(), ["sql", "--source", "idc-index", "--json", "SELECT COUNT(*) AS n FROM index"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == [{"n": 1044191}]


@pytest.mark.parametrize("table", sorted(TABLE_FILES))
def test_each_table_has_the_package_rows_and_schema(index_client, table):
    path = package_dir() / f"{TABLE_FILES[table]}.parquet"
    n = index_client.sql(f"SELECT COUNT(*) AS n FROM {table}").to_arrow().column("n")[0].as_py()
    assert n == pq.ParquetFile(path).metadata.num_rows
    declared = json.loads((package_dir() / f"{TABLE_FILES[table]}_schema.json").read_text())
    fields = table_fields(table)
    assert [f.name for f in fields] == [c["name"] for c in declared["columns"]]
    norm = {"INTEGER": "INT64", "FLOAT": "FLOAT64", "BOOLEAN": "BOOL"}
    for fld, col in zip(fields, declared["columns"], strict=True):
        assert fld.type == norm.get(col["type"], col["type"])
        assert fld.mode == col["mode"]
    got = index_client.sql(f"SELECT * FROM {table} LIMIT 1").to_arrow().schema.names
    assert got == [f.name for f in fields]


def test_idc_index_queries_run_unchanged(index_client):
    """SQL as idc-index users write it: filters, aggregates, joins between the tables."""
    rows = (
        index_client.sql(
            "SELECT i.collection_id, c.cancer_types, COUNT(*) AS series, "
            "ROUND(SUM(i.series_size_MB), 1) AS mb "
            "FROM index AS i JOIN collections_index AS c ON i.collection_id = c.collection_id "
            "WHERE i.Modality = @m AND i.analysis_result_id IS NULL "
            "GROUP BY 1, 2 ORDER BY series DESC, 1 LIMIT 3",
            params={"m": "MR"},
        )
        .to_arrow()
        .to_pylist()
    )
    assert len(rows) == 3 and rows[0]["series"] >= rows[1]["series"] > 0
    table = pq.read_table(
        package_dir() / "idc_index.parquet",
        columns=["collection_id", "Modality", "analysis_result_id"],
    ).to_pandas()
    mr = table[(table.Modality == "MR") & table.analysis_result_id.isna()]
    assert rows[0]["series"] == int(mr.collection_id.value_counts().iloc[0])


def test_nested_collection_sources_unnest(index_client):
    rows = (
        index_client.sql(
            "SELECT c.collection_id, s.source_doi, s.license.license_short_name AS lic "
            "FROM collections_index AS c, UNNEST(c.sources) AS s WHERE c.collection_id = 'nlst'"
        )
        .to_arrow()
        .to_pylist()
    )
    assert rows and all(r["collection_id"] == "nlst" and r["source_doi"] for r in rows)


def test_validator_knows_the_columns_and_tables(index_client):
    with pytest.raises(ValidationError, match="unknown column Nope"):
        index_client.sql("SELECT Nope FROM index")
    with pytest.raises(ValidationError, match="table dicom_all is not allowed") as info:
        index_client.sql("SELECT * FROM dicom_all")
    assert "prior_versions_index" in str(info.value.hint)


def test_versions(index_client):
    with idcbq.connect(source="idc-index", idc_version="v25") as client:
        n = (
            client.sql("SELECT COUNT(*) AS n FROM idc_v25.prior_versions_index")
            .to_arrow()
            .to_pylist()
        )
    assert n == [{"n": pq.ParquetFile(package_dir() / "prior_versions_index.parquet").metadata.num_rows}]  # fmt: skip
    with pytest.raises(SourceError, match="describe IDC v25 only, not v23"):
        idcbq.connect(source="idc-index", idc_version="v23")
    result = CliRunner().invoke(
        _cli(), ["sql", "--source", "idc-index", "--idc-version", "v23", "SELECT 1 FROM index"]
    )
    assert isinstance(result.exception, SourceError)
    assert result.exception.exit_code == ExitCode.SOURCE_ERROR


def test_results_become_series_level_manifests(index_client, tmp_path):
    result = index_client.sql(
        "SELECT collection_id, PatientID, StudyInstanceUID, SeriesInstanceUID, Modality, "
        "crdc_series_uuid, aws_bucket, series_aws_url, license_short_name FROM index "
        "WHERE collection_id = 'lidc_idri' ORDER BY SeriesInstanceUID LIMIT 5"
    )
    rows = result.to_arrow().to_pylist()
    from idcbq.manifest import write_manifest

    write_manifest(result, tmp_path / "m.s5cmd", format="s5cmd", provider="aws")
    lines = [x for x in (tmp_path / "m.s5cmd").read_text().splitlines() if x.startswith("cp ")]
    assert lines == [f"cp {r['series_aws_url']} ." for r in rows]
    write_manifest(result, tmp_path / "m.jsonl", format="jsonl")
    out = [json.loads(x) for x in (tmp_path / "m.jsonl").read_text().splitlines()]
    assert [o["url"] for o in out] == [f"gs://{r['aws_bucket']}/{r['crdc_series_uuid']}/*" for r in rows]  # fmt: skip
    for o, r in zip(out, rows, strict=True):
        assert o["dicomweb_series_url"].endswith(
            f"/studies/{r['StudyInstanceUID']}/series/{r['SeriesInstanceUID']}"
        )
        assert o["crdc_instance_uuid"] is None and o["dicomweb_instance_url"] is None


def test_series_without_location_cannot_make_a_manifest(index_client, tmp_path):
    from idcbq.errors import ManifestError
    from idcbq.manifest import write_manifest

    result = index_client.sql("SELECT Modality, collection_id FROM index LIMIT 2")
    with pytest.raises(ManifestError, match="crdc_series_uuid and a bucket"):
        write_manifest(result, tmp_path / "m.jsonl", format="jsonl")


def test_series_keys_are_looked_up_in_index(index_client, tmp_path):
    """A template result with only UIDs (cohort.series_by_collection) still makes a manifest."""
    from idcbq.manifest import write_manifest

    result = index_client.query("cohort.series_by_collection", collection_ids=["qin_lung_ct"])
    uids = set(result.to_arrow().column("SeriesInstanceUID").to_pylist())
    write_manifest(result, tmp_path / "m.parquet", format="parquet")
    table = pq.read_table(tmp_path / "m.parquet")
    assert set(table.column("SeriesInstanceUID").to_pylist()) == uids
    index = pq.read_table(
        package_dir() / "idc_index.parquet", columns=["SeriesInstanceUID", "crdc_series_uuid"]
    ).to_pandas()
    want = dict(zip(index.SeriesInstanceUID, index.crdc_series_uuid, strict=True))
    for row in table.to_pylist():
        assert row["crdc_series_uuid"] == want[row["SeriesInstanceUID"]]
        assert row["url"] == f"gs://{row['gcs_bucket']}/{row['crdc_series_uuid']}/*"
    # A manifest read back and written again keeps its series URLs (job runs do this).
    write_manifest(table, tmp_path / "again.jsonl", format="jsonl")
    again = [json.loads(x) for x in (tmp_path / "again.jsonl").read_text().splitlines()]
    assert [r["url"] for r in again] == table.column("url").to_pylist()


def test_results_file_downloads_through_bucket_listing(
    index_client, sample_root, gcs_server, tmp_path
):
    """idc-index rows -> results file -> `idcbq download`: series prefixes listed, files verified."""
    from idcbq.sources.sample.dicom_files import instance_bytes
    from idcbq.sources.sample.seed import seed_gcs, seed_rows

    report = seed_gcs(sample_root, gcs_server.url, series=3)
    assert report.mismatched == 0
    rows = seed_rows(sample_root, series=3)
    series = sorted({r["SeriesInstanceUID"] for r in rows})
    results = tmp_path / "series.parquet"
    out = CliRunner().invoke(
        _cli(),
        ["sql", "--source", "idc-index", "--out", str(results),
         "SELECT collection_id, PatientID, StudyInstanceUID, SeriesInstanceUID, Modality, "
         "crdc_series_uuid, aws_bucket FROM index WHERE SeriesInstanceUID IN UNNEST(@s)",
         "-p", f"s:ARRAY<STRING>={','.join(series)}"],
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    dest = tmp_path / "out"
    out = CliRunner().invoke(
        _cli(),
        ["download", str(results), "--dest", str(dest), "--endpoint", gcs_server.url, "-q",
         "--report", str(tmp_path / "r.json")],
    )  # fmt: skip
    assert out.exit_code == 0, out.output + repr(out.exception)
    rep = json.loads((tmp_path / "r.json").read_text())
    assert rep["downloaded"] == len(rows)
    want = {hashlib.md5(instance_bytes(r)).hexdigest() for r in rows}
    assert {hashlib.md5(p.read_bytes()).hexdigest() for p in dest.rglob("*.dcm")} == want


def test_googlesql_engine_reads_the_small_tables():
    from idcbq.engines.googlesql.runtime import zetasql_available

    assert zetasql_available(), "zetasql is a dependency of idcbq"
    sql = (
        "SELECT idc_version, version_timestamp FROM version_metadata_index "
        "WHERE idc_version >= @v ORDER BY idc_version"
    )
    got = {}
    for engine in ("duckdb", "googlesql"):
        with idcbq.connect(engine, source="idc-index") as client:
            got[engine] = client.sql(sql, params={"v": 20}).to_arrow().to_pylist()
    assert got["duckdb"] == got["googlesql"] and len(got["duckdb"]) == 6


# -- templates that also run on the idc-index tables ---------------------------------------


def test_summary_modalities_template_on_index(index_client):
    rows = {
        r["Modality"]: r for r in index_client.query("summary.modalities").to_arrow().to_pylist()
    }
    table = pq.read_table(
        package_dir() / "idc_index.parquet",
        columns=["Modality", "instanceCount", "series_size_MB", "collection_id"],
    ).to_pandas()
    ct = table[table.Modality == "CT"]
    assert rows["CT"]["series"] == len(ct)
    assert rows["CT"]["instances"] == int(ct.instanceCount.sum())
    assert rows["CT"]["collections"] == ct.collection_id.nunique()
    assert abs(rows["CT"]["size_bytes"] - ct.series_size_MB.sum() * 1e6) < 1e3


def test_series_by_collection_template_on_index(index_client):
    rows = index_client.query("cohort.series_by_collection", collection_ids=["qin_lung_ct"])
    rows = rows.to_arrow().to_pylist()
    table = pq.read_table(
        package_dir() / "idc_index.parquet", columns=["collection_id", "SeriesInstanceUID"]
    ).to_pandas()
    assert len(rows) == int((table.collection_id == "qin_lung_ct").sum()) > 0
    assert rows == sorted(
        rows, key=lambda r: (r["PatientID"], r["StudyInstanceUID"], r["SeriesInstanceUID"])
    )


def test_templates_without_index_branch_refuse_the_source(index_client):
    from idcbq.errors import TemplateError

    with pytest.raises(TemplateError, match="does not run on the idc-index tables"):
        index_client.query("cohort.series_by_modality", modalities=["CT"])


def test_templates_check_covers_the_index_branch(tmp_path):
    from idcbq.templates import TemplateCatalog

    path = next(
        t for t in TemplateCatalog.discover(()) if t.name == "cohort.series_by_collection"
    ).path
    src = path.read_text()
    bad = src.replace("instanceCount AS instance_count", "instance_cnt AS instance_count")
    bad = bad.replace("name: cohort.series_by_collection", "name: idxbad")
    (tmp_path / "idxbad.sql").write_text(bad)
    good = CliRunner().invoke(_cli(), ["templates", "check", str(path)])
    assert good.exit_code == 0, good.output
    result = CliRunner().invoke(_cli(), ["templates", "check", str(tmp_path / "idxbad.sql")])
    assert result.exit_code != 0
    assert "unknown column instance_cnt" in result.output + str(result.exception)


def test_templates_list_marks_index_templates_and_lists_sources():
    result = CliRunner().invoke(_cli(), ["templates", "list"])
    assert result.exit_code == 0, result.output
    assert "tables: dicom_all, index" in result.output
    for line in (
        "--source idc-index",
        "--transport dicomweb",
        "--engine bigquery",
        "s3://idc-open-metadata",
    ):
        assert line in result.output
