"""Expand series into instance rows with IDC's own columns filled consistently.

Each series becomes ``min(instanceCount, cap)`` rows. Identifiers, URLs, buckets,
sizes and hashes follow IDC's rules (see ``ids``); DICOM attributes come from
``attributes`` and ``sequences``.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from idcbq.sources.sample import ids
from idcbq.sources.sample.source import collections_facts, license_facts, source_url_by_doi

#: Modalities that are images (can be referenced by SEG / RTSTRUCT / SR / ANN).
IMAGE_MODALITIES = ("CT", "MR", "PT", "SM", "MG", "CR", "DX", "US", "NM", "XA", "RF", "OT")
DERIVED_MODALITIES = ("SEG", "RTSTRUCT", "SR", "ANN", "RTDOSE", "RTPLAN", "REG", "PR", "KO")


@dataclass
class SeriesPlan:
    """One series of the sample: its index row plus what the builder derives for it."""

    row: dict[str, Any]
    kept: int
    seedable: bool = False
    sop_uids: list[str] = field(default_factory=list)
    reference: SeriesPlan | None = None
    #: For an SR: a SEG series of the same study (else patient) its measurements point at.
    segmentation: SeriesPlan | None = None
    #: For a SEG: an SR measures its segments (they are then lesions).
    measured: bool = False

    @property
    def uid(self) -> str:
        return self.row["SeriesInstanceUID"]

    @property
    def modality(self) -> str:
        return self.row["Modality"] or "OT"


@dataclass(frozen=True)
class VersionFacts:
    """init/revised IDC versions aggregated per collection, patient and study."""

    collection: dict[str, tuple[int, int]]
    patient: dict[tuple[str, str], tuple[int, int]]
    study: dict[str, tuple[int, int]]

    @classmethod
    def of(cls, series: Iterable[dict[str, Any]]) -> VersionFacts:
        coll: dict[str, list[int]] = {}
        pat: dict[tuple[str, str], list[int]] = {}
        study: dict[str, list[int]] = {}
        for s in series:
            init, rev = s["series_init_idc_version"] or 1, s["series_revised_idc_version"] or 1
            for table, key in (
                (coll, s["collection_id"]),
                (pat, (s["collection_id"], s["PatientID"])),
                (study, s["StudyInstanceUID"]),
            ):
                cur = table.get(key)
                table[key] = [min(cur[0], init), max(cur[1], rev)] if cur else [init, rev]
        freeze = lambda t: {k: (v[0], v[1]) for k, v in t.items()}  # noqa: E731
        return cls(freeze(coll), freeze(pat), freeze(study))


def plan_series(
    series: list[dict[str, Any]], *, cap: int | None, seedable: set[str]
) -> list[SeriesPlan]:
    """SeriesPlans with instance UIDs and, for derived series, a referenced image series."""
    plans = []
    for s in series:
        count = max(int(s["instanceCount"] or 0), 1)
        kept = count if cap is None or s["SeriesInstanceUID"] in seedable else min(count, cap)
        plan = SeriesPlan(s, kept, s["SeriesInstanceUID"] in seedable)
        plan.sop_uids = [ids.sop_instance_uid(plan.uid, i) for i in range(kept)]
        plans.append(plan)
    _link_references(plans)
    return plans


def _link_references(plans: list[SeriesPlan]) -> None:
    """Point each derived series at an image series of the same study (else same patient)."""
    by_study: dict[str, list[SeriesPlan]] = defaultdict(list)
    by_patient: dict[tuple[str, str], list[SeriesPlan]] = defaultdict(list)
    for p in plans:
        if p.modality in IMAGE_MODALITIES:
            by_study[p.row["StudyInstanceUID"]].append(p)
            by_patient[(p.row["collection_id"], p.row["PatientID"])].append(p)
    segs_by_study: dict[str, list[SeriesPlan]] = defaultdict(list)
    segs_by_patient: dict[tuple[str, str], list[SeriesPlan]] = defaultdict(list)
    for p in plans:
        if p.modality == "SEG":
            segs_by_study[p.row["StudyInstanceUID"]].append(p)
            segs_by_patient[(p.row["collection_id"], p.row["PatientID"])].append(p)
    preferred = {"SEG": ("CT", "MR", "PT", "SM"), "ANN": ("SM",), "RTSTRUCT": ("CT", "MR", "PT")}
    for p in plans:
        if p.modality not in DERIVED_MODALITIES:
            continue
        candidates = by_study.get(p.row["StudyInstanceUID"]) or by_patient.get(
            (p.row["collection_id"], p.row["PatientID"]), []
        )
        order = preferred.get(p.modality, ("CT", "MR", "PT", "SM"))
        ranked = sorted(
            candidates,
            key=lambda c: (
                order.index(c.modality) if c.modality in order else len(order),
                ids.stable_int("ref", p.uid, c.uid),
            ),
        )
        p.reference = ranked[0] if ranked else None
        if p.modality == "SR":
            segs = segs_by_study.get(p.row["StudyInstanceUID"]) or segs_by_patient.get(
                (p.row["collection_id"], p.row["PatientID"]), []
            )
            if segs:
                p.segmentation = min(
                    segs, key=lambda c: (ids.stable_int("seg", p.uid, c.uid), c.uid)
                )
                p.segmentation.measured = True


def parse_date(text: Any) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(str(text)[:10])
    except ValueError:
        return None


def _time_of(*parts: object) -> dt.time:
    seconds = 7 * 3600 + ids.stable_int(*parts) % (10 * 3600)
    return dt.time(seconds // 3600, (seconds // 60) % 60, seconds % 60)


def series_common(plan: SeriesPlan, versions: VersionFacts) -> dict[str, Any]:
    """Columns shared by every instance of a series (IDC + series-level DICOM)."""
    s = plan.row
    coll_id, patient, study = s["collection_id"], s["PatientID"], s["StudyInstanceUID"]
    facts = collections_facts().get(coll_id, {})
    lic = license_facts().get(s["license_short_name"] or "", {})
    doi = s["source_DOI"] or ""
    aws_bucket = s["aws_bucket"] or "idc-open-data"
    gcs_bucket = ids.gcs_bucket_for(aws_bucket)
    series_uuid = s["crdc_series_uuid"]
    c_init, c_rev = versions.collection.get(coll_id, (1, 1))
    p_init, p_rev = versions.patient.get((coll_id, patient), (1, 1))
    st_init, st_rev = versions.study.get(study, (1, 1))
    updated = parse_date(facts.get("updated")) or dt.date(2020, 6, 1)
    study_date = parse_date(s["StudyDate"])
    return {
        "collection_name": facts.get("collection_name", coll_id),
        "collection_id": coll_id,
        "collection_timestamp": dt.datetime.combine(updated, dt.time(0, 0)),
        "collection_hash": ids.md5_hex("collection", coll_id, c_rev),
        "collection_init_idc_version": c_init,
        "collection_revised_idc_version": c_rev,
        "collection_tumorLocation": facts.get("tumor_locations"),
        "collection_species": facts.get("species"),
        "collection_cancerType": facts.get("cancer_types"),
        "access": "Public",
        "idc_case_id": ids.derived_uuid("case", coll_id, patient),
        "patient_hash": ids.md5_hex("patient", coll_id, patient, p_rev),
        "patient_init_idc_version": p_init,
        "patient_revised_idc_version": p_rev,
        "study_hash": ids.md5_hex("study", study, st_rev),
        "study_init_idc_version": st_init,
        "study_revised_idc_version": st_rev,
        "series_uuid": series_uuid,
        "series_gcs_url": ids.series_url("gs", gcs_bucket, series_uuid),
        "series_aws_url": ids.series_url("s3", aws_bucket, series_uuid),
        "series_hash": ids.md5_hex("series", plan.uid, s["series_revised_idc_version"]),
        "series_init_idc_version": s["series_init_idc_version"],
        "series_revised_idc_version": s["series_revised_idc_version"],
        "gcs_bucket": gcs_bucket,
        "aws_bucket": aws_bucket,
        "instance_init_idc_version": s["series_init_idc_version"],
        "instance_revised_idc_version": s["series_revised_idc_version"],
        "Source_DOI": doi,
        "Source_URL": source_url_by_doi().get(doi.lower(), f"https://doi.org/{doi}"),
        # The versioned DOI is not in idc-index-data; the unversioned one stands in.
        "Versioned_Source_DOI": doi,
        "analysis_result_id": s["analysis_result_id"],
        "license_url": lic.get("license_url"),
        "license_long_name": lic.get("license_long_name"),
        "license_short_name": s["license_short_name"],
        "crdc_study_uuid": ids.crdc_study_uuid(study),
        "crdc_series_uuid": series_uuid,
        "PatientID": patient,
        "StudyInstanceUID": study,
        "SeriesInstanceUID": plan.uid,
        "SOPClassUID": s["SOPClassUID"],
        "Modality": s["Modality"],
        "StudyDate": study_date,
        "SeriesDate": parse_date(s["SeriesDate"]) or study_date,
        "AcquisitionDate": parse_date(s["SeriesDate"]) or study_date,
        "ContentDate": parse_date(s["SeriesDate"]) or study_date,
        "StudyTime": _time_of("study", study),
        "SeriesTime": _time_of("series", plan.uid),
        "AccessionNumber": str(ids.stable_int("acc", study) % 10**8).zfill(8),
        "StudyID": str(ids.stable_int("sid", study) % 10**4),
        "StudyDescription": s["StudyDescription"],
        "SeriesDescription": s["SeriesDescription"],
        "SeriesNumber": s["SeriesNumber"],
        "Manufacturer": s["Manufacturer"],
        "ManufacturerModelName": s["ManufacturerModelName"],
        "PatientAge": s["PatientAge"],
        "PatientSex": s["PatientSex"],
        "BodyPartExamined": s["BodyPartExamined"],
        "SpecificCharacterSet": ["ISO_IR 100"],
        "PatientIdentityRemoved": "YES",
        "DeidentificationMethod": ["Per DICOM PS 3.15 AnnexE"],
        "ClinicalTrialProtocolID": coll_id,
        "ClinicalTrialSubjectID": patient,
    }


def split_values(text: Any) -> list[str]:
    """IDC's series index joins per-instance values with ','; split them back."""
    return [v for v in str(text).split(",") if v] if text not in (None, "") else []


