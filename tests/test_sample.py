"""The derived sample export: grain, IDC columns, nesting, other tables, clinical, labels."""

from __future__ import annotations

import io
import json
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from idcbq.sources.sample.dicom_all import dicom_all_sample_fields, prune_empty_records
from idcbq.sources.sample.ids import AWS_TO_GCS_BUCKET
from idcbq.sources.schema import OTHER_TABLES, arrow_schema, dicom_all_field, other_table_fields

V = "idc_v25"


def _glob(root: Path, dataset: str, table: str) -> str:
    return str(root / "bigquery_export" / dataset / table / "*.parquet")


@pytest.fixture(scope="module")
def con(sample_root: Path) -> duckdb.DuckDBPyConnection:
    c = duckdb.connect()
    for dataset in (V, f"{V}_clinical", "idc_current"):
        c.sql(f'CREATE SCHEMA "{dataset}"')
        for table in sorted((sample_root / "bigquery_export" / dataset).iterdir()):
            c.sql(
                f'CREATE VIEW "{dataset}"."{table.name}" AS '
                f"SELECT * FROM read_parquet('{_glob(sample_root, dataset, table.name)}')"
            )
    return c


def scalar(con: duckdb.DuckDBPyConnection, sql: str) -> object:
    return con.sql(sql).fetchone()[0]


def test_layout_has_all_datasets_and_several_files(sample_root: Path) -> None:
    export = sample_root / "bigquery_export"
    eager = {
        V,
        f"{V}_clinical",
        "idc_current",
        "idc_current_clinical",
        "idc_v23",
        "idc_v23_clinical",
        "idc_v24",
        "idc_v24_clinical",
    }
    # Other releases (v2..v22) appear once a query has used them (built on first use).
    on_first_use = {f"idc_v{n}{s}" for n in range(2, 23) for s in ("", "_clinical")}
    found = {p.name for p in export.iterdir()}
    assert eager <= found and found - eager <= on_first_use
    for table in ("dicom_all", *OTHER_TABLES):
        assert list((export / V / table).glob("*.parquet")), table
    files = sorted(p.name for p in (export / V / "dicom_all").glob("*.parquet"))
    assert len(files) >= 2 and files[0] == "000000000000.parquet"
    # idc_current is a byte copy of idc_v25.
    for f in files:
        assert (export / V / "dicom_all" / f).read_bytes() == (
            export / "idc_current" / "dicom_all" / f
        ).read_bytes()


def test_default_sample_coverage(con: duckdb.DuckDBPyConnection) -> None:
    mods = {r[0] for r in con.sql(f"SELECT DISTINCT Modality FROM {V}.dicom_all").fetchall()}
    assert {"CT", "MR", "PT", "SEG", "RTSTRUCT", "SR", "SM", "ANN"} <= mods
    assert scalar(con, f"SELECT COUNT(DISTINCT collection_id) FROM {V}.dicom_all") >= 10
    buckets = {r[0] for r in con.sql(f"SELECT DISTINCT aws_bucket FROM {V}.dicom_all").fetchall()}
    assert buckets == set(AWS_TO_GCS_BUCKET)


def test_row_grain_one_row_per_instance(con: duckdb.DuckDBPyConnection, sample_root: Path) -> None:
    n, distinct = con.sql(
        f"SELECT COUNT(*), COUNT(DISTINCT SOPInstanceUID) FROM {V}.dicom_all"
    ).fetchone()
    assert n == distinct > 1000
    manifest = json.loads((sample_root / "idcbq_sample.json").read_text())
    cap = manifest["options"]["max_instances_per_series"]
    seedable = {s["SeriesInstanceUID"] for s in manifest["seedable_series"]}
    # Each series has min(instanceCount, cap) rows (seedable series are complete).
    from idcbq.sources.sample.source import source_files

    index = source_files().path("idc_index.parquet")
    rows = con.sql(
        f"""SELECT d.SeriesInstanceUID, COUNT(*) n, ANY_VALUE(i.instanceCount) expected
            FROM {V}.dicom_all d JOIN read_parquet('{index}') i USING (SeriesInstanceUID)
            GROUP BY 1"""
    ).fetchall()
    assert len(rows) == manifest["counts"]["series"]
    for uid, count, expected in rows:
        assert count == (expected if uid in seedable else min(expected, cap)), uid


