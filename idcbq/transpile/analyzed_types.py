"""Types from GoogleSQL's resolved statement for the nodes sqlglot could not type.

sqlglot's annotator (:mod:`idcbq.transpile.types`) leaves some nodes ``UNKNOWN``:
columns of nested CTEs, some CASE expressions, fields of UNNESTed STRUCT arrays.
When the gate's analyzer ran, it resolved every expression with its type and the
engine passes those as spans of the SQL text (``(start, end, type)``, characters; see
:mod:`idcbq.engines.googlesql.expression_types`). :func:`fill_unknown` gives an
``UNKNOWN`` node the type of the span it was parsed from.

Matching is conservative: a node's tokens (sqlglot keeps the positions of identifiers,
literals and function names in ``meta``) bound where its text is; the innermost span
around them whose text parses to the same expression is the node's. A node with no
located token, or no span whose text is the same expression, stays ``UNKNOWN`` (a
typed rewrite that needs it then refuses). Only ``UNKNOWN`` nodes are filled: where
sqlglot typed a node the typed rewrites keep that type.

Example:
    >>> import sqlglot
    >>> sql = "SELECT CASE WHEN a THEN x END AS y FROM t"
    >>> tree = sqlglot.parse_one(sql, read="bigquery")
    >>> for node in tree.walk():
    ...     node.type = exp.DataType.build("UNKNOWN")
    >>> spans = [(7, 29, 0), (17, 18, 1), (24, 25, 0)]
    >>> fill_unknown(tree, sql, {"types": ["DATE", "BOOL"], "spans": spans, "columns": {}})
    4
    >>> tree.find(exp.Case).type.sql("bigquery")
    'DATE'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlglot import exp

T = exp.DataType.Type

#: GoogleSQL type kinds and their BigQuery spelling (others stay unknown).
_SCALARS = {
    "INT64": "INT64",
    "DOUBLE": "FLOAT64",
    "BOOL": "BOOL",
    "STRING": "STRING",
    "BYTES": "BYTES",
    "DATE": "DATE",
    "TIMESTAMP": "TIMESTAMP",
    "DATETIME": "DATETIME",
    "TIME": "TIME",
    "NUMERIC": "NUMERIC",
    "BIGNUMERIC": "BIGNUMERIC",
    "JSON": "JSON",
    "GEOGRAPHY": "GEOGRAPHY",
    "INTERVAL": "INTERVAL",
}
#: Candidate spans tried per node, innermost first (each is one small parse).
_TRIES = 4
#: Nodes that are no value of their own (their text is never a resolved expression's;
#: writing a whole query's SQL to compare it is the slow part).
_NOT_VALUES = (
    exp.Null,
    exp.DataType,
    exp.Identifier,
    exp.Star,
    exp.Query,
    exp.CTE,
    exp.With,
    exp.From,
    exp.Join,
    exp.Where,
    exp.Having,
    exp.Group,
    exp.Order,
    exp.Ordered,
    exp.Table,
    exp.TableAlias,
    exp.Alias,
    exp.Lateral,
    exp.Limit,
    exp.Offset,
    exp.Qualify,
    exp.WindowSpec,
)


def _a_row_source(node: exp.Expr) -> bool:
    """A subquery or UNNEST in FROM / JOIN (rows, not a value)."""
    return isinstance(node, exp.Subquery | exp.Unnest) and isinstance(
        node.parent, exp.From | exp.Join
    )


def bigquery_type(spec: Any, *, quoted: bool = False) -> str | None:
    """BigQuery's spelling of a type spec (``"INT64"``, ``("ARRAY", spec)``,
    ``("STRUCT", ((name, spec), ...))``), or None for a type BigQuery has not.
    Field names are quoted only where they must be, or all with ``quoted``.

    Example:
        >>> bigquery_type(("ARRAY", ("STRUCT", (("a", "DOUBLE"), ("", "DATE")))))
        'ARRAY<STRUCT<a FLOAT64, DATE>>'
        >>> bigquery_type("UINT64") is None
        True
    """
    if isinstance(spec, str):
        return _SCALARS.get(spec)
    kind, inner = spec
    if kind == "ARRAY":
        element = bigquery_type(inner, quoted=quoted)
        return None if element is None else f"ARRAY<{element}>"
    fields = []
    for name, field_spec in inner:
        text = bigquery_type(field_spec, quoted=quoted)
        if text is None or "`" in name:
            return None
        plain = not quoted and name.isidentifier() and name.isascii()  # as sqlglot spells it
        fields.append(text if not name else f"{name} {text}" if plain else f"`{name}` {text}")
    return f"STRUCT<{', '.join(fields)}>"


def _token_bounds(node: exp.Expr) -> tuple[int, int] | None:
    """``(first, last + 1)`` characters of the located tokens under ``node``."""
    low = high = None
    for child in node.walk():
        meta = child._meta
        if not meta or "start" not in meta:
            continue
        low = meta["start"] if low is None else min(low, meta["start"])
        high = meta["end"] + 1 if high is None else max(high, meta["end"] + 1)
    return None if low is None else (low, high)


def fill_unknown(tree: exp.Expr, sql: str, typed: Mapping[str, Any]) -> int:
    """Type the ``UNKNOWN`` nodes of ``tree`` (parsed from ``sql``) from GoogleSQL's
    ``{"types": [spec], "spans": [(start, end, i)], "columns": {name: i}}`` (``i``
    indexes ``types``); return how many were filled.

    A column reference no span matches (a plain ``SELECT x`` or ``ORDER BY x``: no
    expression of its own in the resolved statement) takes the one type every resolved
    column of its name has, if it names a row source's column (not a field of an
    UNNEST alias's struct, which is an expression GoogleSQL locates).
    """
    types = typed.get("types") or ()
    ordered = sorted(
        ((int(s), int(e), types[i]) for s, e, i in typed.get("spans") or ()),
        key=lambda span: span[1] - span[0],
    )
    columns = {name: types[i] for name, i in (typed.get("columns") or {}).items()}
    sources = _row_sources(tree)
    parsed: dict[tuple[int, int], str | None] = {}
    filled = 0
    for node in tree.walk():
        if node.type is None or not node.type.is_type(T.UNKNOWN):
            continue
        if isinstance(node, _NOT_VALUES) or _a_row_source(node):
            continue
        bounds = _token_bounds(node)
        if bounds is None:
            continue
        spec = _matching(node, bounds, ordered, sql, parsed)
        if spec is None and _names_a_column(node, sources):
            spec = columns.get(node.name.lower())
        if spec is not None and _set_type(node, spec):
            filled += 1
    for node in reversed(list(tree.walk(bfs=False))):  # inner first: ((x)) too
        wraps = isinstance(node, exp.Paren | exp.Alias)  # GoogleSQL's spans leave them out
        if wraps and _unknown(node) and _known(node.this):
            node.type = node.this.type
            filled += 1
    return filled


def _unknown(node: exp.Expr) -> bool:
    return node.type is not None and node.type.is_type(T.UNKNOWN)


def _known(node: Any) -> bool:
    return isinstance(node, exp.Expr) and node.type is not None and not _unknown(node)


def _names_a_column(node: exp.Expr, sources: set[str]) -> bool:
    """A column reference, bare or qualified by a row source (not a struct's field)."""
    if not isinstance(node, exp.Column) or node.args.get("db"):
        return False
    return not node.table or node.table.lower() in sources


def _set_type(node: exp.Expr, spec: Any) -> bool:
    from idcbq.transpile.types import parsed_type

    for quoted in (False, True):  # a field named like a keyword needs its quotes
        text = bigquery_type(spec, quoted=quoted)
        if text is None:
            return False
        try:
            node.type = parsed_type(text)
        except Exception:  # a type sqlglot cannot spell: stays unknown
            continue
        return True
    return False


def _row_sources(tree: exp.Expr) -> set[str]:
    """Names of tables, CTEs and subqueries rows come from (not UNNEST aliases)."""
    names = {t.alias_or_name.lower() for t in tree.find_all(exp.Table) if t.alias_or_name}
    names |= {s.alias.lower() for s in tree.find_all(exp.Subquery) if s.alias}
    unnested = {u.alias.lower() for u in tree.find_all(exp.Unnest) if u.alias}
    return names - unnested


def _matching(node, bounds, ordered, sql, parsed) -> Any:
    """The spec of the innermost span around ``bounds`` whose text is ``node``."""
    low, high = bounds
    mine = None
    tries = 0
    for start, end, spec in ordered:
        if start > low or end < high:
            continue
        if mine is None:
            mine = _normal(node)
            if mine is None:
                return None
        key = (start, end)
        if key not in parsed:
            parsed[key] = _parse(sql[start:end])
        if parsed[key] == mine:
            return spec
        tries += 1
        if tries >= _TRIES:
            return None
    return None


def _normal(node: exp.Expr) -> str | None:
    try:
        return node.sql("bigquery")
    except Exception:
        return None


def _parse(text: str) -> str | None:
    """The expression ``text`` parses to, as sqlglot writes it back (None if not one)."""
    import sqlglot

    try:
        return sqlglot.parse_one(text, read="bigquery").sql("bigquery")
    except Exception:
        return None