def instance_values(plan: SeriesPlan, index: int) -> dict[str, Any]:
    """Columns that differ between instances of a series."""
    s = plan.row
    sop = plan.sop_uids[index]
    inst_uuid = ids.crdc_instance_uuid(sop)
    aws_bucket = s["aws_bucket"] or "idc-open-data"
    syntaxes = split_values(s["TransferSyntaxUID"]) or ["1.2.840.10008.1.2.1"]
    photometric = split_values(s["PhotometricInterpretation"])
    pixel_rep = split_values(s["PixelRepresentation"])
    return {
        "SOPInstanceUID": sop,
        "instance_uuid": inst_uuid,
        "crdc_instance_uuid": inst_uuid,
        "gcs_url": ids.instance_url(
            "gs", ids.gcs_bucket_for(aws_bucket), s["crdc_series_uuid"], inst_uuid
        ),
        "aws_url": ids.instance_url("s3", aws_bucket, s["crdc_series_uuid"], inst_uuid),
        # Every listed syntax / interpretation appears once there are enough instances.
        "TransferSyntaxUID": syntaxes[index % len(syntaxes)],
        "PhotometricInterpretation": photometric[index % len(photometric)] if photometric else None,
        "PixelRepresentation": int(pixel_rep[index % len(pixel_rep)]) if pixel_rep else None,
        "InstanceNumber": str(index + 1),
    }


def series_sizes(plan: SeriesPlan) -> list[int]:
    """Sizes of the kept instances; for a complete series they sum to the series size."""
    s = plan.row
    count = max(int(s["instanceCount"] or 0), 1)
    total = max(round((s["series_size_MB"] or 0.0) * 1_000_000), count)
    base, extra = divmod(total, count)
    sizes = [base + (1 if i < extra else 0) for i in range(count)]
    # Pairwise jitter keeps the total while making sizes look less uniform.
    for i in range(0, count - 1, 2):
        delta = ids.stable_int("size", plan.uid, i) % (base // 8 + 1)
        sizes[i] += delta
        sizes[i + 1] -= delta
    return sizes[: plan.kept]
