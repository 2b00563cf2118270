"""Read back every table file idcbq writes, streamed, with column types from the whole file.

Arrow's CSV and JSON readers type each column from the first block they see and then
fail when a later block disagrees (a column that is null for the first megabyte and a
string afterwards: ``changed from null to string``, ``CSV conversion error to null``).
Here the types come from the whole file first:

- JSON Lines: a first pass parses the file in newline-aligned blocks, each typed on
  its own, and unifies their schemas (null widens to anything, int to float, structs
  merge their fields); the second pass streams with that explicit schema. Text that
  looks like a date or time stays text.
- CSV: a first pass reads every column as text and finds, per column, the narrowest of
  int64, float64, bool or string that holds every value (numbers with leading zeros stay
  text); the second pass streams with those types.
- JSON arrays are typed from every row, not from the first row's keys.
- An empty file (0 bytes, or only blank lines) is a table with no columns and no rows.

A CSV / JSON Lines file idcbq wrote has its Arrow schema in ``<file>.schema.json``; while
that still matches the file it is read in one pass with those types (dates and times
included, see :mod:`idcbq.io.schemafile` and :mod:`idcbq.io.readback_known`).

Identifier columns (``PatientID``, UIDs, crdc uuids...) passed as ``strings`` always stay
strings; ``ints`` (sizes) stay integers.

Example:
    >>> import pathlib, tempfile
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "r.jsonl").write_text('{"a": null}\\n' * 3 + '{"a": "x"}\\n')
    >>> schema, batches = open_table(d / "r.jsonl", "jsonl", block_size=16)
    >>> str(schema.field("a").type), sum(b.num_rows for b in batches)
    ('string', 4)
"""

from __future__ import annotations

import io
import json
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from idcbq.io.scan import (
    BLOCK,
    STREAM_BLOCK,
    TableReadError,
    csv_names,
    csv_parse,
    csv_shape,
    first_line,
    guard,
    longest_line,
)

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["BLOCK", "STREAM_BLOCK", "TableReadError", "longest_line", "open_table", "unify"]

PARQUET_BATCH = 32_768
_ROW = re.compile(r"\brow (\d+)")


def open_table(
    path: str | os.PathLike[str],
    fmt: str,
    *,
    strings: Iterable[str] = (),
    ints: Iterable[str] = (),
    block_size: int = BLOCK,
) -> tuple[pa.Schema, Iterator[pa.RecordBatch]]:
    """Schema and streamed record batches of a parquet/csv/jsonl/json file."""
    import pyarrow as pa

    path = Path(path)
    strings, ints = set(strings), set(ints)
    try:
        if _blank(path, fmt):
            return pa.schema([]), iter(())
        if fmt == "parquet":
            import pyarrow.parquet as pq

            # No pre-buffering and modest batches: a 1M-row file streams in ~100 MB.
            pf = pq.ParquetFile(path, pre_buffer=False)
            return pf.schema_arrow, guard(pf.iter_batches(batch_size=PARQUET_BATCH), path)
        if fmt in ("csv", "jsonl"):
            from idcbq.io.schemafile import load

            known = load(path, fmt)
            if known is not None:  # written by idcbq and unchanged since: one pass
                from idcbq.io.readback_known import open_known

                return open_known(path, fmt, known, strings, ints)
        if fmt == "csv":
            return _open_csv(path, strings, ints, block_size)
        if fmt == "jsonl":
            return _open_jsonl(path, strings, ints, block_size)
        if fmt == "json":
            table = _json_array(path)
            return table.schema, iter(table.to_batches(65_536))
    except UnicodeDecodeError as exc:
        raise TableReadError(
            f"{path} is not UTF-8 text (byte {exc.start}): not a {fmt} file"
        ) from exc
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise TableReadError(f"cannot read {fmt} file {path}: {first_line(exc)}") from exc
    raise TableReadError(f"unknown table format {fmt!r} for {path}")


def _blank(path: Path, fmt: str) -> bool:
    size = path.stat().st_size
    if size == 0:
        return True
    if fmt in ("jsonl", "csv") and size <= 4096:
        return not path.read_bytes().strip()
    return False


# -- JSON Lines -------------------------------------------------------------------------


