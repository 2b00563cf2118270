"""Queries of the kind IDC's tutorials run on clinical and derived tables, offline.

Written here from the constructs the tutorials use (issue 20 §2, §3): NLST clinical
tables joined to ``dicom_all`` on ``PatientID`` (and NLST's screening-year / slice-number
alignment), ACRIN-6698 by ``dicom_patient_id``, RMS tables combined with
``* EXCEPT (dicom_patient_id, participantparticipant_id)``, HCC-TACE-Seg, the clinical
dictionary, and ``qualitative_measurements.segmentationSeriesUID`` joined back to
``dicom_all``. Each runs through the API on DuckDB and on the GoogleSQL reference engine
(results must be equal), and through ``idcbq sql -`` with the SQL on stdin.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.child import run_idcbq
from tests.cross_engine_support import compare, order_keys

P = "bigquery-public-data"

QUERIES = {
    "nlst_stage_of_ct_patients": f"""
        SELECT c.dicom_patient_id, c.clinical_stag, c.path_stag,
               COUNT(DISTINCT d.SeriesInstanceUID) AS ct_series
        FROM `{P}.idc_current.dicom_all` AS d
        JOIN `{P}.idc_current_clinical.nlst_canc` AS c ON d.PatientID = c.dicom_patient_id
        WHERE d.collection_id = 'nlst' AND d.Modality = 'CT'
        GROUP BY 1, 2, 3
        ORDER BY c.dicom_patient_id
    """,
    "nlst_lesion_slices_by_screening_year": f"""
        WITH images AS (
          SELECT PatientID, SeriesInstanceUID, InstanceNumber,
                 CASE CAST(StudyDate AS STRING)
                   WHEN '1999-01-02' THEN 0 WHEN '2000-01-02' THEN 1
                   WHEN '2001-01-02' THEN 2 ELSE 3 END AS screening_year
          FROM `{P}.idc_current.dicom_all`
          WHERE collection_id = 'nlst' AND Modality = 'CT'
        )
        SELECT ctab.dicom_patient_id, ctab.study_yr, ctab.sct_slice_num,
               prsn.gender, prsn.de_stag, COUNT(*) AS matching_images
        FROM `{P}.idc_current_clinical.nlst_ctab` AS ctab
        JOIN `{P}.idc_current_clinical.nlst_prsn` AS prsn
          ON prsn.dicom_patient_id = ctab.dicom_patient_id
        JOIN images
          ON images.PatientID = ctab.dicom_patient_id
         AND images.InstanceNumber = ctab.sct_slice_num
         AND images.screening_year = ctab.study_yr
        GROUP BY 1, 2, 3, 4, 5
    """,
    "nlst_screening_filters": f"""
        SELECT s.study_yr, s.ct_recon_filter1, COUNT(DISTINCT s.dicom_patient_id) AS patients
        FROM `{P}.idc_v25_clinical.nlst_screen` AS s
        WHERE s.dicom_patient_id IN (
          SELECT PatientID FROM `{P}.idc_v25.dicom_all` WHERE collection_id = 'nlst')
        GROUP BY 1, 2
        ORDER BY 1, 2
    """,
    "acrin_6698_response_by_patient": f"""
        SELECT c.dicom_patient_id, c.pcr, c.age,
               COUNT(DISTINCT d.SeriesInstanceUID) AS mr_series
        FROM `{P}.idc_current_clinical.acrin_6698_clinical` AS c
        JOIN `{P}.idc_current.dicom_all` AS d
          ON d.PatientID = c.dicom_patient_id AND d.collection_id = 'acrin_6698'
        WHERE d.Modality = 'MR'
        GROUP BY 1, 2, 3
        ORDER BY 1
    """,
    "hcc_tace_seg_segmented_patients": f"""
        SELECT c.dicom_patient_id, c.age, c.sex,
               COUNTIF(d.Modality = 'SEG') AS seg_instances
        FROM `{P}.idc_current_clinical.hcc_tace_seg_clinical` AS c
        JOIN `{P}.idc_current.dicom_all` AS d
          ON d.PatientID = c.dicom_patient_id AND d.collection_id = 'hcc_tace_seg'
        GROUP BY 1, 2, 3
        ORDER BY 1
    """,
    "rms_three_tables_except_keys": f"""
        SELECT demographics.dicom_patient_id, demographics.gender,
               sample.* EXCEPT (dicom_patient_id, participantparticipant_id, source_batch),
               diagnosis.primary_diagnosis
        FROM `{P}.idc_current_clinical.rms_mutation_prediction_demographics` AS demographics
        JOIN `{P}.idc_current_clinical.rms_mutation_prediction_sample` AS sample
          ON sample.dicom_patient_id = demographics.dicom_patient_id
        JOIN `{P}.idc_current_clinical.rms_mutation_prediction_diagnosis` AS diagnosis
          ON diagnosis.participantparticipant_id = sample.participantparticipant_id
        ORDER BY demographics.dicom_patient_id, sample.sample_id
    """,
    "clinical_dictionary_for_nlst_canc": f"""
        SELECT `column`, column_label, data_type, ARRAY_LENGTH(`values`) AS listed_values
        FROM `{P}.idc_current_clinical.column_metadata`
        WHERE collection_id = 'nlst'
          AND SPLIT(table_name, '.')[SAFE_OFFSET(2)] = 'nlst_canc'
          AND (LOWER(`column`) LIKE '%stag%' OR case_col)
        ORDER BY `column`
    """,
    "qualitative_findings_on_segmentation_series": f"""
        SELECT q.Quantity.CodeMeaning AS quantity, q.Value.CodeMeaning AS value,
               seg.Modality AS segmentation_modality,
               COUNT(DISTINCT q.segmentationSeriesUID) AS segmentation_series
        FROM `{P}.idc_current.qualitative_measurements` AS q
        JOIN `{P}.idc_current.dicom_all` AS seg
          ON seg.SeriesInstanceUID = q.segmentationSeriesUID
         AND seg.SOPInstanceUID = q.segmentationInstanceUID
        GROUP BY 1, 2, 3
        ORDER BY 1, 2
    """,
}
#: Queries whose result must not be empty on the default sample (the joins must meet).
NON_EMPTY = set(QUERIES) - {"nlst_lesion_slices_by_screening_year"}


@pytest.fixture(scope="module")
def client(sample_root: Path):
    import idcbq

    c = idcbq.connect("duckdb", source=sample_root, idc_version="current")
    yield c
    c.close()


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(QUERIES))
def test_same_on_duckdb_and_googlesql(client, gsql_engine, name: str) -> None:
    sql = QUERIES[name]
    duck = client.sql(sql).to_arrow()
    oracle = gsql_engine.execute(gsql_engine.prepare(sql, []))
    compare(oracle, duck, ordered=order_keys(sql), types=True)
    if name in NON_EMPTY:
        assert duck.num_rows > 0, name


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_runs_through_idcbq_sql_stdin(client, sample_root: Path, tmp_path: Path, name: str):
    env = {k: v for k, v in os.environ.items() if not k.startswith("IDCBQ_")}
    env.update(IDCBQ_SAMPLE_ROOT=str(sample_root), XDG_CONFIG_HOME=str(tmp_path / "xdg"))
    proc = run_idcbq("sql", "-", "--json", env=env, stdin=QUERIES[name], timeout=300)
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout)
    want = client.sql(QUERIES[name]).to_arrow()
    assert len(got) == want.num_rows
    if got:
        assert list(got[0]) == want.column_names
