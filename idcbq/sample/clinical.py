"""Synthetic clinical tables (``idc_vNN_clinical``) keyed by real PatientIDs.

Layout per the reference notes (``clinical_tables.md``): per-collection tables
``<collection_id>_clinical`` whose first column ``dicom_patient_id`` equals
``dicom_all.PatientID``, then ``source_batch``; plus the dictionaries
``table_metadata`` (one row per table) and ``column_metadata`` (table x column,
``table_name`` fully qualified, ``values`` nested). Clinical values are invented.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from idcbq.sample.ids import md5_hex, pick, stable_int
from idcbq.sample.tables import to_arrow
from idcbq.schema import Field
from idcbq.sources import IDC_DATA_PROJECT

if TYPE_CHECKING:
    import pyarrow as pa

#: Collections that get a clinical table when they are in the sample (first ones win).
PREFERRED = ("nsclc_radiomics_interobserver1", "qin_prostate_repeatability", "cptac_cm")
MIN_TABLES = 2

TABLE_METADATA_FIELDS = (
    Field("collection_id", "STRING"),
    Field("table_name", "STRING"),
    Field("table_description", "STRING"),
    Field("idc_version_table_added", "STRING"),
    Field("table_added_datetime", "STRING"),
    Field("post_process_src", "STRING"),
    Field("post_process_src_added_md5", "STRING"),
    Field("idc_version_table_prior", "STRING"),
    Field("post_process_src_prior_md5", "STRING"),
    Field("idc_version_table_updated", "STRING"),
    Field("table_updated_datetime", "STRING"),
    Field("post_process_src_updated_md5", "STRING"),
    Field("number_batches", "INT64"),
    Field(
        "source_info",
        "RECORD",
        "REPEATED",
        (
            Field("srcs", "STRING", "REPEATED"),
            Field("md5", "STRING"),
            Field("table_last_modified", "STRING"),
            Field("table_size", "INT64"),
        ),
    ),
)
COLUMN_METADATA_FIELDS = (
    Field("collection_id", "STRING"),
    Field("case_col", "BOOL"),
    Field("table_name", "STRING"),
    Field("column", "STRING"),
    Field("column_label", "STRING"),
    Field("data_type", "STRING"),
    Field("original_column_headers", "STRING", "REPEATED"),
    Field(
        "values",
        "RECORD",
        "REPEATED",
        (Field("option_code", "STRING"), Field("option_description", "STRING")),
    ),
    Field("values_source", "STRING"),
    Field("files", "STRING", "REPEATED"),
    Field("sheet_names", "STRING", "REPEATED"),
    Field("batch", "INT64", "REPEATED"),
    Field("column_numbers", "INT64", "REPEATED"),
)

#: (column, label, BigQuery type, value options or None for free values).
CLINICAL_COLUMNS: tuple[tuple[str, str, str, tuple[str, ...] | None], ...] = (
    ("age_at_diagnosis", "Age at Diagnosis (years)", "INT64", None),
    ("gender", "Gender", "STRING", ("Male", "Female")),
    ("race", "Race", "STRING", ("White", "Black or African American", "Asian", "Not Reported")),
    ("vital_status", "Vital Status", "STRING", ("Alive", "Dead")),
    ("tumor_stage", "Pathologic Stage", "STRING", ("Stage I", "Stage II", "Stage III", "Stage IV")),
    ("days_to_last_follow_up", "Days to Last Follow-up", "FLOAT64", None),
)


def clinical_collections(patients: Mapping[str, Sequence[str]]) -> list[str]:
    """Collections that get a ``<collection_id>_clinical`` table."""
    chosen = [c for c in PREFERRED if patients.get(c)]
    for cid in sorted(patients):
        if len(chosen) >= MIN_TABLES:
            break
        if cid not in chosen and patients[cid]:
            chosen.append(cid)
    return sorted(chosen)


def clinical_tables(
    patients: Mapping[str, Sequence[str]], *, idc_version: int
) -> dict[str, pa.Table]:
    """All clinical tables by name, for the given ``{collection_id: [PatientID, ...]}``."""
    tables: dict[str, pa.Table] = {}
    table_rows, column_rows = [], []
    dataset = f"{IDC_DATA_PROJECT}.idc_v{idc_version}_clinical"
    for cid in clinical_collections(patients):
        name = f"{cid}_clinical"
        tables[name] = _collection_table(cid, sorted(set(patients[cid])))
        src = f"{cid}/clinical_{md5_hex(cid)[:6]}.csv"
        table_rows.append(
            {
                "collection_id": cid,
                "table_name": f"{dataset}.{name}",
                "table_description": "clinical data",
                "idc_version_table_added": f"idc_v{idc_version}",
                "table_added_datetime": "2025-01-01 00:00:00",
                "post_process_src": src,
                "post_process_src_added_md5": md5_hex("src", src),
                "idc_version_table_updated": f"idc_v{idc_version}",
                "table_updated_datetime": "2025-01-01 00:00:00",
                "post_process_src_updated_md5": md5_hex("src", src),
                "number_batches": 1,
                "source_info": [
                    {
                        "srcs": [src],
                        "md5": md5_hex("src", src),
                        "table_last_modified": "2025-01-01",
                        "table_size": tables[name].num_rows,
                    }
                ],
            }
        )
        column_rows.extend(_column_rows(cid, f"{dataset}.{name}", src))
    tables["table_metadata"] = to_arrow(TABLE_METADATA_FIELDS, table_rows)
    tables["column_metadata"] = to_arrow(COLUMN_METADATA_FIELDS, column_rows)
    return tables


def _collection_table(cid: str, patient_ids: list[str]) -> pa.Table:
    fields = [Field("dicom_patient_id", "STRING"), Field("source_batch", "INT64")]
    fields += [Field(name, bq_type) for name, _, bq_type, _ in CLINICAL_COLUMNS]
    rows = []
    for pid in patient_ids:
        row: dict[str, Any] = {"dicom_patient_id": pid, "source_batch": 0}
        for name, _, bq_type, options in CLINICAL_COLUMNS:
            if options:
                row[name] = pick(options, cid, pid, name)
            elif bq_type == "INT64":
                row[name] = 30 + stable_int(cid, pid, name) % 55
            else:
                row[name] = float(stable_int(cid, pid, name) % 3650)
        rows.append(row)
    return to_arrow(fields, rows)


def _column_rows(cid: str, table_name: str, src: str) -> list[dict[str, Any]]:
    rows = [
        {
            "collection_id": cid,
            "case_col": True,
            "table_name": table_name,
            "column": "dicom_patient_id",
            "column_label": "Patient ID",
            "data_type": "STRING",
            "original_column_headers": ["Patient ID"],
            "values": [],
            "values_source": "derived from inspection of values",
            "files": [src],
            "sheet_names": [],
            "batch": [0],
            "column_numbers": [0],
        }
    ]
    for number, (name, label, bq_type, options) in enumerate(CLINICAL_COLUMNS, start=1):
        rows.append(
            {
                "collection_id": cid,
                "case_col": False,
                "table_name": table_name,
                "column": name,
                "column_label": label,
                "data_type": bq_type,
                "original_column_headers": [label],
                # IDC leaves `values` empty above 20 distinct values.
                "values": [{"option_code": o, "option_description": None} for o in options or ()],
                "values_source": "derived from inspection of values",
                "files": [src],
                "sheet_names": [],
                "batch": [0],
                "column_numbers": [number],
            }
        )
    return rows
