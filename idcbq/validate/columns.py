"""Unknown-column checks against table schemas, with "did you mean" suggestions.

Only rejects what it can decide: a column whose every possible source has a known
schema that lacks it. Anything involving an unknown source (a clinical table without a
schema, ``SELECT *`` in a subquery, a struct we know only partly) is let through; the
engine will still report it.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from idcbq.errors import ValidationError
from idcbq.validate.statements import node_location

if TYPE_CHECKING:
    from sqlglot import exp

    from idcbq.sources.schema import Field
    from idcbq.templates.locations import LocationMap
    from idcbq.validate.tables import TableRef

#: Callable returning the columns of (dataset, table), or None when unknown.
SchemaLookup = Callable[[str, str], "tuple[Field, ...] | None"]
_PSEUDO = {"_table_suffix", "_partitiontime", "_partitiondate", "_file_name"}
_UNKNOWN = None


def reference_schema(dataset: str, table: str) -> tuple[Field, ...] | None:
    """Columns from idcbq's reference notes (main IDC tables); None for clinical tables."""
    from idcbq.sources.schema import idc_table_fields

    if dataset.lower().endswith("_clinical"):
        return None
    try:
        return idc_table_fields(table)
    except KeyError:
        return None


#: ``{lower name: Field}`` of a table's fields, by the identity of its fields tuple (the
#: schema lookups return the same tuple each time; dicom_all has ~800 fields). Each entry
#: keeps its tuple, so an id is never reused while its entry lives.
_LOWERED: dict[int, tuple[Any, dict[str, Any]]] = {}


def _by_lower_name(fields: Any) -> dict[str, Any]:
    """The fields by lowercase name (read only), built once per fields tuple."""
    kept = _LOWERED.get(id(fields))
    if kept is not None and kept[0] is fields:
        return kept[1]
    lowered = {f.name.lower(): f for f in fields}
    if len(_LOWERED) >= 64:  # a long session with many schemas: start over
        _LOWERED.clear()
    _LOWERED[id(fields)] = (fields, lowered)
    return lowered


class _Columns:
    """Known columns of one source: lower name -> Field (or None when only the name is known)."""

    def __init__(self, fields: dict[str, Any]):
        self.fields = fields

    def names(self) -> list[str]:
        return [getattr(f, "name", None) or k for k, f in self.fields.items()]


def check_columns(
    tree: exp.Expression,
    sql: str,
    lmap: LocationMap,
    refs: dict[int, TableRef],
    schema: SchemaLookup,
    add: Callable[[ValidationError], None],
) -> None:
    from sqlglot.optimizer.scope import traverse_scope

    try:
        scopes = list(traverse_scope(tree))
    except Exception:  # scope building gave up on an odd query: do not guess
        return
    cache: dict[int, _Columns | None] = {}
    seen: set[int] = set()
    for scope in scopes:
        if _pivoted(scope) or _unaliased_derived_tables(scope) > 1:
            # PIVOT / UNPIVOT make and drop columns; two unaliased subqueries share
            # one (empty) source name in sqlglot's scope: undecided here
            continue
        aliases = _select_aliases(scope)
        for column in scope.columns:
            if id(column) in seen or _by_list(column):
                continue
            seen.add(id(column))
            # BigQuery resolves SELECT aliases in GROUP BY / HAVING / ORDER BY, never in
            # WHERE nor in the SELECT list that names them.
            hidden = _alias_hidden(column, scope)
            visible = set() if hidden else aliases
            problem = _check_one(column, scope, visible, refs, schema, cache)
            if not problem and hidden and column.name.lower() in aliases and _sourceless(scope):
                problem = _unknown(column.name, None, [])  # no FROM anywhere: only the alias
            if problem and column.name.lower() in aliases:
                problem = (
                    f"{problem[0]} (a SELECT alias cannot be used in {hidden})",
                    "repeat the expression, or filter in an outer query"
                    if hidden == "WHERE"
                    else "repeat the expression, or name it in an outer query",
                )
            if problem:
                add(
                    ValidationError(
                        problem[0],
                        location=node_location(column, sql, lmap, token=column.name),
                        hint=problem[1],
                    )
                )