def test_urls_buckets_and_uuids_consistent(con: duckdb.DuckDBPyConnection) -> None:
    bad = scalar(
        con,
        f"""SELECT COUNT(*) FROM {V}.dicom_all WHERE
            gcs_url <> 'gs://' || gcs_bucket || '/' || crdc_series_uuid || '/' || crdc_instance_uuid || '.dcm'
            OR aws_url <> 's3://' || aws_bucket || '/' || crdc_series_uuid || '/' || crdc_instance_uuid || '.dcm'
            OR series_aws_url <> 's3://' || aws_bucket || '/' || crdc_series_uuid || '/'
            OR series_gcs_url <> 'gs://' || gcs_bucket || '/' || crdc_series_uuid || '/'
            OR crdc_instance_uuid IS NULL OR crdc_series_uuid IS NULL OR instance_hash IS NULL
            OR length(instance_hash) <> 32""",
    )
    assert bad == 0
    pairs = set(con.sql(f"SELECT DISTINCT aws_bucket, gcs_bucket FROM {V}.dicom_all").fetchall())
    assert pairs <= set(AWS_TO_GCS_BUCKET.items())
    # prior_versions_index.sql accepts only these GCS buckets.
    assert {p[1] for p in pairs} <= {
        "public-datasets-idc",
        "idc-open-idc1",
        "idc-open-cr",
        "idc-open-data",
        "idc-open-idc",
    }
    assert (
        scalar(con, f"SELECT COUNT(*) - COUNT(DISTINCT crdc_instance_uuid) FROM {V}.dicom_all") == 0
    )


def test_instance_sizes_sum_to_series_size(
    con: duckdb.DuckDBPyConnection, sample_root: Path
) -> None:
    from idcbq.sources.sample.source import source_files

    manifest = json.loads((sample_root / "idcbq_sample.json").read_text())
    seedable = {s["SeriesInstanceUID"] for s in manifest["seedable_series"]}
    index = source_files().path("idc_index.parquet")
    rows = con.sql(
        f"""SELECT d.SeriesInstanceUID, SUM(instance_size), ANY_VALUE(i.series_size_MB), COUNT(*), ANY_VALUE(i.instanceCount)
            FROM {V}.dicom_all d JOIN read_parquet('{index}') i USING (SeriesInstanceUID) GROUP BY 1"""
    ).fetchall()
    complete = [r for r in rows if r[3] == r[4] and r[0] not in seedable]
    assert len(complete) > 100
    for uid, total, size_mb, _, count in complete:
        assert abs(total - max(size_mb * 1e6, count)) <= 1, uid
    assert scalar(con, f"SELECT MIN(instance_size) FROM {V}.dicom_all") > 0


def test_sop_class_and_transfer_syntax_only_from_idc_index_sql(
    con: duckdb.DuckDBPyConnection,
) -> None:
    import re

    from idcbq.sources.sample.source import source_files

    sql = source_files().path("idc_index.sql").read_text()
    mapped = set(re.findall(r'WHEN "([0-9.]+)" THEN', sql))
    used = {
        r[0]
        for r in con.sql(
            f"SELECT DISTINCT SOPClassUID FROM {V}.dicom_all UNION SELECT DISTINCT TransferSyntaxUID FROM {V}.dicom_all"
        ).fetchall()
    }
    assert None not in used and used <= mapped


def test_seg_references_image_series_in_same_study(con: duckdb.DuckDBPyConnection) -> None:
    rows = con.sql(
        f"""SELECT s.SeriesInstanceUID, s.StudyInstanceUID, s.ReferencedSeriesSequence[1].SeriesInstanceUID AS ref_uid,
                   s.ReferencedSeriesSequence[1].ReferencedInstanceSequence[1].ReferencedSOPInstanceUID AS ref_sop
            FROM {V}.dicom_all s WHERE s.Modality IN ('SEG', 'RTSTRUCT', 'SR', 'ANN')"""
    ).fetchall()
    assert rows
    with_ref = [r for r in rows if r[2] is not None]
    assert len(with_ref) >= 0.9 * len(rows)
    targets = {
        r[0]: (r[1], r[2])
        for r in con.sql(
            f"SELECT SeriesInstanceUID, ANY_VALUE(StudyInstanceUID), ANY_VALUE(Modality) FROM {V}.dicom_all GROUP BY 1"
        ).fetchall()
    }
    sops = {r[0] for r in con.sql(f"SELECT SOPInstanceUID FROM {V}.dicom_all").fetchall()}
    for uid, _study, ref, ref_sop in with_ref:
        assert ref in targets, f"{uid} references missing series {ref}"
        assert targets[ref][1] in ("CT", "MR", "PT", "SM"), ref
        assert ref_sop in sops
    same_study = sum(1 for _, study, ref, _ in with_ref if targets[ref][0] == study)
    assert same_study >= 0.9 * len(with_ref)


