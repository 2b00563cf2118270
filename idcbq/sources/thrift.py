"""Just enough of Thrift's compact protocol to find the schema in a Parquet footer.

Used to compare the schemas of thousands of wide files cheaply: the bytes of the
``schema`` list of ``FileMetaData`` are hashed instead of building pyarrow schema objects.

Example:
    >>> _varint(bytes([0x96, 0x01]), 0)
    (150, 2)
"""

from __future__ import annotations


def schema_bytes(raw: bytes) -> bytes:
    """The Thrift bytes of the footer's schema list (field 2 of FileMetaData).

    Hashing these compares schemas without building pyarrow's schema objects, which
    for 4,000 columns cost ~10 MB of short-lived allocations per file.
    """
    start, end = schema_span(raw)
    return raw[start:end]


def schema_span(raw: bytes) -> tuple[int, int]:
    """``[start, end)`` of the schema list in ``raw`` (``(0, len(raw))`` when not found).

    Thrift's compact encoding is self-delimiting, so a footer whose first ``end`` bytes
    equal another's has the same schema list at the same place (see
    :func:`idcbq.sources.footers.schema_hash`).
    """
    pos = 0
    while pos < len(raw):
        header = raw[pos]
        pos += 1
        ftype, delta = header & 0x0F, header >> 4
        if ftype == 0:
            break
        if delta == 0:
            _, pos = _varint(raw, pos)
        start = pos
        pos = _skip(raw, pos, ftype)
        if ftype == 9 and (delta == 2 or start > 1):  # the schema list follows the version
            return start, pos
    return 0, len(raw)


def _varint(raw: bytes, pos: int) -> tuple[int, int]:
    out = shift = 0
    while True:
        b = raw[pos]
        pos += 1
        out |= (b & 0x7F) << shift
        if not b & 0x80:
            return out, pos
        shift += 7


def _skip(raw: bytes, pos: int, ftype: int) -> int:
    """Position after one Thrift compact value of type ``ftype`` at ``pos``."""
    if ftype in (1, 2):  # bool in a field header
        return pos
    if ftype == 3:
        return pos + 1
    if ftype in (4, 5, 6):
        return _varint(raw, pos)[1]
    if ftype == 7:
        return pos + 8
    if ftype == 8:
        size, pos = _varint(raw, pos)
        return pos + size
    if ftype in (9, 10):
        head = raw[pos]
        pos += 1
        size, etype = head >> 4, head & 0x0F
        if size == 15:
            size, pos = _varint(raw, pos)
        if etype in (1, 2):
            return pos + size
        for _ in range(size):
            pos = _skip(raw, pos, etype)
        return pos
    if ftype == 11:
        size, pos = _varint(raw, pos)
        if size == 0:
            return pos
        kv = raw[pos]
        pos += 1
        for _ in range(size):
            pos = _skip(raw, pos, kv >> 4)
            pos = _skip(raw, pos, kv & 0x0F)
        return pos
    if ftype == 12:
        while True:
            header = raw[pos]
            pos += 1
            if header == 0:
                return pos
            if header >> 4 == 0:
                _, pos = _varint(raw, pos)
            pos = _skip(raw, pos, header & 0x0F)
    raise ValueError(f"unknown Thrift compact type {ftype}")