def _sourceless(scope: Any) -> bool:
    """Neither ``scope`` nor any enclosing scope reads a table, UNNEST or subquery."""
    current = scope
    while current is not None:
        if current.sources:
            return False
        current = current.parent
    return True


def _by_list(column: Any) -> bool:
    """A name in ``CORRESPONDING BY (...)`` / ``BY NAME ON (...)``: an operand's column, not
    one of the scope's (the transpiler checks the operands have it)."""
    from sqlglot import exp

    return isinstance(column.parent, exp.SetOperation) and column.arg_key == "on"


def _pivoted(scope: Any) -> bool:
    from sqlglot import exp

    return any(True for _ in scope.expression.find_all(exp.Pivot))


def _unaliased_derived_tables(scope: Any) -> int:
    from sqlglot import exp

    select = scope.expression
    if not isinstance(select, exp.Select):
        return 0
    from_ = select.args.get("from_") or select.args.get("from")
    items = [from_.this] if from_ is not None else []
    items += [j.this for j in select.args.get("joins") or []]
    return sum(1 for i in items if isinstance(i, exp.Subquery) and not i.alias)


def _alias_hidden(column: Any, scope: Any) -> str | None:
    """``"WHERE"`` / ``"the same SELECT list"`` if ``column`` sits there in its scope's own
    SELECT (where SELECT aliases are not visible); None elsewhere."""
    from sqlglot import exp

    select = scope.expression
    if not isinstance(select, exp.Select):
        return None
    where = select.args.get("where")
    items = {id(e) for e in select.expressions}
    node, child = column.parent, column
    while node is not None and node is not select:
        child, node = node, node.parent
    if node is None:
        return None
    if where is not None and child is where:
        return "WHERE"
    return "the same SELECT list" if id(child) in items else None


def _select_aliases(scope: Any) -> set[str]:
    from sqlglot import exp

    expr = scope.expression
    if isinstance(expr, exp.Select):
        # Explicit aliases only: BigQuery lets GROUP BY / ORDER BY / HAVING name them.
        return {s.alias.lower() for s in expr.expressions if isinstance(s, exp.Alias)}
    return set()


def _check_one(column, scope, aliases, refs, schema, cache) -> tuple[str, str | None] | None:
    name = column.name
    low = name.lower()
    if not name or low in _PSEUDO or column.args.get("db") or column.args.get("catalog"):
        return None
    qualifier = column.table
    if qualifier:
        source = _find_source(scope, qualifier)
        if source is None:
            return None  # maybe a struct column (`col.field`) or an outer alias: undecided
        cols = _source_columns(source, scope, refs, schema, cache)
        if cols is None or low in cols.fields:
            return None
        return _unknown(name, f"{qualifier}", cols.names())
    if low in aliases:
        return None
    current = scope
    candidates: list[str] = []
    while current is not None:
        if any(k.lower() == low for k in current.sources):
            return None  # a range variable / UNNEST value used as a column
        for source in current.sources.values():
            if _encloses(source, column):
                continue  # a derived table's own output is not visible inside it
            cols = _source_columns(source, current, refs, schema, cache)
            if cols is None or low in cols.fields:
                return None
            candidates.extend(cols.names())
        current = current.parent
    if not candidates and not scope.sources:
        return None
    return _unknown(name, None, candidates)


def _unknown(name: str, qualifier: str | None, candidates: list[str]) -> tuple[str, str | None]:
    lowered = {c.lower(): c for c in candidates}
    close = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.6)
    where = f" in {qualifier}" if qualifier else ""
    hint = f"did you mean {lowered[close[0]]}?" if close else None
    return f"unknown column {name}{where}", hint


def _find_source(scope: Any, qualifier: str) -> Any:
    low = qualifier.lower()
    current = scope
    while current is not None:
        for key, source in current.sources.items():
            if key.lower() == low:
                return source
        current = current.parent
    return None


