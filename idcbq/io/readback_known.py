"""One-pass reading of a CSV / JSON Lines file whose schema idcbq recorded when writing it.

The recorded types (see :mod:`idcbq.io.schemafile`) go straight to Arrow's streaming
readers, so dates, times, timestamps and decimals written as text come back as their
types. Arrow's JSON reader cannot convert text to dates or times itself: those columns
are read as text and converted batch by batch. Types a text file cannot carry back
(binary, durations...) are read as the text the writer put there; dictionaries as
their values.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pyarrow as pa

    from idcbq.io.schemafile import KnownSchema


def open_known(
    path: Path, fmt: str, known: KnownSchema, strings: set[str], ints: set[str]
) -> tuple[pa.Schema, Iterator[pa.RecordBatch]]:
    """Schema and streamed batches of ``path``, read with its recorded schema."""
    import pyarrow as pa

    from idcbq.io.scan import STREAM_BLOCK, csv_parse, guard

    target = pa.schema(
        [pa.field(f.name, _wanted(f.name, f.type, strings, ints, fmt)) for f in known.schema]
    )
    block = max(STREAM_BLOCK, 2 * known.longest_line + 2)  # a row never straddles two blocks
    if fmt == "csv":
        import pyarrow.csv as pacsv

        convert = pacsv.ConvertOptions(
            column_types=target, strings_can_be_null=True, quoted_strings_can_be_null=False
        )
        parse = csv_parse(target.names, known.newlines_in_values)
        reader = pacsv.open_csv(
            path,
            read_options=pacsv.ReadOptions(block_size=block),
            parse_options=parse,
            convert_options=convert,
        )
        return reader.schema, guard(reader, path)
    import pyarrow.json as pajson

    from idcbq.core.compat import open_json

    as_read = pa.schema([pa.field(f.name, _json_readable(f.type)) for f in target])
    reader = open_json(
        path,
        read_options=pajson.ReadOptions(block_size=block),
        parse_options=pajson.ParseOptions(
            explicit_schema=as_read, unexpected_field_behavior="error"
        ),
    )
    if as_read.equals(target):
        return reader.schema, guard(reader, path)
    return target, guard(_converted(reader, target), path)


def _wanted(name: str, t: pa.DataType, strings: set[str], ints: set[str], fmt: str) -> pa.DataType:
    """The type to read a recorded column as."""
    import pyarrow as pa

    if pa.types.is_dictionary(t):
        t = t.value_type
    if pa.types.is_null(t):
        return pa.string() if name in strings else pa.int64() if name in ints else t
    if pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t):
        return pa.string()  # written as text (hex or repr): it comes back as that text
    if fmt == "csv" and pa.types.is_nested(t):
        return pa.string()  # CSV holds nested values as JSON text
    if pa.types.is_nested(t):
        return _nested_text_leaves(t)
    if _restorable(t):
        return t
    return pa.string()  # durations, intervals...: written as text, read back as that text


def _restorable(t: pa.DataType) -> bool:
    """Types Arrow's text readers (plus the conversions here) turn text back into."""
    import pyarrow as pa

    kinds = pa.types
    return (
        kinds.is_boolean(t)
        or kinds.is_integer(t)
        or kinds.is_float32(t)
        or kinds.is_float64(t)
        or kinds.is_decimal(t)
        or kinds.is_string(t)
        or kinds.is_large_string(t)
        or kinds.is_date(t)
        or kinds.is_time(t)
        or kinds.is_timestamp(t)
    )


def _nested_text_leaves(t: pa.DataType, top: bool = True) -> pa.DataType:
    """Inside lists and structs: nulls, dates, times, binary and the like become text."""
    import pyarrow as pa

    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return pa.list_(_nested_text_leaves(t.value_type, False))
    if pa.types.is_struct(t):
        return pa.struct([pa.field(f.name, _nested_text_leaves(f.type, False)) for f in t])
    if not top and (pa.types.is_date(t) or pa.types.is_time(t) or not _restorable(t)):
        return pa.string()
    return t


def _json_readable(t: pa.DataType) -> pa.DataType:
    """Arrow's JSON reader reads dates and times as text; they are converted afterwards."""
    import pyarrow as pa

    return pa.string() if pa.types.is_date(t) or pa.types.is_time(t) else t


def _converted(reader: Iterator[pa.RecordBatch], target: pa.Schema) -> Iterator[pa.RecordBatch]:
    import pyarrow as pa
    import pyarrow.compute as pc

    for batch in reader:
        columns = []
        for index, field in enumerate(target):
            column = batch.column(index)
            if pa.types.is_time(field.type):
                # Arrow casts text to timestamps but not to times: go through a timestamp.
                stamp = pc.binary_join_element_wise("1970-01-01T", column, "")
                column = pc.cast(pc.cast(stamp, pa.timestamp(field.type.unit)), field.type)
            elif not column.type.equals(field.type):
                column = pc.cast(column, field.type)
            columns.append(column)
        yield pa.RecordBatch.from_arrays(columns, schema=target)
