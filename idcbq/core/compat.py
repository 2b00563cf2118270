"""Shims for the oldest dependency versions idcbq accepts (Google Colab's stack).

``pyproject.toml`` allows pyarrow 18.1 (what Colab ships); a few APIs idcbq uses arrived
later. Each shim uses the library's own function when it exists.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

#: Bytes per block when pyarrow has no streaming JSON reader (its own default is 1 MiB).
_JSON_BLOCK = 1 << 20


def open_json(
    path: str | Path, *, read_options: Any = None, parse_options: Any = None
) -> pa.RecordBatchReader:
    """``pyarrow.json.open_json`` (pyarrow >= 19), else the same stream built from blocks.

    On older pyarrow the file is cut into blocks of whole lines, each parsed with
    ``read_json`` when the stream reaches it, so memory stays bounded and a bad line
    raises while iterating, as with ``open_json``. Without an explicit schema in
    ``parse_options`` the first block decides the schema (``open_json`` does the same).

    Example:
        >>> import pathlib, tempfile
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "r.jsonl"
        >>> _ = p.write_text('{"a": 1}\\n{"a": 2}\\n')
        >>> open_json(p).read_all().column("a").to_pylist()
        [1, 2]
    """
    import pyarrow.json as pajson

    if hasattr(pajson, "open_json"):
        return pajson.open_json(path, read_options=read_options, parse_options=parse_options)
    import pyarrow as pa

    block_size = getattr(read_options, "block_size", None) or _JSON_BLOCK
    blocks = _line_blocks(Path(path), block_size)

    def parse(block: bytes) -> pa.Table:
        return pajson.read_json(io.BytesIO(block), parse_options=parse_options)

    explicit = getattr(parse_options, "explicit_schema", None)
    infer = getattr(parse_options, "unexpected_field_behavior", "infer") == "infer"
    if explicit is not None and not infer:
        schema = explicit  # known before any block is read: parse lazily
        first: list[pa.Table] = []
    else:
        first_block = next(blocks, b"")
        first = [parse(first_block)] if first_block else []
        schema = first[0].schema if first else (explicit or pa.schema([]))

    # Later blocks keep the first block's schema, as open_json's stream does.
    later = pajson.ParseOptions(
        explicit_schema=schema,
        unexpected_field_behavior="error" if infer else parse_options.unexpected_field_behavior,
        newlines_in_values=getattr(parse_options, "newlines_in_values", False),
    )

    def batches() -> Iterator[pa.RecordBatch]:
        for table in first:
            yield from table.to_batches()
        for block in blocks:
            table = pajson.read_json(io.BytesIO(block), parse_options=later)
            yield from table.select(schema.names).cast(schema).to_batches()

    return pa.RecordBatchReader.from_batches(schema, batches())


def _line_blocks(path: Path, block_size: int) -> Iterator[bytes]:
    """The file's bytes in blocks of about ``block_size``, each ending at a line break."""
    with path.open("rb") as fh:
        rest = b""
        while chunk := fh.read(block_size):
            chunk = rest + chunk
            cut = chunk.rfind(b"\n") + 1
            if cut == 0:
                rest = chunk
                continue
            yield chunk[:cut]
            rest = chunk[cut:]
        if rest.strip():
            yield rest


def to_pandas(table: pa.Table) -> Any:
    """``table.to_pandas`` with Arrow-backed dtypes; a clear error for a half-upgraded session.

    When a package install replaces pandas or pyarrow after the running process imported
    them (``%pip install`` in a notebook), pyarrow's pandas shim from the old version meets
    modules of the new one and fails with ``'_PandasAPIShim' object has no attribute ...``.
    Only a restart fixes that, so say so instead of showing the AttributeError.
    """
    import pandas as pd

    try:
        return table.to_pandas(types_mapper=pd.ArrowDtype)
    except AttributeError as exc:
        if "_PandasAPIShim" not in str(exc):
            raise
        from idcbq.errors import IdcbqError

        raise IdcbqError(
            f"pandas {pd.__version__} and pyarrow in this session do not match: a package "
            "install replaced one of them after it was imported",
            hint="restart the Python session (Colab: Runtime > Restart session), then re-run",
        ) from exc


def is_json_type(dtype: pa.DataType) -> bool:
    """Arrow's JSON extension type (pyarrow >= 19); older pyarrow has none."""
    import pyarrow as pa

    json_type = getattr(pa, "JsonType", None)
    return json_type is not None and isinstance(dtype, json_type)


def json_type() -> pa.DataType:
    """``pa.json_(pa.string())`` where pyarrow has it, else plain ``pa.string()``."""
    import pyarrow as pa

    return pa.json_(pa.string()) if hasattr(pa, "json_") else pa.string()
