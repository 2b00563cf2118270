"""Result normalisation for comparing BigQuery and DuckDB results of the same query."""

from __future__ import annotations

import datetime as dt
import decimal
import math
import os
from typing import Any

import pyarrow as pa

#: Significant digits floats are compared to (engines may sum in different orders);
#: ``IDCBQ_FLOAT_DIGITS=17`` compares them exactly.
FLOAT_DIGITS = int(os.environ.get("IDCBQ_FLOAT_DIGITS", "9"))


def normalise(value: Any) -> Any:
    """A hashable, engine-neutral form of one value.

    - floats rounded to ``FLOAT_DIGITS`` significant digits (NaN kept comparable);
    - a NULL list is ``()``: BigQuery returns NULL arrays as empty arrays;
    - lists -> tuples, structs -> sorted tuples of (field, value);
    - datetimes in UTC; Decimal with integral value -> int, others exact (every digit
      counts: NUMERIC is exact in GoogleSQL, and rounding it to a float hid differences).
    """
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if value == 0 or math.isinf(value):
            return value
        return float(f"{value:.{FLOAT_DIGITS}g}")
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else value.normalize()
    if isinstance(value, list | tuple):
        return tuple(normalise(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, normalise(v)) for k, v in value.items()))
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.UTC)
    return value


def rows(table: pa.Table) -> list[tuple]:
    """Rows of an Arrow table as tuples of normalised values (NULL lists -> ())."""
    list_cols = {
        f.name for f in table.schema if pa.types.is_list(f.type) or pa.types.is_large_list(f.type)
    }
    out = []
    for record in table.to_pylist():
        out.append(
            tuple(() if (v is None and k in list_cols) else normalise(v) for k, v in record.items())
        )
    return out


def sort_key(row: tuple) -> tuple:
    return tuple((v is None, repr(type(v)), repr(v)) for v in row)


def bigquery_types(table: pa.Table) -> list[str]:
    """The BigQuery type of each column (``ARRAY<STRUCT<a INT64>>``; Arrow null -> ``NULL``)."""
    from idcbq.sources.schema import fields_from_arrow

    def spell(field) -> str:
        if field.is_record:
            inner = ", ".join(f"{f.name} {spell(f)}" for f in field.fields)
            base = f"STRUCT<{inner}>"
        else:
            base = field.scalar_type
        return f"ARRAY<{base}>" if field.is_repeated else base

    out = []
    for arrow_field, field in zip(table.schema, fields_from_arrow(table.schema), strict=True):
        out.append("NULL" if pa.types.is_null(arrow_field.type) else spell(field))
    return out


def compare(
    bq: pa.Table,
    duck: pa.Table,
    *,
    ordered: bool | list[str],
    names_case: bool = True,
    types: bool = False,
) -> None:
    """Assert equal column names, rows (in order only if the query orders) and, with
    ``types=True``, equal BigQuery column types.

    ``names_case=False`` compares column names case-insensitively (as BigQuery resolves them).
    ``ordered`` may be the output columns the query orders by (see :func:`order_keys`):
    then the rows are compared as multisets and those columns in row order (ties are not
    an order); ``True`` compares whole rows in order.
    """
    names = f"names: oracle {bq.column_names}, DuckDB {duck.column_names}"
    if names_case:
        assert bq.column_names == duck.column_names, names
    else:
        assert [c.lower() for c in bq.column_names] == [c.lower() for c in duck.column_names], names
    if types:
        expected, got = bigquery_types(bq), bigquery_types(duck)
        assert expected == got, f"types: oracle {expected}, DuckDB {got}"
    left, right = rows(bq), rows(duck)
    if isinstance(ordered, list):
        if ordered:
            picks = [bq.column_names.index(k) for k in ordered]
            keys_left = [tuple(r[i] for i in picks) for r in left]
            keys_right = [tuple(r[i] for i in picks) for r in right]
            assert keys_left == keys_right, f"order of {ordered} differs"
        ordered = False
    if not ordered:
        left, right = sorted(left, key=sort_key), sorted(right, key=sort_key)
    assert len(left) == len(right), f"oracle {len(left)} rows, DuckDB {len(right)} rows"
    for i, (a, b) in enumerate(zip(left, right, strict=True)):
        assert a == b, f"row {i} differs:\n  oracle {a}\n  DuckDB {b}"


def is_ordered(bigquery_sql: str) -> bool:
    """True if the outermost query has an ORDER BY (then row order is part of the answer)."""
    import sqlglot

    tree = sqlglot.parse_one(bigquery_sql, read="bigquery")
    return tree.args.get("order") is not None


def order_keys(bigquery_sql: str) -> list[str]:
    """Output columns the outermost ORDER BY sorts on, in order; ``[]`` when it does not
    order, or orders by something that is not an output column (then only multisets are
    compared)."""
    import sqlglot
    from sqlglot import exp

    tree = sqlglot.parse_one(bigquery_sql, read="bigquery")
    order = tree.args.get("order")
    if order is None or not isinstance(tree, exp.Select):
        return []
    names = [e.alias_or_name for e in tree.expressions]
    keys: list[str] = []
    for key in order.expressions:
        node = key.this
        if isinstance(node, exp.Literal) and node.is_int and 0 < int(node.this) <= len(names):
            keys.append(names[int(node.this) - 1])
        elif isinstance(node, exp.Column) and not node.table and node.name in names:
            keys.append(node.name)
        else:
            return keys  # a prefix of output columns still fixes an order among groups
    return keys


def disagreement(gsql_engine, duck_client, sql: str, ordered: bool | list[str]) -> str | None:
    """Why idcbq on DuckDB and GoogleSQL disagree on ``sql``, or None.

    A loud refusal (an idcbq error) is never a disagreement; an answer where GoogleSQL
    raises, or a different answer (:func:`compare`), is.
    """
    from idcbq.errors import IdcbqError

    try:
        oracle = gsql_engine.execute(gsql_engine.prepare(sql, ()))
    except IdcbqError:
        oracle = None
    try:
        duck = duck_client.sql(sql).table
    except IdcbqError:
        return None  # loud (or both raise): never a wrong answer
    if oracle is None:
        return f"GoogleSQL raises, idcbq answers: {sql}"
    try:
        compare(oracle, duck, ordered=ordered, types=True)
    except AssertionError as exc:
        return f"{sql}\n{exc}"
    return None
