"""Nested DICOM sequences (REPEATED RECORD columns), consistent across the sample.

References point at real series of the sample: ``ReferencedSeriesSequence`` of a
SEG / RTSTRUCT / SR / ANN names its ``SeriesPlan.reference`` (an image series of the
same study) and lists that series' SOPInstanceUIDs. Codes are real (see ``codes``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from idcbq.sources.sample import codes
from idcbq.sources.sample.codes import code_item
from idcbq.sources.sample.ids import derived_uid, pick, stable_int, stable_unit
from idcbq.sources.sample.instances import SeriesPlan

SOP_CLASS_BY_MODALITY = {
    "CT": "1.2.840.10008.5.1.4.1.1.2",
    "MR": "1.2.840.10008.5.1.4.1.1.4",
    "PT": "1.2.840.10008.5.1.4.1.1.128",
    "SM": "1.2.840.10008.5.1.4.1.1.77.1.6",
}
MAX_REFERENCED_INSTANCES = 8


def series_sequences(plan: SeriesPlan) -> dict[str, Any]:
    """Nested columns shared by the instances of a series."""
    builder = _BUILDERS.get(plan.modality)
    return builder(plan) if builder else {}


def _ref_instances(ref: SeriesPlan) -> list[dict[str, str]]:
    sop_class = ref.row["SOPClassUID"] or SOP_CLASS_BY_MODALITY.get(ref.modality, "")
    return [
        {"ReferencedSOPClassUID": sop_class, "ReferencedSOPInstanceUID": uid}
        for uid in ref.sop_uids[:MAX_REFERENCED_INSTANCES]
    ]


def referenced_series(plan: SeriesPlan) -> list[dict[str, Any]]:
    """``ReferencedSeriesSequence``: one item naming the referenced image series."""
    ref = plan.reference
    if ref is None:
        return []
    return [{"SeriesInstanceUID": ref.uid, "ReferencedInstanceSequence": _ref_instances(ref)}]


def _seg(plan: SeriesPlan) -> dict[str, Any]:
    ref = plan.reference
    pathology = ref is not None and ref.modality == "SM"
    types = segment_types(plan)
    algorithm = pick(("nnU-Net", "TotalSegmentator", "HoVer-Net", "manual"), "alg", plan.uid)
    segments = []
    for k, (category, seg_type) in enumerate(types):
        automatic = algorithm != "manual"
        segments.append(
            {
                "SegmentNumber": k + 1,
                "SegmentLabel": seg_type[2],
                "SegmentDescription": seg_type[2],
                "SegmentAlgorithmType": "AUTOMATIC" if automatic else "MANUAL",
                # REPEATED in IDC's tables (seg_index.sql reads [SAFE_OFFSET(0)]).
                "SegmentAlgorithmName": [algorithm] if automatic else [],
                "SegmentedPropertyCategoryCodeSequence": [code_item(category)],
                "SegmentedPropertyTypeCodeSequence": [code_item(seg_type)],
                "AnatomicRegionSequence": [] if pathology else [_anatomic_region(plan, seg_type)],
                "RecommendedDisplayCIELabValue": [
                    int(stable_int("lab", plan.uid, k, c) % 65535) for c in range(3)
                ],
                "TrackingID": f"segment-{k + 1}",
                "TrackingUID": derived_uid("tracking", plan.uid, k),
            }
        )
    out: dict[str, Any] = {
        "SegmentSequence": segments,
        "ReferencedSeriesSequence": referenced_series(plan),
    }
    if ref is not None:
        spacing = ["0.00025", "0.00025"] if pathology else ["0.75", "0.75"]
        out["SharedFunctionalGroupsSequence"] = [
            {
                "PixelMeasuresSequence": [
                    {"SliceThickness": "1", "SpacingBetweenSlices": "1", "PixelSpacing": spacing}
                ],
                "PlaneOrientationSequence": [
                    {"ImageOrientationPatient": ["1", "0", "0", "0", "1", "0"]}
                ],
                "DerivationImageSequence": [
                    {
                        "SourceImageSequence": [
                            {
                                **item,
                                "PurposeOfReferenceCodeSequence": [
                                    code_item(
                                        (
                                            "121322",
                                            "DCM",
                                            "Source image for image processing operation",
                                        )
                                    )
                                ],
                            }
                            for item in _ref_instances(ref)[:1]
                        ],
                        "DerivationCodeSequence": [code_item(("113076", "DCM", "Segmentation"))],
                    }
                ],
            }
        ]
    return out


def segment_count(plan: SeriesPlan) -> int:
    """Number of segments in each instance of a SEG series (1 to 3)."""
    return 1 + stable_int("nseg", plan.uid) % 3


def segment_types(plan: SeriesPlan) -> list[tuple[codes.Code, codes.Code]]:
    """(category, type) of each segment; segments an SR measures are lesions."""
    ref = plan.reference
    if ref is not None and ref.modality == "SM":
        choices = codes.SEGMENT_TYPES_PATHOLOGY
    elif plan.measured:
        choices = tuple(c for c in codes.SEGMENT_TYPES_RADIOLOGY if c[0] == codes.CATEGORY_MORPH)
    else:
        choices = codes.SEGMENT_TYPES_RADIOLOGY
    start = stable_int("segstart", plan.uid)
    return [choices[(start + k) % len(choices)] for k in range(segment_count(plan))]


def _anatomic_region(plan: SeriesPlan, seg_type: codes.Code) -> dict[str, Any]:
    region: dict[str, Any] = code_item(pick(codes.ANATOMIC_REGIONS, "region", plan.uid))
    # Paired organs carry a laterality modifier, as in IDC's segmentations.
    paired = seg_type[0] in ("39607008", "64033007")
    region["AnatomicRegionModifierSequence"] = (
        [code_item(pick(codes.LATERALITIES, "side", plan.uid))] if paired else []
    )
    return region


def _rtstruct(plan: SeriesPlan) -> dict[str, Any]:
    ref = plan.reference
    frame = derived_uid("frame", (ref or plan).row["StudyInstanceUID"])
    n_rois = 2 + stable_int("nroi", plan.uid) % 4
    start = stable_int("roistart", plan.uid)
    rois, observations = [], []
    for k in range(n_rois):
        name, kind = codes.ROIS[(start + k) % len(codes.ROIS)]
        rois.append(
            {
                "ROINumber": str(k + 1),
                "ReferencedFrameOfReferenceUID": frame,
                "ROIName": name,
                "ROIGenerationAlgorithm": pick(
                    ("MANUAL", "AUTOMATIC", "SEMIAUTOMATIC"), "gen", plan.uid
                ),
            }
        )
        observations.append(
            {
                "ObservationNumber": str(k + 1),
                "ReferencedROINumber": str(k + 1),
                "ROIObservationLabel": name,
                "RTROIInterpretedType": kind,
            }
        )
    rt_series = []
    if ref is not None:
        rt_series = [{"SeriesInstanceUID": ref.uid, "ContourImageSequence": _ref_instances(ref)}]
    return {
        "StructureSetROISequence": rois,
        "RTROIObservationsSequence": observations,
        "ReferencedFrameOfReferenceSequence": [
            {
                "FrameOfReferenceUID": frame,
                "RTReferencedStudySequence": [
                    {
                        "ReferencedSOPClassUID": "1.2.840.10008.3.1.2.3.1",
                        "ReferencedSOPInstanceUID": plan.row["StudyInstanceUID"],
                        "RTReferencedSeriesSequence": rt_series,
                    }
                ],
            }
        ],
        "ReferencedSeriesSequence": referenced_series(plan),
    }


#: SR SOP classes IDC's measurement_groups view reads (Basic/Enhanced/Comprehensive/3D SR).
TID1500_SOP_CLASSES = (
    "1.2.840.10008.5.1.4.1.1.88.11",
    "1.2.840.10008.5.1.4.1.1.88.22",
    "1.2.840.10008.5.1.4.1.1.88.33",
    "1.2.840.10008.5.1.4.1.1.88.34",
    "1.2.840.10008.5.1.4.1.1.88.35",
)
SEG_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.66.4"


def _sr(plan: SeriesPlan) -> dict[str, Any]:
    """A TID 1500 Imaging Measurement Report (SR classes IDC reads), else a bare container.

    Each measurement group carries what IDC's derived views look for: tracking
    identifier and UID, finding, finding site (SRT or SCT code, with laterality),
    the source series, a reference to a segment of a SEG of the same study, numeric
    measurements with units (some with a derivation modifier) and qualitative
    evaluations.
    """
    ref = plan.reference
    tid1500 = (plan.row["SOPClassUID"] or "") in TID1500_SOP_CLASSES
    n_groups = 1 + stable_int("ngroups", plan.uid) % 2
    groups = [_measurement_group(plan, g) for g in range(n_groups)]
    content = [
        {
            "RelationshipType": "HAS CONCEPT MOD",
            "ValueType": "CODE",
            "ConceptNameCodeSequence": [
                code_item(("121049", "DCM", "Language of Content Item and Descendants"))
            ],
            "ConceptCodeSequence": [code_item(("eng", "RFC5646", "English"))],
        },
        {
            "RelationshipType": "CONTAINS",
            "ValueType": "CONTAINER",
            "ContinuityOfContent": "SEPARATE",
            "ConceptNameCodeSequence": [code_item(("126010", "DCM", "Imaging Measurements"))],
            "ContentSequence": groups,
        },
    ]
    evidence = []
    if ref is not None:
        evidence = [
            {
                "StudyInstanceUID": ref.row["StudyInstanceUID"],
                "ReferencedSeriesSequence": [
                    {
                        "SeriesInstanceUID": ref.uid,
                        "ReferencedSOPSequence": _ref_instances(ref),
                    }
                ],
            }
        ]
    template = [{"MappingResource": "DCMR", "TemplateIdentifier": "1500"}] if tid1500 else []
    return {
        "ConceptNameCodeSequence": [code_item(codes.SR_TITLE)],
        "ContentTemplateSequence": template,
        "ContentSequence": content,
        "CurrentRequestedProcedureEvidenceSequence": evidence,
        "ReferencedSeriesSequence": referenced_series(plan),
    }


def _code_content(
    concept: codes.Code, value: codes.Code, relationship: str = "HAS CONCEPT MOD", **extra: Any
) -> dict[str, Any]:
    return {
        "RelationshipType": relationship,
        "ValueType": "CODE",
        "ConceptNameCodeSequence": [code_item(concept)],
        "ConceptCodeSequence": [code_item(value)],
        **extra,
    }


def _finding(plan: SeriesPlan, g: int) -> codes.Code:
    """The finding of group ``g``: the type of the segment it measures, if any."""
    seg = plan.segmentation
    if seg is not None:
        types = segment_types(seg)
        return types[g % len(types)][1]
    return pick(codes.SR_FINDINGS, "finding", plan.uid, g)


def _measurement_group(plan: SeriesPlan, g: int) -> dict[str, Any]:
    """One TID 1411 measurement group (items in the order TID 1500 lists them)."""
    ref, seg = plan.reference, plan.segmentation
    uid = plan.uid
    site_concept = (
        codes.SR_FINDING_SITE_SCT if stable_int("site", uid) % 3 == 0 else codes.SR_FINDING_SITE_SRT
    )
    site = pick(codes.SR_FINDING_SITES, "sitecode", uid, g)
    items: list[dict[str, Any]] = [
        {
            "RelationshipType": "HAS OBS CONTEXT",
            "ValueType": "TEXT",
            "ConceptNameCodeSequence": [code_item(codes.SR_TRACKING_ID)],
            "TextValue": f"Lesion {g + 1}",
        },
        {
            "RelationshipType": "HAS OBS CONTEXT",
            "ValueType": "UIDREF",
            "ConceptNameCodeSequence": [code_item(codes.SR_TRACKING_UID)],
            "UID": derived_uid("srtracking", uid, g),
        },
        _code_content(codes.SR_FINDING, _finding(plan, g), "CONTAINS"),
        _code_content(
            site_concept,
            site,
            ContentSequence=[
                _code_content(codes.SR_LATERALITY, pick(codes.LATERALITIES, "lat", uid, g))
            ]
            if stable_int("haslat", uid, g) % 2 == 0
            else [],
        ),
    ]
    source = seg.reference if seg is not None and seg.reference is not None else ref
    if source is not None:
        items.append(
            {
                "RelationshipType": "CONTAINS",
                "ValueType": "UIDREF",
                "ConceptNameCodeSequence": [code_item(codes.SR_SOURCE_SERIES)],
                "UID": source.uid,
            }
        )
    if seg is not None and seg.sop_uids:
        items.append(
            {
                "RelationshipType": "CONTAINS",
                "ValueType": "IMAGE",
                "ConceptNameCodeSequence": [code_item(codes.SR_REFERENCED_SEGMENT)],
                "ReferencedSOPSequence": [
                    {
                        "ReferencedSOPClassUID": seg.row["SOPClassUID"] or SEG_SOP_CLASS,
                        "ReferencedSOPInstanceUID": seg.sop_uids[0],
                        "ReferencedSegmentNumber": [g % segment_count(seg) + 1],
                    }
                ],
            }
        )
    n_measurements = 1 + stable_int("nmeas", uid, g) % 2
    start = stable_int("meas", uid, g)
    for m in range(n_measurements):
        concept, unit = codes.SR_MEASUREMENTS[(start + m) % len(codes.SR_MEASUREMENTS)]
        value = _measurement(concept[0], stable_unit("value", uid, g, m))
        derivation = concept[0] in ("112031", "126401")
        items.append(
            {
                "RelationshipType": "CONTAINS",
                "ValueType": "NUM",
                "ConceptNameCodeSequence": [code_item(concept)],
                "MeasuredValueSequence": [
                    {
                        "MeasurementUnitsCodeSequence": [code_item(unit)],
                        # REPEATED STRING in IDC's tables.
                        "NumericValue": [value],
                    }
                ],
                "ContentSequence": [
                    _code_content(codes.SR_DERIVATION, pick(codes.DERIVATIONS, "deriv", uid, g, m))
                ]
                if derivation
                else [],
            }
        )
    for q, (concept, values) in enumerate(codes.SR_QUALITATIVE):
        if stable_int("qual", uid, g, q) % 4 == 0:
            continue
        items.append(_code_content(concept, pick(values, "qualv", uid, g, q), "CONTAINS"))
    if ref is not None:
        items.append(
            {
                "RelationshipType": "CONTAINS",
                "ValueType": "IMAGE",
                "ConceptNameCodeSequence": [code_item(("121112", "DCM", "Source of Measurement"))],
                "ReferencedSOPSequence": _ref_instances(ref)[:1],
            }
        )
    return {
        "RelationshipType": "CONTAINS",
        "ValueType": "CONTAINER",
        "ContinuityOfContent": "SEPARATE",
        "ConceptNameCodeSequence": [code_item(codes.SR_MEASUREMENT_GROUP)],
        "ContentSequence": items,
    }


def _measurement(code_value: str, unit: float) -> str:
    scale = {"118565006": 5000.0, "410668003": 40.0, "112031": 300.0, "126401": 12.0}.get(
        code_value, 10.0
    )
    return f"{scale * (0.05 + unit):.4f}"


def radiopharmaceutical(plan: SeriesPlan) -> dict[str, Any]:
    """``RadiopharmaceuticalInformationSequence`` item of a PET series."""
    name, nuclide, half_life, agent = pick(codes.RADIOPHARMACEUTICALS, "rp", plan.uid)
    start = stable_int("rpstart", plan.uid) % (3 * 3600)
    return {
        "Radiopharmaceutical": name,
        "RadiopharmaceuticalStartTime": dt.time(7 + start // 3600, (start // 60) % 60, start % 60),
        "RadionuclideTotalDose": str(int(250e6 + 250e6 * stable_unit("dose", plan.uid))),
        "RadionuclideHalfLife": half_life,
        "RadionuclidePositronFraction": "0.97",
        "RadionuclideCodeSequence": [code_item(nuclide)],
        "RadiopharmaceuticalCodeSequence": [code_item(agent)],
    }


def _sm(plan: SeriesPlan) -> dict[str, Any]:
    uid = plan.uid
    stains = pick(codes.STAINS, "stain", uid)
    embedding = pick((codes.PARAFFIN, codes.OCT), "embed", uid)
    steps = [
        _prep_step(codes.TISSUE_FIXATIVE, codes.FORMALIN),
        _prep_step(codes.EMBEDDING_MEDIUM, embedding),
        {
            "SpecimenPreparationStepContentItemSequence": [
                _content_item(codes.USING_SUBSTANCE, stain) for stain in stains
            ]
        },
    ]
    anatomy = pick(codes.PRIMARY_ANATOMY, "anat", plan.row["collection_id"])
    spacing = _ds(0.00025 * (1 + stable_int("mag", uid) % 2))
    return {
        "SpecimenDescriptionSequence": [
            {
                "SpecimenIdentifier": f"{plan.row['PatientID']}-S{stable_int('spec', uid) % 10}",
                "SpecimenUID": derived_uid("specimen", uid),
                "PrimaryAnatomicStructureSequence": [
                    {
                        **code_item(anatomy),
                        "PrimaryAnatomicStructureModifierSequence": [
                            code_item(codes.ANATOMY_MODIFIER_TUMOR)
                        ],
                    }
                ],
                "SpecimenPreparationSequence": steps,
            }
        ],
        "OpticalPathSequence": [
            {
                "OpticalPathIdentifier": "1",
                "ObjectiveLensPower": pick(("20", "40"), "lens", uid),
                "IlluminationTypeCodeSequence": [code_item(codes.ILLUMINATION_BRIGHTFIELD)],
            }
        ],
        "SharedFunctionalGroupsSequence": [
            {"PixelMeasuresSequence": [{"SliceThickness": "0", "PixelSpacing": [spacing, spacing]}]}
        ],
        "AdmittingDiagnosesCodeSequence": [
            code_item(pick(codes.ADMITTING_DIAGNOSES, "dx", plan.row["collection_id"]))
        ],
    }


def _prep_step(concept: codes.Code, value: codes.Code) -> dict[str, Any]:
    return {"SpecimenPreparationStepContentItemSequence": [_content_item(concept, value)]}


def _content_item(concept: codes.Code, value: codes.Code) -> dict[str, Any]:
    return {
        "ValueType": "CODE",
        "ConceptNameCodeSequence": [code_item(concept)],
        "ConceptCodeSequence": [code_item(value)],
    }


def _ds(value: float) -> str:
    return f"{value:.6f}".rstrip("0").rstrip(".")


def _ann(plan: SeriesPlan) -> dict[str, Any]:
    n_groups = 1 + stable_int("anngroups", plan.uid) % 2
    groups = [
        {
            "AnnotationGroupNumber": g + 1,
            "AnnotationGroupUID": derived_uid("anngroup", plan.uid, g),
            "AnnotationGroupLabel": f"nuclei-{g + 1}",
            "AnnotationGroupGenerationType": "AUTOMATIC",
            "NumberOfAnnotations": 100 + stable_int("nann", plan.uid, g) % 50000,
            "GraphicType": pick(("POLYGON", "POINT"), "graphic", plan.uid, g),
            "AnnotationPropertyCategoryCodeSequence": [code_item(codes.ANN_CATEGORY)],
            "AnnotationPropertyTypeCodeSequence": [code_item(codes.ANN_TYPE)],
            "AnnotationGroupAlgorithmIdentificationSequence": [{"AlgorithmName": "HoVer-Net"}],
        }
        for g in range(n_groups)
    ]
    return {"AnnotationGroupSequence": groups, "ReferencedSeriesSequence": referenced_series(plan)}


_BUILDERS = {"SEG": _seg, "RTSTRUCT": _rtstruct, "SR": _sr, "SM": _sm, "ANN": _ann}
