"""A ``dicom_all`` export of realistic shape: real width, many files, large footers.

IDC's ``dicom_all`` Parquet export is about 5,000 files of about 7.5 MB, with every DICOM
attribute IDC extracted as a column (over 800 top-level columns, thousands of leaf
columns once sequences are unnested), most of them NULL in any one row. The embedded
sample has 181 top-level columns, so it cannot show what a footer of that width costs.

This module writes an export with:

* every column of ``idcbq/data/reference/dicom_all_schema.json`` (via
  :func:`idcbq.sources.schema.dicom_all_fields`), plus extra DICOM sequence columns (real SQ
  keywords from pydicom's data dictionary, each a ``REPEATED RECORD`` of real DICOM
  attributes) until the file has ``leaf_columns`` leaf columns;
* a few dozen identifying/common columns filled, everything else NULL (as in IDC);
* ``files`` Parquet files named like BigQuery's export (``000000000000.parquet``...),
  ordered by ``collection_id`` (the table is clustered on it), each of
  ``rows_per_file`` rows in row groups of ``row_group_rows`` rows, ZSTD-compressed.

Generation is fast: one Parquet file is encoded per collection, and the other files of
that collection are byte copies of it (their rows repeat; only the file name differs).
``collections`` controls how many distinct encodings there are.

Example:
    >>> spec = WideSpec.small()
    >>> root = write_wide_export("/tmp/wide", spec)     # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

#: DICOM VR -> Arrow type of the exported column (DS/IS stay strings, as in IDC).
_VR_INTS = {"US", "UL", "SS", "SL", "UV", "SV"}
_VR_FLOATS = {"FL", "FD"}

#: Columns that get values (the rest stay NULL).
FILLED = (
    "collection_id",
    "PatientID",
    "StudyInstanceUID",
    "SeriesInstanceUID",
    "SOPInstanceUID",
    "crdc_series_uuid",
    "crdc_instance_uuid",
    "Modality",
    "SOPClassUID",
    "TransferSyntaxUID",
    "instance_size",
    "aws_bucket",
    "gcs_url",
    "series_aws_url",
    "license_short_name",
    "SliceThickness",
    "Rows",
    "Columns",
    "SeriesDescription",
    "StudyDescription",
    "Manufacturer",
    "PatientSex",
    "PatientAge",
    "SeriesNumber",
    "InstanceNumber",
    "BodyPartExamined",
)

_MODALITIES = ("CT", "MR", "PT", "SEG", "SM", "CR", "RTSTRUCT", "SR")
_CT_IMAGE = "1.2.840.10008.5.1.4.1.1.2"
_EXPLICIT_LE = "1.2.840.10008.1.2.1"


@dataclass(frozen=True)
class WideSpec:
    """Shape of a wide export.

    Attributes:
        files: number of Parquet files of ``dicom_all``.
        collections: distinct ``collection_id`` values (files are split evenly, in order).
        rows_per_file: instance rows per file.
        row_group_rows: rows per row group.
        leaf_columns: target number of leaf columns (extra sequences are added up to it).
        idc_version: dataset written (``idc_v<N>``).
    """

    files: int = 2000
    collections: int = 50
    rows_per_file: int = 1000
    row_group_rows: int = 1000
    leaf_columns: int = 4000
    idc_version: int = 25

    @classmethod
    def small(cls) -> WideSpec:
        """The test-suite variant: real width, a few hundred small files."""
        return cls(files=200, collections=10, rows_per_file=200, row_group_rows=100)

    @classmethod
    def quick(cls) -> WideSpec:
        """The bench's ``--quick`` variant."""
        return cls(files=60, collections=6, rows_per_file=200, row_group_rows=200)

    @classmethod
    def full(cls) -> WideSpec:
        """The benchmark variant: thousands of files."""
        return cls()

    @property
    def key(self) -> str:
        text = repr(self) + _GENERATOR_VERSION
        return hashlib.sha256(text.encode()).hexdigest()[:10]


_GENERATOR_VERSION = "1"


def _leaves(dtype: pa.DataType) -> int:
    import pyarrow as pa

    if pa.types.is_struct(dtype):
        return sum(_leaves(dtype.field(i).type) for i in range(dtype.num_fields))
    if pa.types.is_list(dtype):
        return _leaves(dtype.value_type)
    return 1