def test_segment_sequence_codes_and_repeated_algorithm(con: duckdb.DuckDBPyConnection) -> None:
    rows = con.sql(
        f"""SELECT seg.SegmentedPropertyCategoryCodeSequence[1].CodeValue, seg.SegmentedPropertyTypeCodeSequence[1].CodingSchemeDesignator,
                   seg.SegmentedPropertyTypeCodeSequence[1].CodeMeaning, seg.SegmentAlgorithmType, seg.SegmentAlgorithmName
            FROM (SELECT UNNEST(SegmentSequence) seg FROM {V}.dicom_all WHERE Modality = 'SEG')"""
    ).fetchall()
    assert rows
    assert all(r[0] and r[1] == "SCT" and r[2] for r in rows)
    assert all(isinstance(r[4], list) for r in rows)
    assert any(r[3] == "AUTOMATIC" and r[4] for r in rows)


def test_rtstruct_sr_sm_pt_nesting(con: duckdb.DuckDBPyConnection) -> None:
    rt = con.sql(
        f"""SELECT len(StructureSetROISequence), len(RTROIObservationsSequence),
                   ReferencedFrameOfReferenceSequence[1].RTReferencedStudySequence[1].RTReferencedSeriesSequence[1].SeriesInstanceUID
            FROM {V}.dicom_all WHERE Modality = 'RTSTRUCT'"""
    ).fetchall()
    assert rt and all(a >= 1 and a == b for a, b, _ in rt) and any(r[2] for r in rt)
    values = con.sql(
        f"""SELECT g.ContentSequence FROM (SELECT UNNEST(ContentSequence) top FROM {V}.dicom_all WHERE Modality='SR'),
            LATERAL (SELECT UNNEST(top.ContentSequence) g)"""
    ).fetchall()
    nums = [
        item["MeasuredValueSequence"][0]["NumericValue"]
        for (items,) in values
        for item in items
        if item["ValueType"] == "NUM"
    ]
    assert nums and all(isinstance(n, list) and float(n[0]) > 0 for n in nums)
    sm = con.sql(
        f"""SELECT TotalPixelMatrixColumns, SharedFunctionalGroupsSequence[1].PixelMeasuresSequence[1].PixelSpacing[1],
                   OpticalPathSequence[1].ObjectiveLensPower, SpecimenDescriptionSequence[1].SpecimenPreparationSequence
            FROM {V}.dicom_all WHERE Modality='SM'"""
    ).fetchall()
    assert sm and all(r[0] > 0 and float(r[1]) > 0 and r[2] and r[3] for r in sm)
    pt = con.sql(
        f"""SELECT RadiopharmaceuticalInformationSequence[1].RadionuclideCodeSequence[1].CodeMeaning, PixelSpacing, SliceThickness
            FROM {V}.dicom_all WHERE SOPClassUID = '1.2.840.10008.5.1.4.1.1.128'"""
    ).fetchall()
    assert pt and all(r[0] and len(r[1]) == 2 and isinstance(r[2], str) for r in pt)


def test_dicom_all_schema_matches_reference(sample_root: Path) -> None:
    schema = pq.read_schema(
        next((sample_root / "bigquery_export" / V / "dicom_all").glob("*.parquet"))
    )
    fields = dicom_all_sample_fields()
    assert schema.names == [f.name for f in fields]
    for f in fields:
        assert (
            schema.field(f.name).type == prune_empty_records(dicom_all_field(f.name)).arrow_type
        ), f.name
    # Every IDC-added column is there; DS/IS stay strings; VM>1 and sequences repeat.
    assert {
        "crdc_instance_uuid",
        "gcs_url",
        "aws_url",
        "instance_size",
        "instance_hash",
        "license_short_name",
    } <= set(schema.names)
    assert str(schema.field("SliceThickness").type) == "string"
    assert str(schema.field("PixelSpacing").type.value_type) == "string"
    assert (
        str(
            schema.field("SegmentSequence")
            .type.value_type.field("SegmentAlgorithmName")
            .type.value_type
        )
        == "string"
    )
    assert str(schema.field("instance_size").type) == "int64"


