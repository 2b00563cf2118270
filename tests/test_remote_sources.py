"""Remote export roots on real local servers: moto S3 and fake-gcs-server.

The same queries must give the same answers as on the local copy. Projection pushdown
is measured on the wire: a small counting HTTP proxy sits between DuckDB and moto and
adds up the response bytes DuckDB actually fetched.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from idcbq.engines.duckdb import DuckDBEngine
from idcbq.errors import SourceError
from idcbq.testing.counting_proxy import CountingProxy
from tests.tiny_export import upload_gcs, upload_s3, write_tiny_export

GROUP_BY = (
    "SELECT Modality, count(*) AS n, sum(instance_size) AS size FROM {t} GROUP BY 1 ORDER BY 1"
)
JOIN = (
    "SELECT d.collection_id, count(*) AS n FROM idc_current.dicom_all d "
    "JOIN idc_current_clinical.nlst_prsn c ON d.PatientID = c.dicom_patient_id "
    "WHERE d.Modality <> $m GROUP BY 1 ORDER BY 1"
)


@pytest.fixture(scope="module")
def tiny_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_export(tmp_path_factory.mktemp("tiny-remote"))


@pytest.fixture(scope="module")
def local(tiny_root: Path) -> Iterator[DuckDBEngine]:
    with DuckDBEngine.from_options(source=tiny_root, idc_version="v25") as eng:
        yield eng


@pytest.fixture(scope="module")
def s3_bucket(s3_server, tiny_root: Path) -> str:
    bucket = f"idc-meta-{uuid.uuid4().hex[:8]}"
    upload_s3(tiny_root, s3_server.client(), bucket, prefix="copy/")
    return bucket


@pytest.fixture(scope="module")
def gcs_bucket(gcs_server, tiny_root: Path) -> str:
    bucket = f"idc-meta-{uuid.uuid4().hex[:8]}"
    upload_gcs(tiny_root, gcs_server.client(), bucket, prefix="copy/")
    return bucket


def same_answers(remote: DuckDBEngine, local: DuckDBEngine) -> None:
    for table in ("dicom_all", "idc_current.dicom_all"):
        assert remote.sql(GROUP_BY.format(t=table)).equals(local.sql(GROUP_BY.format(t=table)))
    assert remote.sql(JOIN, {"m": "SM"}).equals(local.sql(JOIN, {"m": "SM"}))
    assert remote.list_tables("idc_v25_clinical") == local.list_tables("idc_v25_clinical")
    assert remote.table_fields("idc_v25", "dicom_all") == local.table_fields("idc_v25", "dicom_all")


@pytest.mark.s3
def test_s3_same_answers_as_local(s3_server, s3_bucket: str, local: DuckDBEngine) -> None:
    with DuckDBEngine.from_options(
        source=f"s3://{s3_bucket}/copy", idc_version="v25", s3_endpoint=s3_server.url
    ) as remote:
        same_answers(remote, local)
        assert remote.datasets() == local.datasets()


@pytest.mark.s3
def test_s3_objects_are_read_anonymously(s3_server, tiny_root: Path) -> None:
    """A private copy (no public-read ACL) is refused: the engine really is unsigned."""
    bucket = f"idc-private-{uuid.uuid4().hex[:8]}"
    client = s3_server.client()
    client.create_bucket(Bucket=bucket)
    client.put_bucket_acl(Bucket=bucket, ACL="private")
    path = tiny_root / "bigquery_export/idc_v25/dicom_all/000000000000.parquet"
    client.put_object(
        Bucket=bucket, Key="bigquery_export/idc_v25/dicom_all/000000000000.parquet",
        Body=path.read_bytes(), ACL="private",
    )  # fmt: skip
    with (
        DuckDBEngine.from_options(
            source=f"s3://{bucket}", idc_version="v25", s3_endpoint=s3_server.url
        ) as eng,
        pytest.raises(SourceError, match="403") as info,
    ):
        eng.sql("SELECT count(*) FROM dicom_all")
    assert "cannot fetch" in info.value.message


@pytest.mark.s3
def test_s3_unknown_version_and_corrupt_file(s3_server, s3_bucket: str) -> None:
    with pytest.raises(SourceError) as info:
        DuckDBEngine.from_options(
            source=f"s3://{s3_bucket}/copy", idc_version="v7", s3_endpoint=s3_server.url
        )
    assert "idc_v25" in (info.value.hint or "")
    key = "copy/bigquery_export/idc_v25_clinical/broken/000000000000.parquet"
    s3_server.client().put_object(Bucket=s3_bucket, Key=key, Body=b"PAR1 nope", ACL="public-read")
    with (
        DuckDBEngine.from_options(
            source=f"s3://{s3_bucket}/copy", idc_version="v25", s3_endpoint=s3_server.url
        ) as eng,
        pytest.raises(SourceError) as info,
    ):
        eng.sql("SELECT * FROM clinical.broken")
    assert f"s3://{s3_bucket}/{key}" in info.value.message


@pytest.mark.gcs
def test_gcs_same_answers_as_local(gcs_server, gcs_bucket: str, local: DuckDBEngine) -> None:
    with DuckDBEngine.from_options(
        source=f"gs://{gcs_bucket}/copy", idc_version="v25", gcs_endpoint=gcs_server.url
    ) as remote:
        same_answers(remote, local)


@pytest.mark.s3
def test_projection_pushdown_bytes_on_the_wire(s3_server, s3_bucket: str, tiny_root: Path) -> None:
    files = sorted((tiny_root / "bigquery_export/idc_v25/dicom_all").glob("*.parquet"))
    total = sum(f.stat().st_size for f in files)
    needed = ("Modality", "instance_size", "collection_id")
    chunks = 0  # compressed bytes of the three columns' chunks: the floor of what must be read
    for f in files:
        meta = pq.ParquetFile(f).metadata
        for rg in range(meta.num_row_groups):
            for c in range(meta.num_columns):
                col = meta.row_group(rg).column(c)
                if col.path_in_schema in needed:
                    chunks += col.total_compressed_size
    with (
        CountingProxy(s3_server.url) as proxy,
        DuckDBEngine.from_options(
            source=f"s3://{s3_bucket}/copy", idc_version="v25", s3_endpoint=proxy.url
        ) as eng,
    ):
        opened = proxy.bytes_in
        eng.sql(f"SELECT {', '.join(needed)} FROM dicom_all WHERE Modality = $m", {"m": "CT"})
        fetched = proxy.bytes_in - opened
    assert opened < 10_000, f"opening fetched {opened} bytes (listing only expected)"
    assert fetched >= chunks, "the query must read the needed column chunks"
    assert fetched < 0.25 * total, f"read {fetched} of {total} bytes: no projection pushdown?"
    print(
        f"\nprojection: fetched {fetched} B of {total} B ({fetched / total:.1%}); column chunks {chunks} B"
    )


@pytest.mark.slow
@pytest.mark.s3
@pytest.mark.gcs
def test_sample_export_same_on_s3_and_gcs(sample_root: Path, s3_server, gcs_server) -> None:
    """The default sample, copied to both servers, answers like the local copy."""
    bucket = f"idc-sample-{uuid.uuid4().hex[:8]}"
    upload_s3(sample_root, s3_server.client(), bucket)
    upload_gcs(sample_root, gcs_server.client(), bucket)
    query = GROUP_BY.format(t="dicom_all")
    with DuckDBEngine.from_options(source=sample_root) as local_engine:
        want = local_engine.sql(query)
        tables = local_engine.list_tables(local_engine.idc_version.dataset)
        counts = {t: local_engine.sql(f"SELECT count(*) AS n FROM {t}") for t in tables}
    assert want.num_rows > 0
    for source, opts in (
        (f"s3://{bucket}", {"s3_endpoint": s3_server.url}),
        (f"gs://{bucket}", {"gcs_endpoint": gcs_server.url}),
    ):
        with DuckDBEngine.from_options(source=source, **opts) as remote:
            assert remote.sql(query).equals(want), source
            assert remote.list_tables(remote.idc_version.dataset) == tables
            for t, n in counts.items():
                assert remote.sql(f"SELECT count(*) AS n FROM {t}").equals(n), (source, t)
