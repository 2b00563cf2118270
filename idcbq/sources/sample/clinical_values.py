"""Synthetic values for the sample's clinical tables: deterministic, typed like IDC's columns.

Column names and types come from ``idcbq/data/reference/clinical_columns.json`` (IDC's
published schemas); this module only decides what to put in them. Every value is a
function of (table, patient, column, row number), so rebuilding gives the same bytes.

- The *case column* (the source column IDC copied into ``dicom_patient_id``: ``pid`` in
  NLST, ``participantparticipant_id`` in RMS, ``submitter_id`` in CPTAC, ...) holds the
  PatientID itself, as in IDC.
- A few columns that tutorials filter or decode get codes of the kind IDC publishes
  (NLST stage codes such as ``'400'``, screening years 0-2, slice numbers matching the
  sample's ``InstanceNumber`` 1-32); everything else gets a value derived by type.

Example:
    >>> value_for("nlst_ctab", "nlst", "100002", "study_yr", "INT64", 0) in (0, 1, 2)
    True
    >>> value_for("nlst_canc", "nlst", "100002", "pid", "STRING", 0)
    '100002'
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from idcbq.sources.sample.ids import pick, stable_int

#: Table -> the source column IDC copied into dicom_patient_id (column_metadata.case_col).
CASE_COLUMN = {
    "nlst_canc": "pid",
    "nlst_prsn": "pid",
    "nlst_ctab": "pid",
    "nlst_ctabc": "pid",
    "nlst_screen": "pid",
    "acrin_6698_clinical": "tcia_patient_id",
    "hcc_tace_seg_clinical": "tcia_id",
    "rms_mutation_prediction_demographics": "participant_id",
    "rms_mutation_prediction_diagnosis": "participantparticipant_id",
    "rms_mutation_prediction_sample": "participantparticipant_id",
    "nsclc_radiomics_interobserver1_clinical": "patientid",
    "tcga_uvm_clinical": "case_barcode",
    "cptac_cm_clinical": "submitter_id",
    "htan_vanderbilt_demographics": "HTAN_Participant_ID",
    "htan_vanderbilt_diagnosis": "HTAN_Participant_ID",
    "htan_vanderbilt_followup": "HTAN_Participant_ID",
    "htan_vanderbilt_therapy": "HTAN_Participant_ID",
}

#: Tables with several rows per patient (lesions, screening rounds, samples, visits).
ROWS_PER_PATIENT = {
    "nlst_ctab": 3,
    "nlst_ctabc": 2,
    "nlst_screen": 3,
    "rms_mutation_prediction_sample": 3,
    "htan_vanderbilt_followup": 3,
    "htan_vanderbilt_therapy": 2,
}

_NLST_STAGES = ("110", "120", "210", "220", "310", "320", "400", "999", ".N")
_SEX_TEXT = ("male", "female")

#: Column -> value options, for every table holding that column (``None`` key: any
#: table) or for one table. Options are in the column's own type.
OPTIONS: dict[tuple[str | None, str], tuple[Any, ...]] = {
    ("nlst_canc", "clinical_stag"): _NLST_STAGES,
    ("nlst_canc", "path_stag"): _NLST_STAGES,
    ("nlst_canc", "de_stag"): _NLST_STAGES,
    ("nlst_canc", "de_stag_7thed"): _NLST_STAGES,
    ("nlst_prsn", "de_stag"): _NLST_STAGES,
    ("nlst_prsn", "de_stag_7thed"): _NLST_STAGES,
    ("nlst_canc", "de_type"): ("8140", "8070", "8041", "8046", ".N"),
    ("nlst_prsn", "de_type"): ("8140", "8070", "8041", "8046", ".N"),
    ("nlst_prsn", "gender"): (1, 2),
    ("nlst_prsn", "race"): (1, 2, 3, 4, 7),
    ("nlst_prsn", "cigsmok"): (0, 1),
    ("nlst_prsn", "age"): tuple(range(55, 75)),
    (None, "study_yr"): (0, 1, 2),
    ("nlst_ctab", "sct_slice_num"): tuple(str(n) for n in range(1, 33)),
    ("nlst_ctab", "sct_epi_loc"): ("1", "2", "3", "4", "5", "6"),
    ("nlst_ctab", "sct_margins"): ("1", "2", "3", "9"),
    ("nlst_ctab", "sct_pre_att"): ("1", "2", "3", ".N"),
    ("nlst_screen", "ct_recon_filter1"): ("B30f", "STANDARD", "LUNG", "C"),
    ("acrin_6698_clinical", "pcr"): ("0", "1"),
    ("acrin_6698_clinical", "age"): tuple(str(n) for n in range(30, 71)),
    ("acrin_6698_clinical", "race"): ("1", "3", "4", "5"),
    ("hcc_tace_seg_clinical", "sex"): (1, 2),
    ("hcc_tace_seg_clinical", "age"): tuple(range(40, 86)),
    ("rms_mutation_prediction_demographics", "gender"): ("Male", "Female"),
    ("rms_mutation_prediction_demographics", "race"): ("White", "Black or African American"),
    ("rms_mutation_prediction_diagnosis", "primary_diagnosis"): (
        "Alveolar rhabdomyosarcoma",
        "Embryonal rhabdomyosarcoma",
    ),
    ("rms_mutation_prediction_sample", "sample_type"): ("Primary Tumor", "Metastatic"),
    ("rms_mutation_prediction_sample", "sample_anatomic_site"): ("Extremity", "Trunk", "Head"),
    ("nsclc_radiomics_interobserver1_clinical", "sex"): _SEX_TEXT,
    ("nsclc_radiomics_interobserver1_clinical", "ageyears"): tuple(range(45, 86)),
    ("nsclc_radiomics_interobserver1_clinical", "overallstage"): ("I", "II", "IIIa", "IIIb"),
    ("nsclc_radiomics_interobserver1_clinical", "histology"): (
        "adenocarcinoma",
        "squamous cell carcinoma",
        "large cell",
    ),
    ("tcga_uvm_clinical", "gender"): ("MALE", "FEMALE"),
    ("tcga_uvm_clinical", "vital_status"): ("Alive", "Dead"),
    ("tcga_uvm_clinical", "age_at_diagnosis"): tuple(range(30, 86)),
    ("cptac_cm_clinical", "demo__gender"): _SEX_TEXT,
    ("cptac_cm_clinical", "demo__vital_status"): ("Alive", "Dead"),
    ("htan_vanderbilt_demographics", "Gender"): _SEX_TEXT,
    ("htan_vanderbilt_demographics", "Vital_Status"): ("Alive", "Dead"),
}

#: Collections whose source tables hold coded values (numbers as strings, '.M' missing).
CODED = ("nlst", "acrin_6698", "hcc_tace_seg")
_EPOCH = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)


def value_for(table: str, cid: str, pid: str, column: str, bq_type: str, row: int) -> Any:
    """The synthetic value of one cell (``row``: the patient's row number, from 0)."""
    if column == CASE_COLUMN.get(table):
        return pid
    if bq_type == "STRING" and (column == "Id" or column.endswith("_id")):
        return f"{pid}-{row + 1}"  # identifiers (sample_id, diagnosis_id): one per row
    # The first row keeps the seed of one-row tables (stable values across versions).
    seed = (cid, pid, column) if row == 0 else (cid, pid, column, row)
    options = OPTIONS.get((table, column)) or OPTIONS.get((None, column))
    if options:
        return pick(options, *seed)
    n = stable_int(*seed)
    if bq_type == "INT64":
        return n % 100
    if bq_type == "FLOAT64":
        return float(n % 3650)
    if bq_type == "BOOL":
        return n % 2 == 0
    if bq_type == "TIMESTAMP":
        return _EPOCH + dt.timedelta(days=n % 1000)
    if cid in CODED:
        return pick(("1", "2", "3", "9", ".M"), *seed)
    return f"{column} {1 + n % 3}"
