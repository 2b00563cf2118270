"""Plausible, deterministic DICOM attributes per modality (flat columns).

Values are hash-seeded from the series UID so a series is internally consistent
(same spacing, kernel, echo time for all its instances) and differs from others.
DS/IS values are strings, multi-valued attributes are lists, as in BigQuery.
"""

from __future__ import annotations

from typing import Any

from idcbq.sources.sample.ids import pick, stable_int, stable_unit
from idcbq.sources.sample.instances import SeriesPlan


def _ds(value: float, digits: int = 6) -> str:
    """A DS string: shortest decimal text, as scanners write them."""
    text = f"{value:.{digits}f}".rstrip("0").rstrip(".")
    return text or "0"


def series_attributes(plan: SeriesPlan) -> dict[str, Any]:
    """Attributes shared by all instances of the series, by modality."""
    builder = _BUILDERS.get(plan.modality)
    out: dict[str, Any] = {}
    if plan.modality in ("CT", "MR", "PT"):
        out.update(_cross_sectional(plan))
    if builder:
        out.update(builder(plan))
    return out


def instance_attributes(plan: SeriesPlan, common: dict[str, Any], index: int) -> dict[str, Any]:
    """Per-instance values: slice positions (CT/MR/PT), pyramid levels (SM)."""
    if plan.modality == "SM":
        # Instance 0 is the base level; the others are downsampled pyramid levels.
        level = 2**index
        return {
            "ImageType": [
                "ORIGINAL" if index == 0 else "DERIVED",
                "PRIMARY",
                "VOLUME",
                "NONE" if index == 0 else "RESAMPLED",
            ],
            "TotalPixelMatrixColumns": common["TotalPixelMatrixColumns"] // level,
            "TotalPixelMatrixRows": common["TotalPixelMatrixRows"] // level,
        }
    if plan.modality not in ("CT", "MR", "PT"):
        return {}
    thickness = float(common.get("SliceThickness") or 1.0)
    z = -200.0 + thickness * index
    x0 = -float(common["Columns"]) * float(common["PixelSpacing"][1]) / 2
    return {
        "ImagePositionPatient": [_ds(x0, 4), _ds(x0, 4), _ds(z, 4)],
        "SliceLocation": _ds(z, 4),
        "AcquisitionNumber": "1",
    }


def _cross_sectional(plan: SeriesPlan) -> dict[str, Any]:
    uid = plan.uid
    size = {
        "CT": 512,
        "MR": pick((256, 320, 384, 512), "mrsize", uid),
        "PT": pick((128, 144, 200), "ptsize", uid),
    }[plan.modality]
    spacing = {
        "CT": 0.5 + 0.5 * stable_unit("sp", uid),
        "MR": 0.4 + 0.8 * stable_unit("sp", uid),
    }.get(plan.modality, 2.0 + 2.5 * stable_unit("sp", uid))
    thickness = (
        pick(("0.625", "1.25", "2.5", "3", "5"), "th", uid) if plan.modality != "PT" else "3.27"
    )
    return {
        "Rows": size,
        "Columns": size,
        "PixelSpacing": [_ds(spacing), _ds(spacing)],
        "SliceThickness": thickness,
        "SpacingBetweenSlices": thickness,
        "ImageOrientationPatient": ["1", "0", "0", "0", "1", "0"],
        "ImageType": ["ORIGINAL", "PRIMARY", "AXIAL"],
        "FrameOfReferenceUID": _frame_of_reference(plan),
        "PositionReferenceIndicator": "",
        "BitsAllocated": 16,
        "BitsStored": 12 if plan.modality == "CT" else 16,
        "RescaleIntercept": "-1024" if plan.modality == "CT" else "0",
        "RescaleSlope": "1",
        "WindowCenter": ["40"] if plan.modality == "CT" else ["600"],
        "WindowWidth": ["400"] if plan.modality == "CT" else ["1200"],
        "LossyImageCompression": "00",
        "PatientPosition": "HFS",
        "VolumetricProperties": "VOLUME",
    }


def _frame_of_reference(plan: SeriesPlan) -> str:
    from idcbq.sources.sample.ids import derived_uid

    # One frame of reference per study: series of a study share patient space.
    return derived_uid("frame", plan.row["StudyInstanceUID"])


def _ct(plan: SeriesPlan) -> dict[str, Any]:
    uid = plan.uid
    return {
        "KVP": pick(("100", "120", "140"), "kvp", uid),
        "ScanOptions": [pick(("HELICAL MODE", "AXIAL MODE"), "so", uid)],
        "ConvolutionKernel": [pick(("STANDARD", "LUNG", "B30f", "FC18", "BONE"), "k", uid)],
        "GantryDetectorTilt": "0",
        "XRayTubeCurrent": str(100 + stable_int("ma", uid) % 400),
        "ExposureTime": str(500 + stable_int("et", uid) % 1000),
        "Exposure": str(5 + stable_int("ex", uid) % 300),
        "FilterType": pick(("BODY FILTER", "FLAT", "LARGE"), "ft", uid),
        "DataCollectionDiameter": "500",
        "ReconstructionDiameter": _ds(300 + 200 * stable_unit("rd", uid), 2),
        "SpiralPitchFactor": pick((0.516, 0.984, 1.375, 1.5), "pitch", uid),
        "ContrastBolusAgent": pick((None, None, "OMNIPAQUE 350", "ISOVUE-370"), "cb", uid),
        "ContrastBolusRoute": None,
    }


