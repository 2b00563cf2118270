"""Arrow <-> ZetaSQL values: types, table content encoding and result decoding.

Table content is encoded straight to protobuf wire format (``ValueProto`` bytes per
cell, rows assembled by concatenation): building ``ValueProto`` messages one by one
in Python is several times slower, and the sample's ``dicom_all`` is about 11,000 deeply
nested rows. Results (small) are decoded from the generated ``_pb2`` messages.

BigQuery rules applied here:

- A NULL list read from Parquet is an empty array (BigQuery never stores a NULL array).
- A result array holding a NULL element is an error (``Array cannot have a null
  element``); the reference implementation allows it, so :func:`decode_table` raises.
"""

from __future__ import annotations

import datetime as dt
import decimal
import struct
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from idcbq.core.compat import is_json_type, json_type
from idcbq.errors import QueryError

if TYPE_CHECKING:
    import pyarrow as pa

    from idcbq.sources.schema import Field

# ZetaSQL TypeKind numbers (zetasql/public/type.proto).
K_INT64, K_BOOL, K_DOUBLE, K_STRING, K_BYTES, K_DATE = 2, 5, 7, 8, 9, 10
K_TIMESTAMP, K_ARRAY, K_STRUCT, K_TIME, K_DATETIME = 19, 16, 17, 20, 21
K_NUMERIC, K_BIGNUMERIC, K_JSON, K_INTERVAL = 23, 24, 26, 27

_SCALAR_KIND = {
    "STRING": K_STRING,
    "INT64": K_INT64,
    "FLOAT64": K_DOUBLE,
    "BOOL": K_BOOL,
    "DATE": K_DATE,
    "TIMESTAMP": K_TIMESTAMP,
    "DATETIME": K_DATETIME,
    "TIME": K_TIME,
    "NUMERIC": K_NUMERIC,
    "BIGNUMERIC": K_BIGNUMERIC,
    "BYTES": K_BYTES,
    "JSON": K_JSON,
}
_EPOCH = dt.date(1970, 1, 1)
_EPOCH_DT = dt.datetime(1970, 1, 1)
_EPOCH_TS = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


# -- types -------------------------------------------------------------------------


def type_proto(field: Field) -> Any:
    """The ZetaSQL ``TypeProto`` of a column (REPEATED -> ARRAY, RECORD -> STRUCT)."""
    from zetasql.wasi._pb2.zetasql.public import type_pb2

    def base(f: Field) -> Any:
        if f.is_record:
            t = type_pb2.TypeProto(type_kind=K_STRUCT)
            t.struct_type.SetInParent()  # STRUCT<> still needs its (empty) struct_type
            for sub in f.fields:
                t.struct_type.field.add(field_name=sub.name, field_type=type_proto(sub))
            return t
        kind = _SCALAR_KIND.get(f.scalar_type)
        if kind is None:
            raise QueryError(f"column {f.name!r}: type {f.scalar_type} is not supported here")
        return type_pb2.TypeProto(type_kind=kind)

    inner = base(field)
    if field.is_repeated:
        t = type_pb2.TypeProto(type_kind=K_ARRAY)
        t.array_type.element_type.CopyFrom(inner)
        return t
    return inner


def scalar_type_proto(name: str, is_array: bool = False) -> Any:
    """``TypeProto`` of an idcbq parameter type (``INT64``, ``ARRAY<STRING>``...)."""
    from zetasql.wasi._pb2.zetasql.public import type_pb2

    t = type_pb2.TypeProto(type_kind=_SCALAR_KIND[name])
    if not is_array:
        return t
    arr = type_pb2.TypeProto(type_kind=K_ARRAY)
    arr.array_type.element_type.CopyFrom(t)
    return arr


# -- wire format encoding ------------------------------------------------------------


def _varint(n: int) -> bytes:
    n &= 0xFFFFFFFFFFFFFFFF
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _ld(tag: bytes, payload: bytes) -> bytes:
    return tag + _varint(len(payload)) + payload


