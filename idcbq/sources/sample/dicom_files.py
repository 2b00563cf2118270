"""Small, valid, deterministic DICOM files for the "seedable" series of the sample.

The sample's ``instance_size`` and ``instance_hash`` of seedable series are computed
from these bytes, so a local GCS server seeded with ``instance_bytes(row)`` at
``<crdc_series_uuid>/<crdc_instance_uuid>.dcm`` serves exactly what the sample lists.

Only these row keys are read (never ``instance_size`` / ``instance_hash``):
``PatientID, StudyInstanceUID, SeriesInstanceUID, SOPInstanceUID, SOPClassUID, Modality,
TransferSyntaxUID, InstanceNumber, SeriesNumber, StudyDate, SeriesDescription, Rows,
Columns, FrameOfReferenceUID, collection_id``.

Example:
    >>> row = {"PatientID": "P1", "StudyInstanceUID": "1.2.3", "SeriesInstanceUID": "1.2.3.4",
    ...        "SOPInstanceUID": "1.2.3.4.5", "SOPClassUID": "1.2.840.10008.5.1.4.1.1.2",
    ...        "Modality": "CT", "TransferSyntaxUID": "1.2.840.10008.1.2.1", "Rows": 8, "Columns": 8}
    >>> data = instance_bytes(row)
    >>> data == instance_bytes(dict(row))
    True
    >>> import io, pydicom
    >>> pydicom.dcmread(io.BytesIO(data)).SOPInstanceUID
    '1.2.3.4.5'
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from collections.abc import Mapping
from typing import Any

from idcbq.sources.sample.ids import stable_int

#: Fixed implementation identity, so bytes do not change with the pydicom version.
IMPLEMENTATION_CLASS_UID = "2.25.238473465387451920176123984766115091387"
IMPLEMENTATION_VERSION = "IDCBQ_SAMPLE_1"

#: Transfer syntaxes whose pixel data we write natively (uncompressed).
NATIVE_SYNTAXES = ("1.2.840.10008.1.2", "1.2.840.10008.1.2.1")

#: SOP classes without pixel data in our files (structured reports, structure sets, ...).
_NO_PIXELS = {"SR", "RTSTRUCT", "SEG", "ANN", "RTPLAN", "PR", "KO", "REG"}

#: Largest pixel matrix written (keeps files a few KB).
MAX_MATRIX = 16


def instance_bytes(row: Mapping[str, Any]) -> bytes:
    """The bytes of a small valid DICOM Part-10 file for one sample instance row."""
    from pydicom.dataset import Dataset, FileMetaDataset

    ts = _first_syntax(row.get("TransferSyntaxUID"))
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = row["SOPClassUID"]
    meta.MediaStorageSOPInstanceUID = row["SOPInstanceUID"]
    meta.TransferSyntaxUID = ts
    meta.ImplementationClassUID = IMPLEMENTATION_CLASS_UID
    meta.ImplementationVersionName = IMPLEMENTATION_VERSION

    ds = Dataset()
    ds.file_meta = meta
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.SOPClassUID = row["SOPClassUID"]
    ds.SOPInstanceUID = row["SOPInstanceUID"]
    ds.StudyDate = _da(row.get("StudyDate"))
    ds.Modality = row.get("Modality") or "OT"
    ds.SeriesDescription = row.get("SeriesDescription") or ""
    ds.PatientName = ""
    ds.PatientID = row.get("PatientID") or ""
    ds.PatientIdentityRemoved = "YES"
    ds.ClinicalTrialProtocolID = row.get("collection_id") or ""
    ds.StudyInstanceUID = row["StudyInstanceUID"]
    ds.SeriesInstanceUID = row["SeriesInstanceUID"]
    ds.SeriesNumber = str(row.get("SeriesNumber") or "1")
    ds.InstanceNumber = str(row.get("InstanceNumber") or "1")
    if row.get("FrameOfReferenceUID"):
        ds.FrameOfReferenceUID = row["FrameOfReferenceUID"]

    if ds.Modality not in _NO_PIXELS and ts in NATIVE_SYNTAXES:
        _add_pixels(ds, row)

    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True, implicit_vr=ts == "1.2.840.10008.1.2")
    return buffer.getvalue()


def instance_md5(data: bytes) -> str:
    """``instance_hash`` of a file: the MD5 hex digest of its bytes, as in IDC."""
    return hashlib.md5(data).hexdigest()


def _first_syntax(value: Any) -> str:
    text = str(value or "1.2.840.10008.1.2.1")
    return text.split(",")[0].strip()


def _da(value: Any) -> str:
    if isinstance(value, dt.date):
        return value.strftime("%Y%m%d")
    return str(value or "").replace("-", "")[:8]


def _add_pixels(ds: Any, row: Mapping[str, Any]) -> None:
    rows = min(int(row.get("Rows") or MAX_MATRIX), MAX_MATRIX)
    cols = min(int(row.get("Columns") or MAX_MATRIX), MAX_MATRIX)
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = rows
    ds.Columns = cols
    ds.BitsAllocated = 16
    ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 0
    seed = stable_int(row["SOPInstanceUID"])
    # A smooth deterministic ramp, varied per instance: readable, not random noise.
    pixels = bytearray()
    for r in range(rows):
        for c in range(cols):
            value = (seed + 37 * r + 11 * c) % 4096
            pixels += value.to_bytes(2, "little")
    ds.PixelData = bytes(pixels)