def _mr(plan: SeriesPlan) -> dict[str, Any]:
    uid = plan.uid
    field_strength = pick(("1.5", "3"), "b0", uid)
    weighting = pick(("T1", "T2", "DWI"), "w", uid)
    echo, rep = {"T1": ("12", "500"), "T2": ("100", "4000"), "DWI": ("80", "3500")}[weighting]
    return {
        "MagneticFieldStrength": field_strength,
        "ScanningSequence": ["SE"] if weighting != "DWI" else ["EP"],
        "SequenceVariant": ["SK", "SP"],
        "MRAcquisitionType": pick(("2D", "3D"), "acq", uid),
        "EchoTime": echo,
        "RepetitionTime": rep,
        "EchoTrainLength": str(1 + stable_int("etl", uid) % 24),
        "EchoNumbers": ["1"],
        "FlipAngle": pick(("90", "150", "12"), "fa", uid),
        "PixelBandwidth": _ds(100 + 400 * stable_unit("bw", uid), 3),
        "ImagingFrequency": "63.8" if field_strength == "1.5" else "127.7",
        "ImagedNucleus": "1H",
        "InversionTime": "800" if weighting == "T1" else None,
        "ReceiveCoilName": pick(("BODY", "HEAD", "Endorectal"), "coil", uid),
        "SequenceName": {"T1": "*se2d1", "T2": "*tse2d1_15", "DWI": "*ep_b800"}[weighting],
        "DiffusionBValue": 800.0 if weighting == "DWI" else None,
        "NumberOfTemporalPositions": "1",
        "ProtocolName": f"{weighting} AX",
    }


def _pt(plan: SeriesPlan) -> dict[str, Any]:
    from idcbq.sources.sample.sequences import radiopharmaceutical

    uid = plan.uid
    item = radiopharmaceutical(plan)
    return {
        "SeriesType": ["WHOLE BODY", "IMAGE"],
        "Units": pick(("BQML", "CNTS"), "units", uid),
        "DecayCorrection": "START",
        "CorrectedImage": ["DECY", "ATTN", "SCAT", "DTIM", "RAN", "NORM"],
        "RandomsCorrectionMethod": "DLYD",
        "ReconstructionMethod": pick(("OSEM", "3D-RAMLA", "OSEM3D 2i24s"), "recon", uid),
        "ActualFrameDuration": str(120000 + 60000 * (stable_int("afd", uid) % 3)),
        "ScatterCorrectionMethod": "Model-based",
        "AttenuationCorrectionMethod": "CT-based",
        "NumberOfSlices": plan.row["instanceCount"],
        "NumberOfTimeSlices": 1,
        "Radiopharmaceutical": item["Radiopharmaceutical"],
        "RadiopharmaceuticalInformationSequence": [item],
    }


def _sm(plan: SeriesPlan) -> dict[str, Any]:
    uid = plan.uid
    scale = stable_unit("smsize", uid)
    return {
        "TotalPixelMatrixColumns": 40000 + int(60000 * scale),
        "TotalPixelMatrixRows": 30000 + int(50000 * scale),
        "Rows": 256,
        "Columns": 256,
        "ContainerIdentifier": f"{plan.row['PatientID']}-{stable_int('slide', uid) % 100:02d}",
        "DimensionOrganizationType": "TILED_FULL",
        "BitsAllocated": 8,
        "BitsStored": 8,
        "FrameOfReferenceUID": _frame_of_reference(plan),
        "LossyImageCompression": "01",
        "VolumetricProperties": "VOLUME",
    }


def _seg(plan: SeriesPlan) -> dict[str, Any]:
    ref = plan.reference
    return {
        "SegmentationType": "BINARY",
        "Rows": 512 if ref is None or ref.modality == "CT" else 256,
        "Columns": 512 if ref is None or ref.modality == "CT" else 256,
        "BitsAllocated": 1,
        "BitsStored": 1,
        "ImageType": ["DERIVED", "PRIMARY"],
        "FrameOfReferenceUID": _frame_of_reference(ref or plan),
        "NumberOfFrames": str(1 + stable_int("frames", plan.uid) % 120),
    }


def _rtstruct(plan: SeriesPlan) -> dict[str, Any]:
    return {"FrameOfReferenceUID": _frame_of_reference(plan.reference or plan)}


def _sr(plan: SeriesPlan) -> dict[str, Any]:
    return {"ValueType": "CONTAINER", "FrameOfReferenceUID": None}


def _ann(plan: SeriesPlan) -> dict[str, Any]:
    return {"AnnotationCoordinateType": pick(("2D", "3D"), "act", plan.uid)}


_BUILDERS = {
    "CT": _ct,
    "MR": _mr,
    "PT": _pt,
    "SM": _sm,
    "SEG": _seg,
    "RTSTRUCT": _rtstruct,
    "SR": _sr,
    "ANN": _ann,
}