_T_INT64 = b"\x10"
_T_BOOL = b"\x28"
_T_DOUBLE = b"\x39"
_T_STRING = b"\x42"
_T_BYTES = b"\x4a"
_T_DATE = b"\x50"
_T_ARRAY = b"\x6a"
_T_STRUCT = b"\x72"
_T_TIMESTAMP = b"\x82\x01"
_T_DATETIME = b"\x8a\x01"
_T_TIME = b"\x90\x01"
_T_NUMERIC = b"\xa2\x01"
_T_BIGNUMERIC = b"\xaa\x01"
_T_ELEM = b"\x0a"  # Array.element, Struct.field, Row.cell, TableData.row: field 1


def _pack_time_seconds(t: dt.time) -> int:
    return (t.hour << 12) | (t.minute << 6) | t.second


def _enc_timestamp(v: dt.datetime) -> bytes:
    if v.tzinfo is None:
        v = v.replace(tzinfo=dt.UTC)
    delta = v - _EPOCH_TS
    micros = (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds
    seconds, rem = divmod(micros, 1_000_000)
    payload = b""
    if seconds:
        payload += b"\x08" + _varint(seconds)
    if rem:
        payload += b"\x10" + _varint(rem * 1000)
    return _ld(_T_TIMESTAMP, payload)


def _enc_datetime(v: dt.datetime) -> bytes:
    packed = (
        (v.year << 26)
        | (v.month << 22)
        | (v.day << 17)
        | (v.hour << 12)
        | (v.minute << 6)
        | v.second
    )
    payload = b"\x08" + _varint(packed)
    if v.microsecond:
        payload += b"\x10" + _varint(v.microsecond * 1000)
    return _ld(_T_DATETIME, payload)


def _enc_time(v: dt.time) -> bytes:
    nanos = v.microsecond * 1000
    return _T_TIME + _varint((_pack_time_seconds(v) << 30) | nanos)


#: Wide enough for BIGNUMERIC's 77 digits: the default context (28 digits) would round.
_EXACT = decimal.Context(prec=100)


def _enc_numeric(v: decimal.Decimal, scale: int = 9) -> bytes:
    n = int(v.scaleb(scale, context=_EXACT).to_integral_value(context=_EXACT))
    length = max(1, (n.bit_length() + 8) // 8)
    return _ld(_T_NUMERIC, n.to_bytes(length, "little", signed=True))


def _enc_bignumeric(v: decimal.Decimal) -> bytes:
    if not isinstance(v, decimal.Decimal):  # e.g. DuckDB's DOUBLE reading of DECIMAL(76, 38)
        raise QueryError(f"a BIGNUMERIC value read as {type(v).__name__}, not exactly")
    n = int(v.scaleb(38, context=_EXACT).to_integral_value(context=_EXACT))
    length = max(1, (n.bit_length() + 8) // 8)
    return _ld(_T_BIGNUMERIC, n.to_bytes(length, "little", signed=True))


def encoder(field: Field, *, element: bool = False) -> Callable[[Any], bytes]:
    """A function encoding one Python value of ``field`` to ``ValueProto`` bytes.

    ``element=True`` encodes one element of a REPEATED field. A NULL list encodes as
    an empty array.
    """
    if field.is_repeated and not element:
        enc_item = encoder(field, element=True)

        def enc_array(v: Any) -> bytes:
            if not v:
                return _T_ARRAY + b"\x00"
            return _ld(_T_ARRAY, b"".join(_ld(_T_ELEM, enc_item(x)) for x in v))

        return enc_array
    if field.is_record:
        subs = [(sub.name, encoder(sub)) for sub in field.fields]

        def enc_struct(v: Any) -> bytes:
            if v is None:
                return b""
            return _ld(_T_STRUCT, b"".join(_ld(_T_ELEM, enc(v.get(name))) for name, enc in subs))

        return enc_struct
    kind = field.scalar_type

    def nullable(fn: Callable[[Any], bytes]) -> Callable[[Any], bytes]:
        return lambda v: b"" if v is None else fn(v)

    table: dict[str, Callable[[Any], bytes]] = {
        "STRING": lambda v: _ld(_T_STRING, v.encode("utf-8")),
        "JSON": lambda v: _ld(_T_STRING, v.encode("utf-8")),
        "INT64": lambda v: _T_INT64 + _varint(int(v)),
        "FLOAT64": lambda v: _T_DOUBLE + struct.pack("<d", v),
        "BOOL": lambda v: _T_BOOL + (b"\x01" if v else b"\x00"),
        "DATE": lambda v: _T_DATE + _varint((v - _EPOCH).days),
        "TIMESTAMP": _enc_timestamp,
        "DATETIME": _enc_datetime,
        "TIME": _enc_time,
        "NUMERIC": _enc_numeric,
        "BIGNUMERIC": _enc_bignumeric,
        "BYTES": lambda v: _ld(_T_BYTES, bytes(v)),
    }
    if kind not in table:
        raise QueryError(f"column {field.name!r}: type {kind} is not supported here")
    return nullable(table[kind])


def encode_column(column: pa.ChunkedArray | pa.Array, field: Field) -> list[bytes]:
    """``ValueProto`` bytes of every cell of an Arrow column."""
    enc = encoder(field)
    return [enc(v) for v in column.to_pylist()]


def table_content(columns: Sequence[Sequence[bytes]], num_rows: int) -> bytes:
    """Serialized ``TableContent`` from per-column cell bytes (row-major assembly)."""
    rows = []
    if columns:
        for cells in zip(*columns, strict=True):
            rows.append(_ld(_T_ELEM, b"".join(_ld(_T_ELEM, c) for c in cells)))
    else:
        rows = [_ld(_T_ELEM, b"")] * num_rows
    return _ld(_T_ELEM, b"".join(rows))  # TableContent.table_data


def map_entry(field_number: int, key: str, value: bytes) -> bytes:
    """One serialized ``map<string, message>`` entry, appendable to a message's bytes."""
    entry = _ld(b"\x0a", key.encode("utf-8")) + _ld(b"\x12", value)
    return _ld(_varint((field_number << 3) | 2), entry)


def value_proto(value: Any, scalar: str, is_array: bool) -> Any:
    """A ``ValueProto`` message for a parameter value of a declared idcbq type."""
    from zetasql.wasi._pb2.zetasql.public import value_pb2

    from idcbq.sources.schema import Field

    fld = Field("p", scalar, "REPEATED" if is_array else "NULLABLE")
    if is_array and value is None:
        value = []
    return value_pb2.ValueProto.FromString(encoder(fld)(value))


# -- decoding ------------------------------------------------------------------------


def arrow_type(t: Any) -> pa.DataType:
    """Arrow type of a ZetaSQL ``TypeProto``, matching the other engines' results."""
    import pyarrow as pa

    kind = t.type_kind
    if kind == K_ARRAY:
        return pa.list_(arrow_type(t.array_type.element_type))
    if kind == K_STRUCT:
        fields = t.struct_type.field  # BigQuery names an anonymous field _field_<position>
        return pa.struct(
            [
                pa.field(f.field_name or f"_field_{i}", arrow_type(f.field_type))
                for i, f in enumerate(fields, start=1)
            ]
        )
    return {
        K_INT64: pa.int64(),
        K_BOOL: pa.bool_(),
        K_DOUBLE: pa.float64(),
        K_STRING: pa.string(),
        K_BYTES: pa.binary(),
        K_DATE: pa.date32(),
        K_TIMESTAMP: pa.timestamp("us", tz="UTC"),
        K_DATETIME: pa.timestamp("us"),
        K_TIME: pa.time64("us"),
        K_NUMERIC: pa.decimal128(38, 9),
        K_BIGNUMERIC: pa.decimal256(76, 38),
        K_JSON: json_type(),
        K_INTERVAL: pa.string(),
    }.get(kind, pa.string())


def _decode(v: Any, t: Any, column: str) -> Any:
    which = v.WhichOneof("value")
    if which is None:
        return None
    kind = t.type_kind
    if kind == K_ARRAY:
        et = t.array_type.element_type
        out = []
        for e in v.array_value.element:
            item = _decode(e, et, column)
            if item is None:
                raise QueryError(
                    f"Array cannot have a null element; error in writing field {column}",
                    hint="BigQuery refuses arrays holding NULL in a result; "
                    "filter NULLs (e.g. ARRAY_AGG(x IGNORE NULLS))",
                )
            out.append(item)
        return out
    if kind == K_STRUCT:
        fields = t.struct_type.field
        return {
            f.field_name or f"_field_{i}": _decode(x, f.field_type, column)
            for i, (f, x) in enumerate(zip(fields, v.struct_value.field, strict=False), start=1)
        }
    if which in ("int64_value", "int32_value", "uint32_value", "uint64_value"):
        return getattr(v, which)
    if which in ("bool_value", "double_value", "float_value", "string_value", "bytes_value"):
        return getattr(v, which)
    if which == "date_value":
        return _EPOCH + dt.timedelta(days=v.date_value)
    if which == "timestamp_value":
        ts = v.timestamp_value
        return _EPOCH_TS + dt.timedelta(seconds=ts.seconds, microseconds=ts.nanos // 1000)
    if which == "datetime_value":
        p = v.datetime_value.bit_field_datetime_seconds
        return dt.datetime(
            (p >> 26) & 0x3FFF,
            (p >> 22) & 0xF,
            (p >> 17) & 0x1F,
            (p >> 12) & 0x1F,
            (p >> 6) & 0x3F,
            p & 0x3F,
            v.datetime_value.nanos // 1000,
        )
    if which == "time_value":
        p = v.time_value
        secs = p >> 30
        return dt.time(
            (secs >> 12) & 0x1F, (secs >> 6) & 0x3F, secs & 0x3F, (p & 0x3FFFFFFF) // 1000
        )
    if which in ("numeric_value", "bignumeric_value"):
        raw = getattr(v, which)
        n = int.from_bytes(raw, "little", signed=True) if raw else 0
        return decimal.Decimal(n).scaleb(-9 if which == "numeric_value" else -38, context=_EXACT)
    if which == "json_value":
        return v.json_value
    if which == "interval_value":
        return str(v.interval_value)
    raise QueryError(f"column {column}: cannot convert a GoogleSQL {which} to Arrow")


def decode_table(columns: Sequence[Any], content: Any) -> pa.Table:
    """An Arrow table from the result columns (``SimpleColumnProto``) and ``TableContent``."""
    import pyarrow as pa

    names = [c.name for c in columns]
    types = [c.type for c in columns]
    data: list[list[Any]] = [[] for _ in columns]
    for row in content.table_data.row:
        for i, cell in enumerate(row.cell):
            data[i].append(_decode(cell, types[i], names[i]))
    arrays = [_typed_array(col, arrow_type(t)) for col, t in zip(data, types, strict=True)]
    return pa.Table.from_arrays(
        arrays, schema=pa.schema([pa.field(n, a.type) for n, a in zip(names, arrays, strict=True)])
    )


def _stored(kind: pa.DataType) -> pa.DataType:
    """``kind`` with JSON as its string storage (Arrow builds no nested extension values)."""
    import pyarrow as pa

    if is_json_type(kind):
        return kind.storage_type
    if pa.types.is_list(kind):
        return pa.list_(_stored(kind.value_type))
    if pa.types.is_struct(kind):
        return pa.struct([pa.field(f.name, _stored(f.type)) for f in kind])
    return kind


def _typed_array(values: list[Any], kind: pa.DataType) -> pa.Array:
    import pyarrow as pa

    storage = _stored(kind)
    return (
        pa.array(values, type=storage) if storage == kind else pa.array(values, storage).cast(kind)
    )
