"""Views over only the columns a statement names (what the engine creates for each statement).

An export's view lists every column of its table, and DuckDB binds that whole list
(dicom_all: ~40 list columns made non-NULL) each time a statement reads the view: about
0.1 s to create it and 0.1 s more per statement. A statement that names only a few
columns gets the same rows from a view of those columns, provided nothing in it
depends on the columns it does not name. So :func:`named_columns` collects every name
in DuckDB's parse tree of the statement (any identifier, alias or text: more than needed
is harmless) and the view keeps those columns; it refuses (None: the full view) when the
statement could see columns without naming them:

- ``*``, ``t.*``, ``COLUMNS(...)`` (all star forms);
- ``NATURAL``/positional joins, ``PIVOT``/``UNPIVOT`` and any FROM item but tables,
  joins, subqueries, table functions and ``VALUES``;
- ``FROM t AS x(a, b)`` (columns renamed by position);
- a table or alias used as a value (``to_json(t)``: the whole row).

A name that resolved to a view column still resolves to it (the column is kept), and a
name that did not still does not (a narrowed view holds no column the full one lacks).

Example:
    >>> import duckdb, pyarrow as pa
    >>> schema = pa.schema([("a", pa.int64()), ("b", pa.int64())])
    >>> named = named_columns(duckdb.connect(), "SELECT a FROM v")
    >>> view_statement("v", "(SELECT 1 a, 2 b)", schema, named)
    'CREATE OR REPLACE VIEW v AS SELECT * FROM (SELECT "a" FROM (SELECT 1 a, 2 b))'
    >>> named_columns(duckdb.connect(), "SELECT * FROM v") is None
    True
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

#: FROM items whose columns are only what the statement names.
_TABLE_REFS = {"BASE_TABLE", "JOIN", "SUBQUERY", "TABLE_FUNCTION", "EMPTY", "EXPRESSION_LIST"}


def named_columns(con: Any, sql: str) -> set[str] | None:
    """Every name and text in DuckDB's parse tree of ``sql``, lower-cased: a superset of
    the columns it reads by name. None when it might read columns it does not name (see
    above) or is not one statement DuckDB can serialize: views keep every column then.
    """
    from idcbq.core.imports import pandas_held_off

    try:
        with pandas_held_off():  # DuckDB's binding would import pandas (~0.3 s)
            (text,) = con.execute("SELECT json_serialize_sql($q)", {"q": sql}).fetchone()
        tree = json.loads(text)
    except Exception:  # not one SELECT DuckDB can serialize: the full views
        return None
    if not isinstance(tree, dict) or tree.get("error") is not False:
        return None
    if len(tree.get("statements") or ()) != 1:
        return None
    return _names(tree)


def view_statement(name: str, source: str, schema: Any, named: set[str] | None) -> str:
    """``CREATE OR REPLACE VIEW name`` over ``source`` (Parquet columns ``schema``): every
    column, or only those in ``named`` (at least one), NULL lists read as ``[]`` alike."""
    import pyarrow as pa

    from idcbq.transpile.empty_arrays import view_select_list

    if named is None:
        return f"CREATE OR REPLACE VIEW {name} AS SELECT {view_select_list(schema)} FROM {source}"
    kept = [f for f in schema if f.name.lower() in named] or [schema.field(0)]
    inner = ", ".join(_q(f.name) for f in kept)
    columns = view_select_list(pa.schema(kept))
    return f"CREATE OR REPLACE VIEW {name} AS SELECT {columns} FROM (SELECT {inner} FROM {source})"


def _names(tree: dict[str, Any]) -> set[str] | None:
    """Every text in the parse tree, lower-cased; None if columns could be read unnamed."""
    texts: set[str] = set()
    tables: set[str] = set()
    single: set[str] = set()
    for node in _nodes(tree):
        kind = node.get("type")
        if node.get("class") == "STAR" or kind == "STAR":
            return None
        if "class" not in node and "sample" in node and not str(kind).endswith("_NODE"):
            if kind not in _TABLE_REFS or node.get("column_name_alias"):  # a FROM item
                return None
            if node.get("ref_type") not in (None, "REGULAR"):
                return None
            for key in ("alias", "table_name"):
                if isinstance(node.get(key), str) and node[key]:
                    tables.add(node[key].lower())
        if node.get("class") == "COLUMN_REF" and len(node.get("column_names") or ()) == 1:
            single.add(str(node["column_names"][0]).lower())
        texts.update(v.lower() for v in _strings(node))
    if single & tables:  # a table or alias as a value: its whole row
        return None
    return texts


def _nodes(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        yield value
        for child in value.values():
            yield from _nodes(child)
    elif isinstance(value, list):
        for child in value:
            yield from _nodes(child)


def _strings(node: dict[str, Any]) -> Iterator[str]:
    for value in node.values():
        if isinstance(value, str):
            yield value
        elif isinstance(value, list):
            yield from (v for v in value if isinstance(v, str))


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
