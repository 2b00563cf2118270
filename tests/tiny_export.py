"""Small IDC-shaped Parquet exports written with pyarrow, for engine and error tests.

Rows are random but seeded; tests compute expected answers from the same files with
pyarrow, never from constants.
"""

from __future__ import annotations

import random
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

MODALITIES = ("CT", "MR", "PT", "SEG", "SM")
#: Filler columns so that a 3-column query reads a small share of each file.
N_FILLER = 40


def dicom_all_table(n: int, seed: int) -> pa.Table:
    rng = random.Random(seed)
    series = [f"1.2.3.{seed}.{rng.randrange(n // 4 + 1)}" for _ in range(n)]
    cols: dict[str, pa.Array | list] = {
        "collection_id": [rng.choice(["nlst", "tcga_luad", "rider"]) for _ in range(n)],
        "PatientID": [f"P{rng.randrange(20)}" for _ in range(n)],
        "SeriesInstanceUID": series,
        "SOPInstanceUID": [f"{s}.{i}" for i, s in enumerate(series)],
        "Modality": [rng.choice(MODALITIES) for _ in range(n)],
        "instance_size": pa.array([rng.randrange(1000, 500_000) for _ in range(n)], pa.int64()),
        "PixelSpacing": pa.array(
            [[str(rng.random()), str(rng.random())] for _ in range(n)], pa.list_(pa.string())
        ),
        "AnatomicRegionSequence": pa.array(
            [[{"CodeValue": str(rng.randrange(9)), "CodeMeaning": "x"}] for _ in range(n)],
            pa.list_(pa.struct([("CodeValue", pa.string()), ("CodeMeaning", pa.string())])),
        ),
    }
    for j in range(N_FILLER):
        # incompressible strings, so column chunk sizes dominate the file size
        cols[f"Filler{j:02d}"] = [f"{rng.getrandbits(64):016x}" for _ in range(n)]
    return pa.table(cols)


def clinical_table(n: int, seed: int) -> pa.Table:
    rng = random.Random(seed)
    return pa.table(
        {
            "dicom_patient_id": [f"P{i}" for i in range(n)],
            "age_at_diagnosis": pa.array([rng.randrange(20, 90) for _ in range(n)], pa.int64()),
        }
    )


def write_table(root: Path, dataset: str, table: str, parts: list[pa.Table]) -> list[Path]:
    folder = root / "bigquery_export" / dataset / table
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, part in enumerate(parts):
        path = folder / f"{i:012d}.parquet"
        pq.write_table(part, path)
        paths.append(path)
    return paths


def write_tiny_export(root: Path, rows: int = 600, files: int = 2) -> Path:
    """``idc_v25`` and ``idc_current`` (different rows), each with clinical tables."""
    for k, dataset in enumerate(("idc_v25", "idc_current")):
        write_table(
            root,
            dataset,
            "dicom_all",
            [dicom_all_table(rows, seed=10 * k + i) for i in range(files)],
        )
        write_table(
            root,
            dataset,
            "version_metadata",
            [pa.table({"idc_version": [25 + k], "version_hash": ["h"]})],
        )
        write_table(root, f"{dataset}_clinical", "nlst_prsn", [clinical_table(20, seed=k)])
        write_table(
            root,
            f"{dataset}_clinical",
            "table_metadata",
            [pa.table({"collection_id": ["nlst"], "table_name": ["nlst_prsn"]})],
        )
    return root


def read_table(root: Path, dataset: str, table: str) -> pa.Table:
    """The whole table as pyarrow reads it (the reference for query answers)."""
    folder = root / "bigquery_export" / dataset / table
    return pa.concat_tables(pq.read_table(p) for p in sorted(folder.glob("*.parquet")))


def upload_s3(root: Path, client, bucket: str, prefix: str = "") -> None:
    """Copy an export to S3, objects world-readable (read anonymously by the engine)."""
    client.create_bucket(Bucket=bucket)
    for path in sorted(root.rglob("*.parquet")):
        key = f"{prefix}{path.relative_to(root).as_posix()}"
        client.put_object(Bucket=bucket, Key=key, Body=path.read_bytes(), ACL="public-read")


def upload_gcs(root: Path, client, bucket: str, prefix: str = "") -> None:
    """Copy an export to a GCS bucket."""
    target = client.create_bucket(bucket)
    for path in sorted(root.rglob("*.parquet")):
        blob = target.blob(f"{prefix}{path.relative_to(root).as_posix()}")
        blob.upload_from_filename(str(path))