def _vr_type(vr: str) -> pa.DataType:
    import pyarrow as pa

    if vr in _VR_INTS:
        return pa.int64()
    if vr in _VR_FLOATS:
        return pa.float64()
    return pa.string()


def _extra_sequences(existing: set[str], needed: int) -> list[pa.Field]:
    """Real DICOM SQ keywords not in the schema, each a list of structs of real attributes."""
    import pyarrow as pa
    from pydicom.datadict import DicomDictionary

    entries = sorted(DicomDictionary.items())
    sequences = [v[4] for _, v in entries if v[0] == "SQ" and v[4] and v[4] not in existing]
    plain = [(v[4], v[0]) for _, v in entries if v[4] and v[0] not in ("SQ", "OB", "OW", "UN")]
    plain = [(k, vr.split(" or ")[0]) for k, vr in plain]
    out: list[pa.Field] = []
    total = 0
    pos = 0
    for i, name in enumerate(sequences):
        if total >= needed:
            break
        width = min(4 + (i * 7) % 13, needed - total)  # 4..16 attributes per item
        members = []
        for _ in range(width):
            key, vr = plain[pos % len(plain)]
            pos += 1
            members.append(pa.field(key, _vr_type(vr)))
        out.append(pa.field(name, pa.list_(pa.struct(members))))
        total += width
    return out


@cache
def wide_schema(leaf_columns: int = 4000) -> pa.Schema:
    """``dicom_all``'s reference schema plus extra DICOM sequences up to ``leaf_columns`` leaves."""
    import pyarrow as pa

    from idcbq.sources.sample.dicom_all import prune_empty_records
    from idcbq.sources.schema import arrow_schema, dicom_all_fields

    fields = [prune_empty_records(f) for f in dicom_all_fields()]
    base = arrow_schema(f for f in fields if not (f.is_record and not f.fields))
    leaves = sum(_leaves(f.type) for f in base)
    extra = _extra_sequences(set(base.names), max(0, leaf_columns - leaves))
    return pa.schema(list(base) + extra)