def test_other_tables_schema_and_agreement(
    con: duckdb.DuckDBPyConnection, sample_root: Path
) -> None:
    for table in OTHER_TABLES:
        schema = pq.read_schema(
            next((sample_root / "bigquery_export" / V / table).glob("*.parquet"))
        )
        assert schema.remove_metadata() == arrow_schema(other_table_fields(table)), table
    assert pq.read_schema(
        next((sample_root / "bigquery_export" / V / "dicom_metadata_curated").glob("*.parquet"))
    ).names == [
        "SeriesInstanceUID",
        "SOPInstanceUID",
        "SliceThickness",
        "BodyPartExamined",
        "cancer_types",
    ]
    mismatch = scalar(
        con,
        f"""SELECT COUNT(*) FROM {V}.dicom_all d FULL JOIN {V}.auxiliary_metadata a USING (SOPInstanceUID)
            WHERE a.gcs_url IS DISTINCT FROM d.gcs_url OR a.instance_size IS DISTINCT FROM d.instance_size
               OR a.series_init_idc_version IS DISTINCT FROM d.series_init_idc_version
               OR a.instance_uuid IS DISTINCT FROM d.crdc_instance_uuid""",
    )
    assert mismatch == 0
    for table in ("dicom_metadata", "dicom_metadata_curated"):
        assert (
            scalar(
                con,
                f"SELECT COUNT(*) FROM {V}.dicom_all d ANTI JOIN {V}.{table} t USING (SOPInstanceUID)",
            )
            == 0
        )
        assert scalar(con, f"SELECT COUNT(*) FROM {V}.{table}") == scalar(
            con, f"SELECT COUNT(*) FROM {V}.dicom_all"
        )
    assert (
        scalar(
            con,
            f"SELECT COUNT(*) FROM (SELECT DISTINCT collection_id FROM {V}.dicom_all) ANTI JOIN {V}.original_collections_metadata USING (collection_id)",
        )
        == 0
    )
    assert (
        scalar(
            con,
            f"SELECT COUNT(*) FROM (SELECT DISTINCT analysis_result_id FROM {V}.dicom_all WHERE analysis_result_id IS NOT NULL) ANTI JOIN {V}.analysis_results_metadata USING (analysis_result_id)",
        )
        == 0
    )
    assert scalar(con, f"SELECT MAX(idc_version) FROM {V}.version_metadata") == 25
    series = scalar(con, f"SELECT COUNT(DISTINCT SeriesInstanceUID) FROM {V}.dicom_all")
    assert scalar(con, f"SELECT COUNT(*) FROM {V}.dicom_metadata_curated_series_level") == series


def test_clinical_tables(con: duckdb.DuckDBPyConnection, sample_root: Path) -> None:
    clinical = sample_root / "bigquery_export" / f"{V}_clinical"
    per_collection = sorted(
        p.name for p in clinical.iterdir() if p.name not in ("table_metadata", "column_metadata")
    )
    assert len(per_collection) >= 2
    owner = dict(
        con.sql(
            f"""SELECT SPLIT_PART(table_name, '.', 3), collection_id
                FROM "{V}_clinical".table_metadata"""
        ).fetchall()
    )
    for name in per_collection:
        cid = owner[name]  # tables are <collection_id>_clinical or _<sheet> (several)
        assert name.startswith(cid + "_")
        schema = pq.read_schema(next((clinical / name).glob("*.parquet")))
        assert schema.names[:2] == ["dicom_patient_id", "source_batch"]
        missing = scalar(
            con,
            f"""SELECT COUNT(*) FROM "{V}_clinical"."{name}" c
                WHERE NOT EXISTS (SELECT 1 FROM {V}.dicom_all d WHERE d.PatientID = c.dicom_patient_id AND d.collection_id = '{cid}')""",
        )
        assert missing == 0 and scalar(con, f'SELECT COUNT(*) FROM "{V}_clinical"."{name}"') > 0
    names = {
        r[0] for r in con.sql(f'SELECT table_name FROM "{V}_clinical".column_metadata').fetchall()
    }
    assert names == {f"bigquery-public-data.{V}_clinical.{n}" for n in per_collection}
    coded = con.sql(
        f'SELECT "values" FROM "{V}_clinical".column_metadata WHERE "column" = \'gender\''
    ).fetchall()
    assert coded and all(v[0] and v[0][0]["option_code"] for v in coded)
    assert scalar(con, f'SELECT COUNT(*) FROM "{V}_clinical".table_metadata') == len(per_collection)


