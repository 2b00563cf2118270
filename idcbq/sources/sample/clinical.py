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

from idcbq.sources.releases import IDC_DATA_PROJECT
from idcbq.sources.sample.ids import md5_hex, pick, stable_int
from idcbq.sources.sample.tables import to_arrow
from idcbq.sources.schema import Field

if TYPE_CHECKING:
    import pyarrow as pa

#: Collections that get a generic ``<collection_id>_clinical`` table when in the sample.
#: Most have clinical data in IDC (collections_index ``supporting_data`` says
#: "Clinical", or IDC copies TCGA/CPTAC tables from ISB-CGC); qin_prostate_repeatability
#: is kept because templates use it as an example.
PREFERRED = (
    "nsclc_radiomics_interobserver1",
    "qin_prostate_repeatability",
    "cptac_cm",
    "pdmr_997537_175_t",
    "tcga_uvm",
)
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


#: (column, label, BigQuery type, value options or None for free values).
Column = tuple[str, str, str, tuple[str, ...] | None]

_DEMOGRAPHICS: tuple[Column, ...] = (
    ("gender", "Gender", "STRING", ("male", "female")),
    ("race", "Race", "STRING", ("white", "black or african american", "asian", "not reported")),
    ("ethnicity", "Ethnicity", "STRING", ("hispanic or latino", "not hispanic or latino")),
    ("vital_status", "Vital Status", "STRING", ("Alive", "Dead")),
)
_DIAGNOSIS: tuple[Column, ...] = (
    (
        "primary_diagnosis",
        "Primary Diagnosis",
        "STRING",
        ("Adenocarcinoma, NOS", "Rhabdomyosarcoma, NOS", "Carcinoma, NOS"),
    ),
    ("age_at_diagnosis", "Age at Diagnosis (days)", "INT64", None),
    ("tumor_grade", "Tumor Grade", "STRING", ("G1", "G2", "G3", "GX")),
    (
        "tissue_or_organ_of_origin",
        "Tissue or Organ of Origin",
        "STRING",
        ("Colon, NOS", "Soft tissues, NOS", "Lung, NOS"),
    ),
)

#: Collections whose IDC clinical data is split over several tables (names as in
#: IDC: ``rms_mutation_prediction_{sample,diagnosis,demographics}``; HTAN tables
#: ``<collection_id>_{demographics,diagnosis,followup,therapy,...}``):
#: ``{collection_id: ((suffix, columns, max rows per patient), ...)}``.
MULTI_TABLE: dict[str, tuple[tuple[str, tuple[Column, ...], int], ...]] = {
    "rms_mutation_prediction": (
        ("demographics", _DEMOGRAPHICS[:3], 1),
        ("diagnosis", _DIAGNOSIS[:3], 1),
        (
            "sample",
            (
                ("sample_id", "Sample ID", "STRING", None),
                ("sample_type", "Sample Type", "STRING", ("Primary Tumor", "Metastatic")),
                ("anatomic_site", "Anatomic Site", "STRING", ("Extremity", "Trunk", "Head")),
            ),
            3,
        ),
    ),
    "htan_vanderbilt": (
        ("demographics", _DEMOGRAPHICS, 1),
        ("diagnosis", _DIAGNOSIS, 1),
        (
            "followup",
            (
                ("days_to_follow_up", "Days to Follow Up", "INT64", None),
                ("disease_response", "Disease Response", "STRING", ("CR", "PR", "SD", "PD")),
                ("progression_or_recurrence", "Progression or Recurrence", "STRING", ("yes", "no")),
            ),
            3,
        ),
        (
            "therapy",
            (
                ("treatment_type", "Treatment Type", "STRING", ("Surgery", "Chemotherapy")),
                ("days_to_treatment_start", "Days to Treatment Start", "INT64", None),
            ),
            2,
        ),
    ),
}


def clinical_collections(patients: Mapping[str, Sequence[str]]) -> list[str]:
    """Collections that get clinical tables."""
    chosen = [c for c in (*PREFERRED, *MULTI_TABLE) if patients.get(c)]
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
    for cid, suffix, columns, per_patient in _table_specs(patients):
        name = f"{cid}_{suffix}"
        tables[name] = _collection_table(cid, sorted(set(patients[cid])), columns, per_patient)
        src = f"{cid}/{suffix}_{md5_hex(cid, suffix)[:6]}.csv"
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
        column_rows.extend(_column_rows(cid, f"{dataset}.{name}", src, columns))
    tables["table_metadata"] = to_arrow(TABLE_METADATA_FIELDS, table_rows)
    tables["column_metadata"] = to_arrow(COLUMN_METADATA_FIELDS, column_rows)
    return tables


def _table_specs(
    patients: Mapping[str, Sequence[str]],
) -> list[tuple[str, str, tuple[Column, ...], int]]:
    out = []
    for cid in clinical_collections(patients):
        for suffix, columns, per_patient in MULTI_TABLE.get(
            cid, (("clinical", CLINICAL_COLUMNS, 1),)
        ):
            out.append((cid, suffix, columns, per_patient))
    return out


def _collection_table(
    cid: str, patient_ids: list[str], columns: Sequence[Column], per_patient: int = 1
) -> pa.Table:
    """One row per patient (or 1..``per_patient`` rows); values invented, deterministic."""
    fields = [Field("dicom_patient_id", "STRING"), Field("source_batch", "INT64")]
    fields += [Field(name, bq_type) for name, _, bq_type, _ in columns]
    rows = []
    for pid in patient_ids:
        for k in range(1 + stable_int(cid, pid, "rows") % per_patient):
            row: dict[str, Any] = {"dicom_patient_id": pid, "source_batch": 0}
            for name, _, bq_type, options in columns:
                # The first row keeps the seed of one-row tables (stable values).
                seed = (cid, pid, name) if k == 0 else (cid, pid, name, k)
                if options:
                    row[name] = pick(options, *seed)
                elif bq_type == "INT64":
                    row[name] = 30 + stable_int(*seed) % 55
                elif bq_type == "FLOAT64":
                    row[name] = float(stable_int(*seed) % 3650)
                else:  # free text: an identifier per row
                    row[name] = f"{pid}-{k + 1}"
            rows.append(row)
    return to_arrow(fields, rows)


def _column_rows(
    cid: str, table_name: str, src: str, columns: Sequence[Column] = CLINICAL_COLUMNS
) -> list[dict[str, Any]]:
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
    for number, (name, label, bq_type, options) in enumerate(columns, start=1):
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
