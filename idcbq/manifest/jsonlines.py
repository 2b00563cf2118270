"""Encode Arrow record batches as JSON Lines with Arrow compute kernels.

Each row becomes one compact JSON object, built column-wise (escape, quote, join), so a
1M-row manifest never becomes 1M Python dicts. Batches holding something the kernels
do not encode exactly as the standard-library encoder would (control characters, NaN/inf)
fall back to it for that batch only; columns of other types (timestamps, decimals, nested,
binary) always use it, so a column is spelled the same way in every batch.

Example:
    >>> import pyarrow as pa
    >>> batch = pa.record_batch({"url": ['gs://b/a"b'], "size": [3], "md5": [None]})
    >>> bytes(encode_batch(batch)).decode()
    '{"url":"gs://b/a\\\\"b","size":3,"md5":null}\\n'
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa


def encode_batch(batch: pa.RecordBatch) -> memoryview:
    """The batch as UTF-8 JSON Lines (one object per row, each line ending in ``\\n``)."""
    import pyarrow.compute as pc

    if batch.num_rows == 0:
        return memoryview(b"")
    pieces: list[pa.Array | str] = []
    for index, field in enumerate(batch.schema):
        value = _json_values(batch.column(index), field.type)
        if value is None:
            return _encode_with_stdlib(batch)
        pieces += ["{" if index == 0 else ",", json.dumps(field.name) + ":", value]
    if not pieces:
        return memoryview(b"{}\n" * batch.num_rows)
    lines = pc.binary_join_element_wise(*pieces, "}\n", "")
    return memoryview(_string_data(lines))


def _json_values(column: pa.Array, type_: pa.DataType) -> pa.Array | None:
    """Column values as JSON text (``null`` for nulls), or None if not encodable here."""
    import pyarrow as pa
    import pyarrow.compute as pc

    types = pa.types
    if types.is_null(type_):
        return pa.array(["null"] * len(column), pa.string())
    if types.is_string(type_) or types.is_large_string(type_):
        data = _string_data(column)
        if (data < 0x20).any():
            return None  # control characters need \u escapes: the stdlib encoder does those
        if (data == ord('"')).any() or (data == ord("\\")).any():
            column = pc.replace_substring(column, "\\", "\\\\")
            column = pc.replace_substring(column, '"', '\\"')
        text = pc.binary_join_element_wise('"', column, '"', "")
    elif types.is_boolean(type_):
        text = pc.if_else(column, "true", "false")
    elif types.is_integer(type_):
        text = pc.cast(column, pa.string())
    elif types.is_floating(type_):
        if pc.all(pc.is_finite(column)).as_py() not in (True, None):
            return None  # NaN/inf: the stdlib encoder's spelling, as for any other batch
        text = pc.cast(column, pa.string())
        # Arrow writes 1.0 as "1"; keep floats floats for readers that infer types.
        whole = pc.invert(pc.match_substring_regex(text, "[.eE]"))
        text = pc.if_else(whole, pc.binary_join_element_wise(text, ".0", ""), text)
    elif types.is_date(type_):
        text = pc.binary_join_element_wise('"', pc.cast(column, pa.string()), '"', "")
    else:
        return None  # timestamps, decimals, nested, binary: the stdlib encoder, every batch
    return pc.fill_null(text.cast(pa.string()), "null")


def _string_data(strings: pa.Array) -> np.ndarray:
    """The concatenated UTF-8 bytes of a string array's values, as a uint8 view (no copy)."""
    import numpy as np
    import pyarrow as pa

    _validity, offsets_buffer, data_buffer = strings.buffers()
    wide = pa.types.is_large_string(strings.type)
    offsets = np.frombuffer(offsets_buffer, dtype=np.int64 if wide else np.int32)
    start, end = offsets[strings.offset], offsets[strings.offset + len(strings)]
    if data_buffer is None:
        return np.empty(0, dtype=np.uint8)
    return np.frombuffer(data_buffer, dtype=np.uint8)[start:end]


def _encode_with_stdlib(batch: pa.RecordBatch) -> memoryview:
    encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str).encode
    text = "".join(encode(row) + "\n" for row in batch.to_pylist())
    return memoryview(text.encode("utf-8"))