def _source_columns(source, scope, refs, schema, cache) -> _Columns | None:
    from sqlglot import exp

    from idcbq.transpile.corresponding import result_columns

    key = id(source)
    if key in cache:
        return cache[key]
    cache[key] = None  # guards against cycles (an UNNEST resolving its own argument)
    result: _Columns | None = None
    if isinstance(source, exp.Table):
        ref = refs.get(id(source))
        if ref is not None:
            fields = schema(ref.dataset, ref.table)
            if fields:
                result = _Columns(_by_lower_name(fields))
    else:  # a Scope: derived table, CTE or UNNEST
        expr = source.expression
        named = result_columns(expr)  # matched by name: not the first operand's columns
        if named is not None:
            cache[key] = _Columns({name.lower(): None for name in named})
            return cache[key]
        if isinstance(expr, exp.SetOperation):
            expr = expr.left
            while isinstance(expr, exp.SetOperation):
                expr = expr.left
        if isinstance(expr, exp.Select) and not any(
            isinstance(s, exp.Star) or (isinstance(s, exp.Column) and isinstance(s.this, exp.Star))
            for s in expr.expressions
        ):
            result = _Columns({_output_name(s).lower(): None for s in expr.expressions})
        elif isinstance(expr, exp.Unnest):
            result = _unnest_columns(expr, source, refs, schema, cache)
            if result is None and _scalar_array(expr):
                result = _offset_columns(expr, {})
    cache[key] = result
    return result


def _output_name(item: Any) -> str:
    """A select item's name; ``DISTINCT(col)`` (a parenthesized column) keeps ``col``."""
    from sqlglot import exp

    while isinstance(item, exp.Paren):
        item = item.this
    return item.alias_or_name


def _unnest_columns(unnest, scope, refs, schema, cache) -> _Columns | None:
    """Fields of the struct an ``UNNEST(record_array)`` yields, when we know them."""
    from sqlglot import exp

    args = unnest.expressions
    if len(args) != 1 or not isinstance(args[0], exp.Column) or args[0].args.get("db"):
        return None
    field = _resolve_field(args[0], scope, refs, schema, cache)
    if field is not None and not field.is_record:
        return _offset_columns(unnest, {})  # a value table: only its alias (and offset)
    if field is None or not field.is_record or not field.fields:
        return None
    if field.meta.get("fields_truncated") or field.meta.get("fields_incomplete"):
        return None
    columns: dict[str, Any] = {f.name.lower(): f for f in field.fields}
    offset = unnest.args.get("offset")
    if isinstance(offset, exp.Expression) and offset.name:
        columns[offset.name.lower()] = None  # UNNEST ... WITH OFFSET AS pos adds a column
    return _Columns(columns)


def _resolve_field(column, scope, refs, schema, cache) -> Field | None:
    low = column.name.lower()
    if column.table:
        source = _find_source(scope, column.table)
        sources = [source] if source is not None else []
    else:
        sources = []
        current = scope
        while current is not None:
            sources.extend(current.sources.values())
            current = current.parent
    for source in sources:
        cols = _source_columns(source, scope, refs, schema, cache)
        if cols is not None and cols.fields.get(low) is not None:
            return cols.fields[low]
    return None


def _scalar_array(unnest: Any) -> bool:
    """``UNNEST([1, 2])`` / ``UNNEST(['a'])``: a literal array whose elements have no fields."""
    from sqlglot import exp

    args = unnest.expressions
    if len(args) != 1 or not isinstance(args[0], exp.Array):
        return False
    return all(isinstance(e, exp.Literal | exp.Null | exp.Neg) for e in args[0].expressions)


def _offset_columns(unnest: Any, columns: dict[str, Any]) -> _Columns:
    from sqlglot import exp

    offset = unnest.args.get("offset")
    if isinstance(offset, exp.Expression) and offset.name:
        columns[offset.name.lower()] = None
    return _Columns(columns)


def _encloses(source: Any, column: Any) -> bool:
    """True if ``column`` lies inside the query that defines ``source``."""
    body = getattr(source, "expression", None)
    if body is None:
        return False
    node = column.parent
    while node is not None:
        if node is body:
            return True
        node = node.parent
    return False