def _column(name: str, dtype: pa.DataType, n: int, coll: int, collection: str) -> pa.Array:
    import pyarrow as pa

    base = coll * 1_000_000
    if name == "collection_id":
        return pa.array([collection] * n, dtype)
    if name in ("PatientID",):
        return pa.array([f"{collection}-P{(i // 400):04d}" for i in range(n)], dtype)
    if name == "StudyInstanceUID":
        return pa.array([f"1.3.6.1.4.1.14519.5.2.1.{base + i // 200}" for i in range(n)], dtype)
    if name == "SeriesInstanceUID":
        return pa.array([f"1.3.6.1.4.1.14519.5.2.1.{base + i // 100}.1" for i in range(n)], dtype)
    if name == "SOPInstanceUID":
        return pa.array(
            [f"1.3.6.1.4.1.14519.5.2.1.{base + i // 100}.1.{i}" for i in range(n)], dtype
        )
    if name == "crdc_series_uuid":
        return pa.array([f"{coll:08x}-0000-4000-8000-{i // 100:012x}" for i in range(n)], dtype)
    if name == "crdc_instance_uuid":
        return pa.array([f"{coll:08x}-0000-4000-9000-{i:012x}" for i in range(n)], dtype)
    if name == "Modality":
        return pa.array(
            [_MODALITIES[(coll + i // 100) % len(_MODALITIES)] for i in range(n)], dtype
        )
    if name == "SOPClassUID":
        return pa.array([_CT_IMAGE] * n, dtype)
    if name == "TransferSyntaxUID":
        return pa.array([_EXPLICIT_LE] * n, dtype)
    if name == "instance_size":
        return pa.array([500_000 + (i * 7919) % 100_000 for i in range(n)], dtype)
    if name == "aws_bucket":
        return pa.array(["idc-open-data"] * n, dtype)
    if name in ("gcs_url", "series_aws_url"):
        scheme = "gs://public-datasets-idc" if name == "gcs_url" else "s3://idc-open-data"
        return pa.array(
            [f"{scheme}/{coll:08x}-0000-4000-8000-{i // 100:012x}/" for i in range(n)], dtype
        )
    if name == "license_short_name":
        return pa.array(["CC BY 4.0"] * n, dtype)
    if pa.types.is_integer(dtype):
        return pa.array([(i % 512) + 1 for i in range(n)], dtype)
    if pa.types.is_string(dtype):
        return pa.array([f"{name} {collection} {(i // 100) % 50}" for i in range(n)], dtype)
    return pa.nulls(n, dtype)


def collection_table(schema: pa.Schema, spec: WideSpec, coll: int) -> pa.Table:
    """The rows of every file of collection number ``coll``."""
    import pyarrow as pa

    n = spec.rows_per_file
    collection = collection_name(coll)
    filled = set(FILLED)
    arrays = []
    for f in schema:
        if f.name in filled and not pa.types.is_nested(f.type):
            arrays.append(_column(f.name, f.type, n, coll, collection))
        else:
            arrays.append(pa.nulls(n, f.type))
    return pa.Table.from_arrays(arrays, schema=schema)


def collection_name(coll: int) -> str:
    """``collection_id`` of collection number ``coll`` (sorted the same as the numbers)."""
    return f"collection_{coll:03d}"


def file_name(index: int) -> str:
    """BigQuery export file name of file number ``index``."""
    return f"{index:012d}.parquet"


def files_of(spec: WideSpec) -> Iterator[tuple[int, int]]:
    """``(file index, collection number)`` for every file, in order."""
    per = max(1, spec.files // spec.collections)
    for i in range(spec.files):
        yield i, min(i // per, spec.collections - 1)


def write_wide_export(root: str | Path, spec: WideSpec | None = None) -> Path:
    """Write the export under ``root/bigquery_export/idc_v<N>/dicom_all``; return ``root``.

    Reuses ``root`` if a previous run with the same spec completed (marker file).
    """

    spec = spec or WideSpec.small()
    root = Path(root)
    marker = root / f".wide-export-{spec.key}"
    if marker.exists():
        return root
    table_dir = root / "bigquery_export" / f"idc_v{spec.idc_version}" / "dicom_all"
    table_dir.mkdir(parents=True, exist_ok=True)
    encoded = write_encodings(root / ".encodings" / spec.key, spec)
    for index, coll in files_of(spec):
        shutil.copyfile(encoded[coll], table_dir / file_name(index))
    marker.write_text(repr(spec))
    return root


def write_encodings(directory: str | Path, spec: WideSpec) -> dict[int, Path]:
    """One encoded Parquet file per collection (``<directory>/<n>.parquet``), reused if present."""
    import pyarrow.parquet as pq

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    out: dict[int, Path] = {}
    for coll in sorted({c for _, c in files_of(spec)}):
        path = directory / f"{coll}.parquet"
        if not path.exists():
            tmp = path.with_suffix(".tmp")
            pq.write_table(
                collection_table(wide_schema(spec.leaf_columns), spec, coll),
                tmp,
                compression="zstd",
                row_group_size=spec.row_group_rows,
                write_statistics=True,
            )
            tmp.replace(path)
        out[coll] = path
    return out


def objects(spec: WideSpec, encodings: dict[int, Path], prefix: str) -> Iterator[tuple[str, bytes]]:
    """``(key, bytes)`` of every export file under ``prefix`` (for uploads; no copies on disk)."""
    data = {c: p.read_bytes() for c, p in encodings.items()}
    table = f"{prefix.rstrip('/')}/bigquery_export/idc_v{spec.idc_version}/dicom_all"
    for index, coll in files_of(spec):
        yield f"{table}/{file_name(index)}", data[coll]


def footer_stats(path: str | Path) -> dict[str, Any]:
    """Size facts of one file: bytes, footer bytes, row groups, leaf and top-level columns."""
    import pyarrow.parquet as pq

    path = Path(path)
    size = path.stat().st_size
    with path.open("rb") as fh:
        fh.seek(size - 8)
        footer = int.from_bytes(fh.read(4), "little")
    meta = pq.read_metadata(path)
    return {
        "file_bytes": size,
        "footer_bytes": footer,
        "row_groups": meta.num_row_groups,
        "rows": meta.num_rows,
        "leaf_columns": meta.num_columns,
        "top_level_columns": len(meta.schema.to_arrow_schema()),
    }