def test_labelled_as_derived_sample(sample_root: Path) -> None:
    readme = (sample_root / "README.md").read_text()
    assert "derived sample" in readme.lower() and "not" in readme and "idc-index-data" in readme
    meta = pq.read_schema(
        next((sample_root / "bigquery_export" / V / "dicom_all").glob("*.parquet"))
    ).metadata
    assert b"DERIVED SAMPLE" in meta[b"idcbq.label"] and b"idc-index-data" in meta[b"idcbq.source"]
    manifest = json.loads((sample_root / "idcbq_sample.json").read_text())
    assert manifest["idc_version"] == 25 and manifest["seedable_series"]


def test_seedable_series_match_generated_dicom_bytes(
    con: duckdb.DuckDBPyConnection, sample_root: Path
) -> None:
    import hashlib

    import pydicom

    from idcbq.sources.sample.dicom_files import instance_bytes

    manifest = json.loads((sample_root / "idcbq_sample.json").read_text())
    seedable = manifest["seedable_series"]
    assert {s["Modality"] for s in seedable} >= {"CT", "MR", "PT", "SEG", "SR", "RTSTRUCT"}
    assert 100 <= sum(s["instances"] for s in seedable) <= 2000
    uids = [s["SeriesInstanceUID"] for s in seedable]
    table = con.sql(
        f"SELECT * FROM {V}.dicom_all WHERE SeriesInstanceUID IN (SELECT UNNEST($u))",
        params={"u": uids},
    ).to_arrow_table()
    assert table.num_rows == sum(s["instances"] for s in seedable)
    for row in table.to_pylist()[::7]:
        data = instance_bytes(row)
        assert (
            len(data) == row["instance_size"]
            and hashlib.md5(data).hexdigest() == row["instance_hash"]
        )
        ds = pydicom.dcmread(io.BytesIO(data))
        assert (
            ds.SOPInstanceUID == row["SOPInstanceUID"]
            and ds.SeriesInstanceUID == row["SeriesInstanceUID"]
        )
        assert ds.file_meta.TransferSyntaxUID == row["TransferSyntaxUID"]


@pytest.mark.slow
def test_build_is_deterministic_and_atomic(tmp_path: Path) -> None:
    from idcbq.sources.sample import build_sample

    opts = {
        "collections": ["qin_pet_phantom", "nsclc_radiomics_interobserver1"],
        "max_instances_per_series": 5,
    }
    a = build_sample(tmp_path / "a", **opts)
    b = build_sample(tmp_path / "b", **opts)
    files_a = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    assert files_a == files_b and len(files_a) > 20
    for rel in files_a:
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel
    # Nothing left beside the roots but the lock files (no temp dirs).
    assert (
        sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".") and "tmp" in p.name)
        == []
    )
    # Same options again: reused, not rebuilt (the bytes and mtimes stay).
    stamp = (a / "idcbq_sample.json").stat().st_mtime_ns
    build_sample(tmp_path / "a", **opts)
    assert (a / "idcbq_sample.json").stat().st_mtime_ns == stamp


def test_cli_rejects_unknown_collection(tmp_path: Path) -> None:
    import subprocess
    import sys

    dest = tmp_path / "out"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "idcbq",
            "sample",
            "build",
            "--dest",
            str(dest),
            "--collections",
            "qin_pet_phantom,no_such_collection",
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert "no_such_collection" in proc.stderr
    assert not dest.exists()


def test_cli_rejects_bad_cap(tmp_path: Path) -> None:
    from idcbq.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["sample", "build", "--dest", str(tmp_path / "o"), "--max-instances-per-series", "0"])
    assert exc.value.code == 2
    assert not (tmp_path / "o").exists()
