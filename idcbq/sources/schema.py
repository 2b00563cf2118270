"""IDC table schemas as typed fields: BigQuery type strings, Arrow types, sqlglot mappings.

The facts come from ``idcbq/data/reference/`` (copied from the project's reference
notes, each column with its source). They are a prior: engines may refine them with
the real schema of a source (Parquet footers, INFORMATION_SCHEMA).

Example:
    >>> f = dicom_all_field("PixelSpacing")
    >>> f.bigquery_type
    'ARRAY<STRING>'
    >>> str(f.arrow_type)
    'list<item: string>'
    >>> dicom_all_field("instance_size").bigquery_type
    'INT64'
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache, lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from idcbq.core.compat import is_json_type

if TYPE_CHECKING:
    import pyarrow as pa

OTHER_TABLES = (
    "auxiliary_metadata",
    "dicom_metadata",
    "dicom_metadata_curated",
    "dicom_metadata_curated_series_level",
    "original_collections_metadata",
    "analysis_results_metadata",
    "version_metadata",
    "segmentations",
    "measurement_groups",
    "quantitative_measurements",
    "qualitative_measurements",
)
#: IDC's derived tables (views in BigQuery) flattening SEG segments and TID 1500 SRs.
DERIVED_TABLES = OTHER_TABLES[-4:]


@dataclass(frozen=True)
class Field:
    """One column (or nested field) in BigQuery terms: type, mode and sub-fields."""

    name: str
    type: str
    mode: str = "NULLABLE"
    fields: tuple[Field, ...] = ()
    meta: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)

    @property
    def is_repeated(self) -> bool:
        return self.mode == "REPEATED"

    @property
    def is_record(self) -> bool:
        return self.type in ("RECORD", "STRUCT")

    @property
    def scalar_type(self) -> str:
        """BigQuery type of one element, ignoring REPEATED."""
        if self.is_record:
            inner = ", ".join(f"{f.name} {f.bigquery_type}" for f in self.fields)
            return f"STRUCT<{inner}>"
        return _NORMAL.get(self.type, self.type)

    @property
    def bigquery_type(self) -> str:
        """Standard SQL type string, e.g. ``ARRAY<STRUCT<CodeValue STRING>>``."""
        base = self.scalar_type
        return f"ARRAY<{base}>" if self.is_repeated else base

    @property
    def arrow_type(self) -> pa.DataType:
        import pyarrow as pa

        if self.is_record:
            base = pa.struct([pa.field(f.name, f.arrow_type) for f in self.fields])
        else:
            base = _arrow_scalar(_NORMAL.get(self.type, self.type))
        return pa.list_(base) if self.is_repeated else base

    def child(self, name: str) -> Field | None:
        for sub in self.fields:
            if sub.name.lower() == name.lower():
                return sub
        return None


_NORMAL = {
    "INTEGER": "INT64",
    "FLOAT": "FLOAT64",
    "BOOLEAN": "BOOL",
    "STRUCT": "RECORD",
    "BIGDECIMAL": "BIGNUMERIC",
}


def _arrow_scalar(bq_type: str) -> pa.DataType:
    import pyarrow as pa

    mapping = {
        "STRING": pa.string(),
        "INT64": pa.int64(),
        "FLOAT64": pa.float64(),
        "BOOL": pa.bool_(),
        "DATE": pa.date32(),
        "TIME": pa.time64("us"),
        "DATETIME": pa.timestamp("us"),
        "TIMESTAMP": pa.timestamp("us", tz="UTC"),
        "BYTES": pa.binary(),
        "NUMERIC": pa.decimal128(38, 9),
        "BIGNUMERIC": pa.decimal256(76, 38),
        "JSON": pa.string(),
    }
    return mapping[bq_type]


def field_from_json(obj: Mapping[str, Any]) -> Field:
    """Build a Field from a BigQuery-style JSON schema entry."""
    subs = tuple(field_from_json(f) for f in obj.get("fields") or ())
    meta = {k: v for k, v in obj.items() if k not in ("name", "type", "mode", "fields")}
    return Field(
        name=obj["name"],
        type=_NORMAL.get(obj["type"].upper(), obj["type"].upper()),
        mode=(obj.get("mode") or "NULLABLE").upper(),
        fields=subs,
        meta=meta,
    )


def _load_json(name: str) -> Any:
    text = resources.files("idcbq.data.reference").joinpath(name).read_text(encoding="utf-8")
    return json.loads(text)


@cache
def dicom_all_fields() -> tuple[Field, ...]:
    """Every known top-level ``dicom_all`` column, current ones only (removed ones dropped)."""
    entries = _load_json("dicom_all_schema.json")
    return tuple(
        field_from_json(e) for e in entries if not str(e.get("status", "")).startswith("removed")
    )


@cache
def _dicom_all_index() -> dict[str, Field]:
    return {f.name.lower(): f for f in dicom_all_fields()}


def dicom_all_field(name: str) -> Field:
    """Look up one ``dicom_all`` column by name (case-insensitive, like BigQuery)."""
    try:
        return _dicom_all_index()[name.lower()]
    except KeyError:
        raise KeyError(f"dicom_all has no column {name!r}") from None


@cache
def other_table_fields(table: str) -> tuple[Field, ...]:
    """Columns of another ``idc_vNN`` table (``auxiliary_metadata``, ``version_metadata``, ...)."""
    tables = _load_json("other_tables.json")
    if table not in tables:
        raise KeyError(f"no reference schema for idc table {table!r}")
    return tuple(_resolve_like(field_from_json(c)) for c in tables[table]["columns"])


def _resolve_like(f: Field) -> Field:
    """A column whose JSON says ``like: dicom_all.A.B`` gets that sub-field's children.

    Used for the deep SR/SEG records that derived tables repeat from ``dicom_all``;
    empty records (the reference truncates deep SR trees) are dropped.
    """
    like = f.meta.get("like")
    if not like:
        return f
    parts = str(like).split(".")
    if parts[0] != "dicom_all" or len(parts) < 2:
        raise KeyError(f"column {f.name!r}: unsupported like={like!r}")
    target: Field | None = dicom_all_field(parts[1])
    for name in parts[2:]:
        target = target.child(name) if target else None
    if target is None:
        raise KeyError(f"column {f.name!r}: like={like!r} names no dicom_all field")
    return prune_empty_records(
        Field(name=f.name, type=target.type, mode=f.mode, fields=target.fields, meta=f.meta)
    )


def prune_empty_records(f: Field) -> Field:
    """Drop sub-records without known fields (Parquet cannot store an empty struct)."""
    if not f.fields:
        return f
    subs = tuple(prune_empty_records(s) for s in f.fields if not (s.is_record and not s.fields))
    return Field(name=f.name, type=f.type, mode=f.mode, fields=subs, meta=f.meta)


def idc_table_fields(table: str) -> tuple[Field, ...]:
    """Reference columns of any main-dataset IDC table, ``dicom_all`` included."""
    if table == "dicom_all":
        return dicom_all_fields()
    return other_table_fields(table)


def fields_from_arrow(schema: pa.Schema) -> tuple[Field, ...]:
    """Convert an Arrow schema (e.g. a Parquet footer) to Fields."""
    return tuple(_field_from_arrow(f.name, f.type) for f in schema)


def _field_from_arrow(name: str, dtype: pa.DataType) -> Field:
    import pyarrow as pa
    import pyarrow.types as pt

    if pt.is_list(dtype) or pt.is_large_list(dtype):
        inner = _field_from_arrow(name, dtype.value_type)
        return Field(name=name, type=inner.type, mode="REPEATED", fields=inner.fields)
    if pt.is_struct(dtype):
        subs = tuple(
            _field_from_arrow(dtype.field(i).name, dtype.field(i).type)
            for i in range(dtype.num_fields)
        )
        return Field(name=name, type="RECORD", fields=subs)
    if is_json_type(dtype):  # JSON text, typed (GoogleSQL's JSON)
        return Field(name, "JSON")
    if pt.is_string(dtype) or pt.is_large_string(dtype) or pt.is_string_view(dtype):
        return Field(name, "STRING")
    if pt.is_boolean(dtype):
        return Field(name, "BOOL")
    if pt.is_integer(dtype):
        return Field(name, "INT64")
    if pt.is_floating(dtype):
        return Field(name, "FLOAT64")
    if pt.is_decimal(dtype):  # BigQuery exports BIGNUMERIC as DECIMAL(76, 38)
        return Field(name, "BIGNUMERIC" if dtype.precision > 38 else "NUMERIC")
    if pt.is_date(dtype):
        return Field(name, "DATE")
    if pt.is_time(dtype):
        return Field(name, "TIME")
    if pt.is_timestamp(dtype):
        return Field(name, "TIMESTAMP" if dtype.tz else "DATETIME")
    if pt.is_binary(dtype) or pt.is_large_binary(dtype):
        return Field(name, "BYTES")
    if dtype == pa.null():
        return Field(name, "STRING")
    raise TypeError(f"column {name!r}: no BigQuery type for Arrow type {dtype}")


def arrow_schema(fields: Iterable[Field]) -> pa.Schema:
    """An Arrow schema for the given Fields (REPEATED -> list, RECORD -> struct)."""
    import pyarrow as pa

    return pa.schema([pa.field(f.name, f.arrow_type) for f in fields])


def sqlglot_columns(fields: Iterable[Field]) -> dict[str, str]:
    """``{column: bigquery type string}`` for sqlglot's MappingSchema (a new dict each
    call: the caller may edit it)."""
    return dict(_type_strings(tuple(fields)))


@lru_cache(maxsize=64)
def _type_strings(fields: tuple[Field, ...]) -> dict[str, str]:
    # spelling dicom_all's nested types took 0.5 ms, on every query that reads it;
    # hashing the fields to find them here takes a seventh of that
    return {f.name: f.bigquery_type for f in fields}
