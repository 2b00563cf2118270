"""Clinical tables (``idc_vNN_clinical``) of the sample, keyed by real PatientIDs.

Which tables exist, and their columns (names, types, order), are IDC's as published:
``idcbq/data/reference/clinical_columns.json`` lists them with their sources. A
collection of the sample gets its tables only if that file lists them, so no column
name is invented. The first two columns are always ``dicom_patient_id`` (equal to
``dicom_all.PatientID``) and ``source_batch``. Values are synthetic and deterministic
(:mod:`.clinical_values`). The dictionaries ``table_metadata`` (one row per table) and
``column_metadata`` (table x column, ``table_name`` fully qualified, ``values`` listed
when a column has at most 20 distinct values, as IDC does) describe them.

Example:
    >>> sorted(clinical_table_specs())[:2]
    ['acrin_6698_clinical', 'cptac_cm_clinical']
    >>> [c.name for c in clinical_table_specs()["nlst_canc"].columns[:3]]
    ['dicom_patient_id', 'source_batch', 'pid']
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from idcbq.sources.releases import IDC_DATA_PROJECT
from idcbq.sources.sample.clinical_values import CASE_COLUMN, ROWS_PER_PATIENT, value_for
from idcbq.sources.sample.ids import md5_hex, stable_int
from idcbq.sources.sample.tables import to_arrow
from idcbq.sources.schema import Field

if TYPE_CHECKING:
    import pyarrow as pa

FACTS = "clinical_columns.json"
#: IDC leaves ``column_metadata.values`` empty above this many distinct values.
MAX_LISTED_VALUES = 20
DICOM_PATIENT_LABEL = "idc_provenance_dicom_patient_id"


@dataclass(frozen=True)
class ClinicalTable:
    """One clinical table as IDC publishes it: owner collection, columns, evidence."""

    name: str
    collection_id: str
    columns: tuple[Field, ...]
    evidence: tuple[str, ...]


@cache
def clinical_table_specs() -> dict[str, ClinicalTable]:
    """Every clinical table the sample can build, by name (from the reference facts)."""
    text = resources.files("idcbq.data.reference").joinpath(FACTS).read_text(encoding="utf-8")
    out = {}
    for name, spec in json.loads(text)["tables"].items():
        columns = tuple(Field(c, t) for c, t in spec["columns"])
        out[name] = ClinicalTable(name, spec["collection_id"], columns, tuple(spec["evidence"]))
    return out


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


def clinical_tables(
    patients: Mapping[str, Sequence[str]], *, idc_version: int
) -> dict[str, pa.Table]:
    """All clinical tables by name, for the given ``{collection_id: [PatientID, ...]}``."""
    tables: dict[str, pa.Table] = {}
    table_rows, column_rows = [], []
    dataset = f"{IDC_DATA_PROJECT}.idc_v{idc_version}_clinical"
    for spec in sorted(clinical_table_specs().values(), key=lambda t: t.name):
        if not patients.get(spec.collection_id):
            continue
        cid, name = spec.collection_id, spec.name
        tables[name] = _collection_table(spec, sorted(set(patients[cid])))
        src = f"{cid}/{name}_{md5_hex(cid, name)[:6]}.csv"
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
        column_rows.extend(_column_rows(spec, f"{dataset}.{name}", src, tables[name]))
    tables["table_metadata"] = to_arrow(TABLE_METADATA_FIELDS, table_rows)
    tables["column_metadata"] = to_arrow(COLUMN_METADATA_FIELDS, column_rows)
    return tables


def _collection_table(spec: ClinicalTable, patient_ids: list[str]) -> pa.Table:
    """1..ROWS_PER_PATIENT rows per patient; values synthetic, deterministic."""
    cid, per_patient = spec.collection_id, ROWS_PER_PATIENT.get(spec.name, 1)
    rows = []
    for pid in patient_ids:
        for k in range(1 + stable_int(cid, pid, spec.name, "rows") % per_patient):
            row: dict[str, Any] = {"dicom_patient_id": pid, "source_batch": 0}
            for f in spec.columns[2:]:
                row[f.name] = value_for(spec.name, cid, pid, f.name, f.type, k)
            rows.append(row)
    return to_arrow(spec.columns, rows)


def _column_rows(
    spec: ClinicalTable, table_name: str, src: str, table: pa.Table
) -> list[dict[str, Any]]:
    """column_metadata rows: every column but source_batch, numbered as in the table."""
    rows = []
    case = CASE_COLUMN.get(spec.name)
    for number, f in enumerate(spec.columns):
        if f.name == "source_batch":
            continue
        distinct = {v for v in table.column(f.name).to_pylist() if v is not None}
        listed = sorted(str(v) for v in distinct) if len(distinct) <= MAX_LISTED_VALUES else []
        rows.append(
            {
                "collection_id": spec.collection_id,
                "case_col": f.name == case,
                "table_name": table_name,
                "column": f.name,
                "column_label": DICOM_PATIENT_LABEL if f.name == "dicom_patient_id" else f.name,
                "data_type": f.type,
                "original_column_headers": [f.name],
                "values": [{"option_code": v, "option_description": None} for v in listed],
                "values_source": "derived from inspection of values" if listed else None,
                "files": [src],
                "sheet_names": [],
                "batch": [0],
                "column_numbers": [number],
            }
        )
    return rows