def _blocks(path: Path, block_size: int) -> Iterator[tuple[int, bytes]]:
    """(first line number, bytes) of newline-aligned blocks of about ``block_size`` bytes."""
    line = 1
    carry = b""
    with open(path, "rb") as fh:
        while True:
            data = fh.read(block_size)
            if not data:
                if carry.strip():
                    yield line, carry
                return
            data = carry + data
            cut = data.rfind(b"\n")
            if cut < 0:
                carry = data
                continue
            block, carry = data[: cut + 1], data[cut + 1 :]
            if block.strip():
                yield line, block
            line += block.count(b"\n")


def _jsonl_schema(path: Path, block_size: int) -> tuple[pa.Schema, int]:
    """The unified schema of the whole file, and its longest line in bytes."""
    import pyarrow as pa
    import pyarrow.json as pajson

    schemas = []
    longest = 0
    for line, block in _blocks(path, block_size):
        longest = max(longest, max(map(len, block.split(b"\n"))))
        try:
            block.decode("utf-8")  # Arrow's JSON parser does not check
        except UnicodeDecodeError as exc:
            where = line + block.count(b"\n", 0, exc.start)
            raise TableReadError(f"{path}:{where}: not UTF-8 text: not a jsonl file") from None
        try:
            table = pajson.read_json(
                io.BytesIO(block),
                read_options=pajson.ReadOptions(block_size=len(block) + 1, use_threads=False),
            )
        except pa.ArrowInvalid as exc:
            match = _ROW.search(str(exc))
            where = f":{line + int(match.group(1))}" if match else f" (in the lines from {line})"
            raise TableReadError(f"{path}{where}: not JSON Lines: {first_line(exc)}") from exc
        schemas.append(table.schema)
    return unify(schemas, path), longest


def unify(schemas: list[pa.Schema], path: Path | str = "") -> pa.Schema:
    """One schema for blocks typed separately: null widens, ints become floats, structs merge.

    A column that is text in some blocks and timestamps in others (JSON infers timestamps
    from ISO strings) becomes text; numbers in one block and text in another is an error.
    """
    import pyarrow as pa

    if not schemas:
        return pa.schema([])
    try:
        return pa.unify_schemas(schemas, promote_options="permissive")
    except (pa.ArrowTypeError, pa.ArrowInvalid):
        pass
    kinds: dict[str, list[pa.DataType]] = {}
    for schema in schemas:
        for field in schema:
            kinds.setdefault(field.name, []).append(field.type)
    fields = []
    for name, types in kinds.items():
        try:
            merged = pa.unify_schemas(
                [pa.schema([(name, t)]) for t in types], promote_options="permissive"
            )
            fields.append(merged.field(name))
            continue
        except (pa.ArrowTypeError, pa.ArrowInvalid):
            pass
        seen = {t for t in types if not pa.types.is_null(t)}
        if all(
            pa.types.is_string(t) or pa.types.is_timestamp(t) or pa.types.is_date(t) for t in seen
        ):
            fields.append(pa.field(name, pa.string()))
            continue
        raise TableReadError(
            f"{path}: column {name!r} holds values of different kinds ({', '.join(sorted(map(str, seen)))})"
        )
    return pa.schema(fields)


def _open_jsonl(
    path: Path, strings: set[str], ints: set[str], block_size: int
) -> tuple[pa.Schema, Iterator[pa.RecordBatch]]:
    import pyarrow as pa
    import pyarrow.json as pajson

    schema, longest = _jsonl_schema(path, block_size)
    fields = []
    for field in schema:
        t = field.type
        t = _no_nested_null(t)
        if pa.types.is_timestamp(t) or pa.types.is_date(t):
            t = pa.string()  # ISO text stays text (as in CSV): a string column never changes type
        elif field.name in strings and pa.types.is_null(t):
            t = pa.string()
        elif field.name in ints and pa.types.is_null(t):
            t = pa.int64()
        fields.append(pa.field(field.name, t))
    schema = pa.schema(fields)
    stream_block = max(min(block_size, STREAM_BLOCK), 2 * longest + 2)  # a line never straddles
    from idcbq.core.compat import open_json  # pyarrow < 19 (Colab) has no pajson.open_json

    reader = open_json(
        path,
        read_options=pajson.ReadOptions(block_size=stream_block),
        parse_options=pajson.ParseOptions(
            explicit_schema=schema, unexpected_field_behavior="error"
        ),
    )
    return reader.schema, guard(reader, path)


