"""GoogleSQL's types are the result's types: conform a DuckDB result to them, exactly.

When GoogleSQL's analyzer has checked a query it knows each output column's type
(``DATE`` not ``TIMESTAMP``, ``NUMERIC`` not ``FLOAT64``, ``INT64`` not ``FLOAT64``...).
The analysis records them with :func:`remember_types` (keyed by the SQL text and the
parameter types); the DuckDB engine looks them up with :func:`types_for` and calls
:func:`conform` on its Arrow result.

A value converts only if converting it back gives the same value (``2.0`` -> INT64
``2``; a TIMESTAMP at midnight -> DATE), within one family of types (numbers, dates
and times, text, bytes, booleans). Anything else -- ``2.5`` as INT64, a TIMESTAMP with
a time of day as DATE, a STRING where GoogleSQL says DATE, a different number of
columns or struct fields -- is a QueryError: DuckDB computed something BigQuery would
not, and an answer of the wrong type is a silent difference.

Example:
    >>> import pyarrow as pa
    >>> t = conform(pa.table({"d": pa.array([1.0, None])}), [("d", "INT64")])
    >>> t.schema.field("d").type, t.column("d").to_pylist()
    (DataType(int64), [1, None])
    >>> conform(pa.table({"d": [2.5]}), [("d", "INT64")])
    Traceback (most recent call last):
    ...
    idcbq.errors.QueryError: column d: DuckDB's value 2.5 (double) cannot be exactly a GoogleSQL INT64
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from idcbq.core.compat import is_json_type, json_type
from idcbq.errors import QueryError

if TYPE_CHECKING:
    import pyarrow as pa

    from idcbq.params import BoundParameter

#: A type as :func:`idcbq.engines.googlesql.output_types.type_spec` spells it.
Spec = Any
Types = Sequence[tuple[str, Spec]]

#: The one name of a value table's types (``SELECT AS STRUCT``/``AS VALUE``): BigQuery
#: returns a STRUCT value table as its fields, any other value table as one column ``f0_``.
VALUE_TABLE = "$value_table"

_MAX = 512
_LOCK = threading.Lock()
_REMEMBERED: OrderedDict[tuple[str, tuple[tuple[str, str], ...]], tuple[tuple[str, Spec], ...]] = (
    OrderedDict()
)


def _key(sql: str, params: Sequence[BoundParameter]) -> tuple[str, tuple[tuple[str, str], ...]]:
    return sql, tuple(sorted((p.name.lower(), str(p.type)) for p in params))


def remember_types(query: Any, types: Types | None, params: Sequence[BoundParameter] = ()) -> None:
    """Record the output types GoogleSQL gave ``query`` (a SQL string or a ValidatedQuery).

    This is the hook the validation gate calls after a successful analysis. A
    ValidatedQuery also gets them as ``query.output_types``. ``types=None`` forgets
    (a statement whose types are not known).
    """
    sql = query if isinstance(query, str) else query.sql
    if not isinstance(query, str):
        query.output_types = None if types is None else tuple(types)
    key = _key(sql, params)
    with _LOCK:
        if types is None:
            _REMEMBERED.pop(key, None)
            return
        _REMEMBERED.pop(key, None)
        _REMEMBERED[key] = tuple(types)
        while len(_REMEMBERED) > _MAX:
            _REMEMBERED.popitem(last=False)


def types_for(
    sql: str, params: Sequence[BoundParameter] = ()
) -> tuple[tuple[str, Spec], ...] | None:
    """The output types recorded for ``sql`` with these parameter types, or None."""
    with _LOCK:
        return _REMEMBERED.get(_key(sql, params))


@functools.lru_cache(maxsize=1024)
def arrow_type(spec: Spec) -> pa.DataType:
    """The Arrow type of a GoogleSQL type in idcbq results (as the googlesql engine gives).

    Kept per spec (Arrow types are immutable): a result converts every column each query.
    """
    import pyarrow as pa

    if isinstance(spec, tuple):
        if spec[0] == "ARRAY":
            return pa.list_(arrow_type(spec[1]))
        return pa.struct(
            [
                pa.field(n, arrow_type(s))
                for n, (_, s) in zip(field_names(spec), spec[1], strict=True)
            ]
        )
    return {
        "INT64": pa.int64(),
        "BOOL": pa.bool_(),
        "DOUBLE": pa.float64(),
        "STRING": pa.string(),
        "BYTES": pa.binary(),
        "DATE": pa.date32(),
        "TIMESTAMP": pa.timestamp("us", tz="UTC"),
        "DATETIME": pa.timestamp("us"),
        "TIME": pa.time64("us"),
        "NUMERIC": pa.decimal128(38, 9),
        "BIGNUMERIC": pa.decimal256(76, 38),
        "JSON": json_type(),
        "GEOGRAPHY": pa.string(),
    }.get(spec) or _unknown(spec)


def field_names(spec: Spec) -> list[str]:
    """BigQuery's names of a STRUCT's fields: an anonymous field is ``_field_<position>``.

    Raises:
        QueryError: two fields share a name (BigQuery cannot return such a STRUCT).

    Example:
        >>> field_names(("STRUCT", (("a", "INT64"), ("", "STRING"))))
        ['a', '_field_2']
    """
    names = [n or f"_field_{i}" for i, (n, _s) in enumerate(spec[1], start=1)]
    seen: set[str] = set()
    for n in names:
        if n.lower() in seen:
            raise QueryError(
                f"a STRUCT in the result has two fields named {n!r} (GoogleSQL's type "
                f"{_spell(spec)}): idcbq cannot return it as BigQuery does",
                hint="give the STRUCT's fields distinct names",
            )
        seen.add(n.lower())
    return names


def _unknown(spec: Spec) -> pa.DataType:
    raise QueryError(f"DuckDB cannot return a GoogleSQL {spec} value exactly as BigQuery does")


def conform(table: pa.Table, types: Types) -> pa.Table:
    """``table`` with each column converted exactly to its GoogleSQL type.

    Names are DuckDB's except where GoogleSQL's are BigQuery's own: an anonymous column
    (``$col1``, ``$unnest1``) is ``f0_``, ``f1_``...; a value table of a STRUCT is its
    fields (DuckDB gives one STRUCT column), any other value table one column ``f0_``.

    Raises:
        QueryError: a column count or struct shape differs, or a value has no exact
            equal in the GoogleSQL type.

    Example:
        >>> import pyarrow as pa
        >>> t = pa.table({"unnest": [1]})
        >>> conform(t, [("$unnest1", "INT64")]).column_names
        ['f0_']
        >>> s = pa.table({"v": pa.array([{"x": 1, "f0_": 2}])})
        >>> spec = ("STRUCT", (("x", "INT64"), ("", "INT64")))
        >>> conform(s, [(VALUE_TABLE, spec)]).column_names
        ['x', 'f0_']
    """
    import pyarrow as pa

    table, types = _value_table(table, types)

    for name, spec in types:
        if _mentions(spec, "BIGNUMERIC"):  # 76 digits; DuckDB's decimals hold 38
            raise QueryError(
                f"column {name or '?'}: DuckDB cannot compute a GoogleSQL {_spell(spec)} "
                "exactly (BIGNUMERIC has 76 digits, DuckDB's decimals 38)",
                hint="CAST to NUMERIC or FLOAT64 in the query, or use --engine bigquery",
            )
    if table.num_columns != len(types):
        raise QueryError(
            f"DuckDB's result has {table.num_columns} columns, GoogleSQL's analysis "
            f"{len(types)} ({', '.join(n for n, _ in types)}): the translation differs"
        )
    table = _in_googlesqls_order(table, [g for g, _s in types])
    columns, fields = [], []
    names = _bigquery_names(table.column_names, [g for g, _s in types])
    for name, column, (_gname, spec) in zip(names, table.columns, types, strict=True):
        target = arrow_type(spec)
        if column.type != target or _mentions(spec, "JSON"):  # JSON: GoogleSQL's text
            chunks = [_array(chunk, spec, target, name) for chunk in column.chunks]
            column = pa.chunked_array(chunks, type=target)
        columns.append(column)
        fields.append(pa.field(name, target))
    return pa.Table.from_arrays(columns, schema=pa.schema(fields, metadata=table.schema.metadata))


def _in_googlesqls_order(table: pa.Table, google: list[str]) -> pa.Table:
    """DuckDB's columns in GoogleSQL's order when the same distinct names come otherwise
    (a translation that moved columns: by position each would take another's type)."""
    mine = [n.lower() for n in table.column_names]
    theirs = [n.lower() for n in google]
    if mine == theirs or len(set(mine)) != len(mine) or sorted(mine) != sorted(theirs):
        return table
    return table.select([mine.index(n) for n in theirs])


def _bigquery_names(duck: list[str], google: list[str]) -> list[str]:
    """DuckDB's names, but GoogleSQL's anonymous ones (``$...``) as ``f0_``, ``f1_``..."""
    out, anonymous = [], 0
    for mine, theirs in zip(duck, google, strict=True):
        if theirs.startswith("$"):
            mine, anonymous = f"f{anonymous}_", anonymous + 1
        out.append(mine)
    return out


def _value_table(table: pa.Table, types: Types) -> tuple[pa.Table, list[tuple[str, Spec]]]:
    """A value table's one DuckDB column as BigQuery returns it (see :func:`conform`)."""
    import pyarrow as pa

    types = list(types)
    if len(types) != 1 or types[0][0] != VALUE_TABLE:
        return table, types
    spec = types[0][1]
    is_struct = isinstance(spec, tuple) and spec[0] == "STRUCT"
    named = [(n or "$field", s) for n, s in spec[1]] if is_struct else [("$value", spec)]
    column = table.column(0) if table.num_columns == 1 else None
    packed = (
        is_struct
        and column is not None
        and pa.types.is_struct(column.type)
        and [column.type.field(i).name.lower() for i in range(column.type.num_fields)]
        == [n.lower() for n in _bigquery_names([n for n, _s in named], [n for n, _s in named])]
    )
    if not packed:  # DuckDB gave the columns themselves (a FROM subquery's fields)
        if table.num_columns != len(named):
            raise QueryError(
                f"DuckDB's result has {table.num_columns} columns, GoogleSQL's a value "
                f"table of {_spell(spec)}: the translation differs"
            )
        return table, named
    return struct_fields(column, [n for n, _s in named]), named


def struct_fields(column: pa.ChunkedArray, names: list[str]) -> pa.Table:
    """A STRUCT column as a table of its fields, named ``names`` (a NULL row: NULL fields).

    Example:
        >>> import pyarrow as pa
        >>> s = pa.chunked_array([pa.array([{"x": 1, "y": "a"}, None])])
        >>> struct_fields(s, ["x", "f0_"]).to_pylist()
        [{'x': 1, 'f0_': 'a'}, {'x': None, 'f0_': None}]
    """
    import pyarrow as pa

    kind = column.type
    chunks = [chunk.flatten() for chunk in column.chunks]
    arrays = [
        pa.chunked_array([c[i] for c in chunks], type=kind.field(i).type)
        for i in range(kind.num_fields)
    ]
    return pa.Table.from_arrays(arrays, names=names)


def _mentions(spec: Spec, name: str) -> bool:
    if isinstance(spec, tuple):
        if spec[0] == "ARRAY":
            return _mentions(spec[1], name)
        return any(_mentions(s, name) for _n, s in spec[1])
    return spec == name


def _family(kind: pa.DataType) -> str:
    import pyarrow as pa

    t = pa.types
    if t.is_integer(kind) or t.is_floating(kind) or t.is_decimal(kind):
        return "number"
    if t.is_date(kind) or t.is_timestamp(kind):
        return "date"
    if t.is_time(kind):
        return "time"
    if t.is_string(kind) or t.is_large_string(kind) or is_json_type(kind):
        return "text"
    if t.is_binary(kind) or t.is_large_binary(kind):
        return "bytes"
    if t.is_boolean(kind):
        return "bool"
    if t.is_null(kind):
        return "null"
    return str(kind)


def _spell(spec: Spec) -> str:
    if isinstance(spec, tuple):
        if spec[0] == "ARRAY":
            return f"ARRAY<{_spell(spec[1])}>"
        return "STRUCT<" + ", ".join(f"{n} {_spell(s)}".strip() for n, s in spec[1]) + ">"
    return "FLOAT64" if spec == "DOUBLE" else spec


def _fail(name: str, spec: Spec, arr: pa.Array, why: str | None = None) -> QueryError:
    detail = why or f"{arr.type} values"
    return QueryError(
        f"column {name}: DuckDB's {detail} cannot be exactly a GoogleSQL {_spell(spec)}"
    )


def _array(arr: pa.Array, spec: Spec, target: pa.DataType, name: str) -> pa.Array:
    import pyarrow as pa

    if arr.null_count == len(arr) and arr.type != target:  # no value to convert: NULLs
        return pa.nulls(len(arr), type=target)  # of GoogleSQL's type (REPEAT(NULL, 2))
    if spec == "JSON" and not pa.types.is_null(arr.type):
        return _json(arr, spec, target, name)
    if arr.type == target:
        return arr
    if isinstance(spec, tuple) and spec[0] == "ARRAY":
        if not (pa.types.is_list(arr.type) or pa.types.is_large_list(arr.type)):
            raise _fail(name, spec, arr)
        values = _array(arr.values, spec[1], target.value_type, name)
        offsets = arr.offsets.cast(pa.int32())
        return pa.ListArray.from_arrays(offsets, values, type=target, mask=arr.is_null())
    if isinstance(spec, tuple):
        if not pa.types.is_struct(arr.type) or arr.type.num_fields != len(spec[1]):
            raise _fail(name, spec, arr)
        children = [
            _array(arr.field(i), s, target.field(i).type, name) for i, (_n, s) in enumerate(spec[1])
        ]
        mask = arr.is_null() if arr.null_count else None
        return pa.StructArray.from_arrays(children, fields=list(target), mask=mask)
    return _scalar(arr, spec, target, name)


def _json(arr: pa.Array, spec: Spec, target: pa.DataType, name: str) -> pa.Array:
    """JSON text as GoogleSQL writes it (sorted keys, normalized numbers); DuckDB keeps
    the document's text as written."""
    import pyarrow as pa

    from idcbq.core.jsontext import canonical_json

    if _family(arr.type) != "text":
        raise _fail(name, spec, arr)
    if isinstance(arr.type, pa.BaseExtensionType):
        arr = arr.storage
    try:
        texts = [None if v is None else canonical_json(v) for v in arr.to_pylist()]
    except ValueError as exc:
        raise _fail(name, spec, arr, "text that is not JSON") from exc
    storage = pa.array(texts, pa.string())
    if isinstance(target, pa.BaseExtensionType):
        return pa.ExtensionArray.from_storage(target, storage)
    return storage


def _scalar(arr: pa.Array, spec: Spec, target: pa.DataType, name: str) -> pa.Array:
    import pyarrow as pa
    import pyarrow.compute as pc

    source = arr.type
    if pa.types.is_dictionary(source):
        arr = arr.dictionary_decode()
        source = arr.type
    if _family(source) != _family(target):
        raise _fail(name, spec, arr)
    try:
        if pa.types.is_decimal(source) and pa.types.is_floating(target):  # correctly rounded
            out = pa.array([None if v is None else float(v) for v in arr.to_pylist()], target)
        else:
            out = pc.cast(arr, target, safe=False)
        back = pc.cast(out, source, safe=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise _fail(name, spec, arr) from exc
    floats = pa.types.is_floating(out.type) or pa.types.is_floating(source)
    if floats and pa.types.is_decimal(out.type) != pa.types.is_decimal(source):
        same = _exact_decimal(arr, out)  # Arrow's decimal -> float is not correctly rounded
    else:
        same = pc.equal(back, arr)
    if pa.types.is_floating(source):  # NaN stays NaN only in a float
        nan = pc.is_nan(arr)
        if pa.types.is_floating(target):
            same = pc.or_(same, pc.and_(nan, pc.is_nan(back)))
        else:
            same = pc.and_(same, pc.invert(nan))
    if pc.all(same).as_py() is False:
        bad = pc.index(same, False).as_py()
        raise _fail(name, spec, arr, f"value {arr[bad].as_py()!r} ({source})")
    return out


def _exact_decimal(arr: pa.Array, out: pa.Array) -> pa.Array:
    """Per value: the decimal and the float are the same number (Python's exact compare)."""
    import decimal
    import math

    import pyarrow as pa

    flags = []
    for a, b in zip(arr.to_pylist(), out.to_pylist(), strict=True):
        if a is None or b is None:
            flags.append(None if a is None and b is None else False)
            continue
        f, d = (a, b) if isinstance(a, float) else (b, a)
        flags.append(
            not math.isnan(f)
            and not math.isinf(f)
            and float(d) == f
            and decimal.Decimal(repr(f)) == d
        )
    return pa.array(flags, type=pa.bool_())


def json_columns(table: pa.Table, duck_types: Sequence[str]) -> pa.Table:
    """Mark the top-level columns DuckDB itself typed ``JSON`` as GoogleSQL's JSON.

    Without the analyzer's types (the strict layer alone) the Arrow result holds JSON as
    plain text; DuckDB's own column type is a fact, not a guess, so it names the type.

    Example:
        >>> import pyarrow as pa
        >>> from idcbq.core.compat import is_json_type
        >>> t = json_columns(pa.table({"j": ["1"], "s": ["a"]}), ["JSON", "VARCHAR"])
        >>> [is_json_type(f.type) for f in t.schema] == [is_json_type(json_type()), False]
        True
    """
    import pyarrow as pa

    target = json_type()
    if not pa.types.is_string(target) and len(duck_types) == table.num_columns:
        for index, duck in enumerate(duck_types):
            column = table.column(index)
            if duck == "JSON" and pa.types.is_string(column.type):
                chunks = [pa.ExtensionArray.from_storage(target, c) for c in column.chunks]
                field = table.schema.field(index).with_type(target)
                table = table.set_column(index, field, pa.chunked_array(chunks, target))
    return table


def anonymous_fields(table: pa.Table) -> pa.Table:
    """Name DuckDB's anonymous STRUCT fields as BigQuery does: ``_field_<position>``.

    ``(1, 2)`` comes back from DuckDB as a STRUCT whose fields are both named ``''``:
    a result no one can read as rows (Arrow refuses a dictionary of repeated keys).
    Without the analyzer's types (which :func:`conform` renames by) the names follow
    :func:`field_names`; the values are a zero-copy view (the same layout).

    Example:
        >>> import pyarrow as pa
        >>> t = pa.table({"s": pa.array([{"": 1, "a": 2}], pa.struct([("", pa.int64()), ("a", pa.int64())]))})
        >>> anonymous_fields(t).column("s").to_pylist()
        [{'_field_1': 1, 'a': 2}]
    """
    import pyarrow as pa

    for index, field in enumerate(table.schema):
        named = _named(field.type)
        if named != field.type:
            column = pa.chunked_array([c.view(named) for c in table.column(index).chunks], named)
            table = table.set_column(index, field.with_type(named), column)
    return table


def _named(kind: pa.DataType) -> pa.DataType:
    import pyarrow as pa

    if pa.types.is_struct(kind):
        fields = [
            pa.field(f.name or f"_field_{i}", _named(f.type), f.nullable)
            for i, f in enumerate(kind, start=1)
        ]
        return pa.struct(fields)
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        value = kind.value_field
        item = pa.field(value.name, _named(value.type), value.nullable)
        return pa.list_(item) if pa.types.is_list(kind) else pa.large_list(item)
    return kind
