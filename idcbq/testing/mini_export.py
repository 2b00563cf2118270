"""A tiny IDC-shaped Parquet export written with pyarrow, for fast engine tests.

It has the shapes that matter for engines: scalar columns of each type, a
``REPEATED STRING`` (``PixelSpacing``), a two-level ``REPEATED RECORD``
(``SegmentSequence`` -> ``SegmentedPropertyCategoryCodeSequence``), NULLs and empty
arrays, and a clinical table joined on ``dicom_patient_id`` + ``collection_id``.
Values are generated from the row number, so tests compute expectations from the
same Arrow tables instead of hard-coding them.

Example:
    >>> import tempfile
    >>> root = write_mini_export(tempfile.mkdtemp())
    >>> sorted(p.name for p in (root / "bigquery_export").iterdir())
    ['idc_v25', 'idc_v25_clinical']
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

COLLECTIONS = ("qin_lung_ct", "tcga_uvm", "rider_phantom_pet_ct")
MODALITIES = ("CT", "MR", "PT", "SEG", None)
CATEGORIES = (
    ("91723000", "Anatomical Structure"),
    ("49755003", "Morphologically Altered Structure"),
)


def dicom_all_table(n: int = 60) -> Any:
    """``n`` instance rows shaped like ``dicom_all`` (a handful of its columns)."""
    import pyarrow as pa

    code = pa.struct(
        [
            ("CodeValue", pa.string()),
            ("CodingSchemeDesignator", pa.string()),
            ("CodeMeaning", pa.string()),
        ]
    )
    segment = pa.struct(
        [
            ("SegmentNumber", pa.int64()),
            ("SegmentLabel", pa.string()),
            ("SegmentedPropertyCategoryCodeSequence", pa.list_(code)),
        ]
    )
    rows: list[dict[str, Any]] = []
    for i in range(n):
        modality = MODALITIES[i % len(MODALITIES)]
        segments = None
        if modality == "SEG":
            segments = [
                {
                    "SegmentNumber": k + 1,
                    "SegmentLabel": f"seg{i}-{k}",
                    "SegmentedPropertyCategoryCodeSequence": [
                        {
                            "CodeValue": CATEGORIES[(i + k) % 2][0],
                            "CodingSchemeDesignator": "SCT",
                            "CodeMeaning": CATEGORIES[(i + k) % 2][1],
                        }
                    ],
                }
                for k in range(1 + i % 3)
            ]
        elif i % 7 == 0:
            segments = []
        rows.append(
            {
                "collection_id": COLLECTIONS[i % len(COLLECTIONS)],
                "PatientID": f"P{i % 9:03d}",
                "StudyInstanceUID": f"1.2.3.{i % 12}",
                "SeriesInstanceUID": f"1.2.3.{i % 12}.{i % 4}",
                "SOPInstanceUID": f"1.2.3.{i % 12}.{i % 4}.{i}",
                "crdc_series_uuid": f"00000000-0000-4000-8000-{i % 48:012d}",
                "crdc_instance_uuid": f"00000000-0000-4000-9000-{i:012d}",
                "Modality": modality,
                "instance_size": 1000 + 37 * i,
                "SliceThickness": None if i % 5 == 0 else f"{1 + i % 3}.5",
                "PixelSpacing": None if i % 6 == 0 else ([] if i % 6 == 1 else ["0.7", "0.7"]),
                "SpiralPitchFactor": None if i % 4 else 0.5 + i / 100,
                "StudyDate": dt.date(2001, 1, 1) + dt.timedelta(days=97 * i),
                "SegmentSequence": segments,
                "license_short_name": "CC BY 4.0" if i % 2 else "CC BY 3.0",
            }
        )
    schema = pa.schema(
        [
            ("collection_id", pa.string()),
            ("PatientID", pa.string()),
            ("StudyInstanceUID", pa.string()),
            ("SeriesInstanceUID", pa.string()),
            ("SOPInstanceUID", pa.string()),
            ("crdc_series_uuid", pa.string()),
            ("crdc_instance_uuid", pa.string()),
            ("Modality", pa.string()),
            ("instance_size", pa.int64()),
            ("SliceThickness", pa.string()),
            ("PixelSpacing", pa.list_(pa.string())),
            ("SpiralPitchFactor", pa.float64()),
            ("StudyDate", pa.date32()),
            ("SegmentSequence", pa.list_(segment)),
            ("license_short_name", pa.string()),
        ]
    )
    return pa.Table.from_pylist(rows, schema=schema)


def clinical_table() -> Any:
    """One row per (patient, collection) with an age, some NULL."""
    import pyarrow as pa

    rows = [
        {
            "dicom_patient_id": f"P{p:03d}",
            "collection_id": c,
            "age_at_diagnosis": None if p == 4 else 40 + p,
        }
        for p in range(9)
        for c in COLLECTIONS[:2]
    ]
    return pa.Table.from_pylist(
        rows,
        schema=pa.schema(
            [
                ("dicom_patient_id", pa.string()),
                ("collection_id", pa.string()),
                ("age_at_diagnosis", pa.int64()),
            ]
        ),
    )


def write_mini_export(root: str | Path, *, idc_version: int = 25, rows: int = 60) -> Path:
    """Write ``root/bigquery_export/idc_vNN{,_clinical}/<table>/0.parquet``; return ``root``."""
    import pyarrow.parquet as pq

    root = Path(root)
    tables = {
        (f"idc_v{idc_version}", "dicom_all"): dicom_all_table(rows),
        (f"idc_v{idc_version}_clinical", "mini_clinical"): clinical_table(),
    }
    for (dataset, table), data in tables.items():
        folder = root / "bigquery_export" / dataset / table
        folder.mkdir(parents=True, exist_ok=True)
        # Two files, so loaders that handle one file only are caught.
        half = data.num_rows // 2
        pq.write_table(data.slice(0, half), folder / "000000000000.parquet")
        pq.write_table(data.slice(half), folder / "000000000001.parquet")
    return root