def _no_nested_null(t: pa.DataType, top: bool = True) -> pa.DataType:
    """Null-typed children of lists and structs become strings (Arrow misreads list<null>)."""
    import pyarrow as pa

    if pa.types.is_null(t) and not top:
        return pa.string()
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return pa.list_(_no_nested_null(t.value_type, False))
    if pa.types.is_struct(t):
        return pa.struct([pa.field(f.name, _no_nested_null(f.type, False)) for f in t])
    return t


# -- CSV --------------------------------------------------------------------------------

_CSV_KINDS = ("int64", "float64", "bool")
_WIDER = {
    "null": _CSV_KINDS,
    "int64": ("int64", "float64"),
    "float64": ("float64",),
    "bool": ("bool",),
}
_LEADING_ZERO = r"^[+-]?0[0-9]"


def _csv_kinds(
    path: Path, names: list[str], block_size: int, newlines: bool, skip: set[str] = frozenset()
) -> dict[str, str]:
    """Per column, the narrowest of int64/float64/bool/string holding every value (or null).

    Columns in ``skip`` (read as text whatever they hold) are ``string`` without being
    looked at: the pass reads only the others, and none at all when nothing is left.
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    kinds = dict.fromkeys(names, "null")
    wanted = [n for n in names if n not in skip]
    if len(set(names)) == len(names) and len(wanted) < len(names):
        kinds.update(dict.fromkeys(skip & set(names), "string"))
        if not wanted:
            return kinds
    else:
        wanted = names
    convert = pacsv.ConvertOptions(column_types={n: pa.string() for n in wanted},
                                   include_columns=wanted if wanted is not names else None,
                                   strings_can_be_null=True, quoted_strings_can_be_null=False)  # fmt: skip
    reader = pacsv.open_csv(
        path,
        read_options=pacsv.ReadOptions(block_size=block_size),
        parse_options=csv_parse(names, newlines),
        convert_options=convert,
    )
    for batch in reader:
        for index, name in enumerate(batch.schema.names):
            kind = kinds.get(name, "string")
            column = batch.column(index)
            if kind == "string" or column.null_count == len(column):
                continue
            column = column.drop_null()
            if (
                kind in ("null", "int64", "float64")
                and pc.any(pc.match_substring_regex(column, _LEADING_ZERO)).as_py()
            ):
                kinds[name] = "string"  # "0001" is an identifier, not the number 1
                continue
            kinds[name] = next((k for k in _WIDER[kind] if _casts(column, k)), "string")
    return kinds


def _casts(column: pa.Array, kind: str) -> bool:
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        pc.cast(column, getattr(pa, kind if kind != "bool" else "bool_")())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return False
    return True


def _open_csv(
    path: Path, strings: set[str], ints: set[str], block_size: int
) -> tuple[pa.Schema, Iterator[pa.RecordBatch]]:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    names = csv_names(path)
    newlines, longest = csv_shape(path)
    block_size = max(block_size, 2 * longest + 2)  # a row never straddles two blocks
    kinds = _csv_kinds(path, names, block_size, newlines, strings)
    types: dict[str, Any] = {}
    for name, kind in kinds.items():
        if name in strings:
            types[name] = pa.string()
        elif name in ints and kind in ("null", "int64"):
            types[name] = pa.int64()
        else:
            types[name] = (
                pa.string()
                if kind in ("null", "string")
                else getattr(pa, kind if kind != "bool" else "bool_")()
            )
    convert = pacsv.ConvertOptions(
        column_types=types, strings_can_be_null=True, quoted_strings_can_be_null=False
    )
    read = pacsv.ReadOptions(block_size=max(min(block_size, STREAM_BLOCK), 2 * longest + 2))
    reader = pacsv.open_csv(
        path, read_options=read, parse_options=csv_parse(names, newlines), convert_options=convert
    )
    return reader.schema, guard(reader, path)


# -- JSON arrays ------------------------------------------------------------------------


def _json_array(path: Path) -> pa.Table:
    import pyarrow as pa

    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise TableReadError(f"{path}:{exc.lineno}: not JSON: {exc.msg}") from exc
    if isinstance(rows, dict):
        rows = rows.get("rows", rows.get("data"))
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise TableReadError(f"{path}: expected a JSON array of row objects")
    names: dict[str, None] = {}
    for row in rows:
        names.update(dict.fromkeys(row))
    columns = {}
    for name in names:
        try:
            columns[name] = pa.array([row.get(name) for row in rows])
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise TableReadError(
                f"{path}: column {name!r} holds values of different kinds: {first_line(exc)}"
            ) from exc
    return pa.table(columns) if columns else pa.table({})
