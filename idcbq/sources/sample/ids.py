"""Deterministic identifiers, hashes and bucket names for the derived sample.

Everything the builder invents (SOPInstanceUIDs, UUIDs, sizes, synthetic values) is
seeded by a stable hash of real identifiers, so the same inputs give the same bytes.

Example:
    >>> sop_instance_uid("1.2.3", 0) == sop_instance_uid("1.2.3", 0)
    True
    >>> sop_instance_uid("1.2.3", 0).startswith("2.25.")
    True
    >>> gcs_bucket_for("idc-open-data-two")
    'idc-open-idc1'
    >>> instance_url("s3", "idc-open-data", "a", "b")
    's3://idc-open-data/a/b.dcm'
"""

from __future__ import annotations

import hashlib
import uuid

#: Namespace of every UUID the sample invents (a fixed uuid5 of a fixed name).
SAMPLE_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://github.com/idcbq/derived-sample")

#: IDC's bucket table: AWS bucket -> GCS bucket with the same objects.
AWS_TO_GCS_BUCKET = {
    "idc-open-data": "idc-open-data",
    "idc-open-data-two": "idc-open-idc1",
    "idc-open-data-cr": "idc-open-cr",
}


def stable_int(*parts: object) -> int:
    """A 64-bit integer from the parts' text, stable across runs and platforms."""
    text = "\x1f".join(str(p) for p in parts).encode("utf-8")
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big")


def stable_unit(*parts: object) -> float:
    """A float in [0, 1) seeded by the parts."""
    return stable_int(*parts) / 2.0**64


def pick(options: tuple | list, *parts: object):  # type: ignore[no-untyped-def]
    """Deterministically pick one element of ``options``."""
    return options[stable_int(*parts) % len(options)]


def derived_uuid(*parts: object) -> str:
    """A uuid5 string in the sample namespace."""
    return str(uuid.uuid5(SAMPLE_NAMESPACE, "/".join(str(p) for p in parts)))


def derived_uid(*parts: object) -> str:
    """A DICOM UID under the UUID-derived root ``2.25`` (at most 44 characters)."""
    return "2.25." + str(uuid.uuid5(SAMPLE_NAMESPACE, "/".join(str(p) for p in parts)).int)


def sop_instance_uid(series_instance_uid: str, index: int) -> str:
    """The SOPInstanceUID of the ``index``-th (0-based) instance of a series."""
    return derived_uid("instance", series_instance_uid, index)


def crdc_instance_uuid(sop_instance_uid: str) -> str:
    """IDC-style instance UUID, derived from the SOPInstanceUID."""
    return derived_uuid("crdc_instance", sop_instance_uid)


def crdc_study_uuid(study_instance_uid: str) -> str:
    return derived_uuid("crdc_study", study_instance_uid)


def gcs_bucket_for(aws_bucket: str) -> str:
    """The GCS bucket that mirrors an IDC AWS bucket."""
    return AWS_TO_GCS_BUCKET.get(aws_bucket, "idc-open-data")


def instance_url(scheme: str, bucket: str, series_uuid: str, instance_uuid: str) -> str:
    """``<scheme>://<bucket>/<crdc_series_uuid>/<crdc_instance_uuid>.dcm``."""
    return f"{scheme}://{bucket}/{series_uuid}/{instance_uuid}.dcm"


def series_url(scheme: str, bucket: str, series_uuid: str) -> str:
    """The series folder URL, ending in ``/`` like IDC's ``series_*_url``."""
    return f"{scheme}://{bucket}/{series_uuid}/"


def md5_hex(*parts: object) -> str:
    return hashlib.md5("\x1f".join(str(p) for p in parts).encode("utf-8")).hexdigest()
