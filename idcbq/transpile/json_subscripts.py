"""``json[i]`` and ``json['key']``: GoogleSQL's JSON subscripts on DuckDB (a typed rule).

GoogleSQL: an INT64 subscript is the element of a JSON array at that 0-based position
(NULL for a negative or too large one, or a value that is not an array); a STRING
subscript is the member of a JSON object with exactly that name (NULL if there is none,
or the value is not an object); a NULL value or subscript gives NULL, a JSON ``null``
element the JSON ``null``. The array rewrite (:mod:`idcbq.transpile.rewrites`) read them
as ARRAY subscripts, which DuckDB refused for a JSON value.

DuckDB's ``json_extract`` with a JSON Pointer (``/0``, ``/key`` with ``~`` written ``~0``
and ``/`` written ``~1``) names one element or member exactly, whatever characters a
key holds; ``json_type`` keeps an object's key ``'0'`` from indexing an array.

Example:
    >>> from idcbq.transpile import to_duckdb
    >>> sql = to_duckdb("SELECT (JSON '[1]')[0] AS a")
    >>> "JSON_TYPE((JSON('[1]'))) <> 'ARRAY'" in sql, "-> ('/' || CAST(0 AS TEXT))" in sql
    (True, True)
"""

from __future__ import annotations

from sqlglot import exp

from idcbq.transpile.nan_unknown import duck_fragment
from idcbq.transpile.rules import handles
from idcbq.transpile.semantics import T, is_typed

_BY_POSITION = "json_extract(_j, '/' || CAST(_i AS VARCHAR))"
_BY_NAME = "json_extract(_j, '/' || replace(replace(_k, '~', '~0'), '/', '~1'))"


def _when_kind(value: exp.Expr, kind: str, bad: exp.Expr | None, found: exp.Expr) -> exp.Expr:
    """``found`` where ``value`` is a JSON ``kind`` (and not ``bad``), else NULL.

    DuckDB's ``json_type`` is called by name: the JSON rules would read an ``exp.JSONType``
    as GoogleSQL's ``JSON_TYPE`` (lower-case names).
    """
    other = exp.NEQ(
        this=exp.Anonymous(this="json_type", expressions=[value.copy()]),
        expression=exp.Literal.string(kind),
    )
    test = other if bad is None else exp.or_(bad, other)
    return exp.Case(ifs=[exp.If(this=test, true=exp.null())], default=found)


@handles(exp.Bracket)
def json_subscripts(tree: exp.Expr) -> exp.Expr:
    """Rewrite each subscript of a JSON value (innermost first; see the module doc)."""
    brackets = [b for b in tree.find_all(exp.Bracket) if _is_json(b.this)]
    for node in reversed(brackets):  # find_all is outermost first: inner ones first here
        if len(node.expressions) != 1:
            continue
        key = node.expressions[0]
        value = node.this
        if is_typed(key, *exp.DataType.INTEGER_TYPES):
            negative = exp.LT(this=key.copy(), expression=exp.Literal.number(0))
            found = duck_fragment(_BY_POSITION, _j=value, _i=key)
            fragment = _when_kind(value, "ARRAY", negative, found)
        elif is_typed(key, T.VARCHAR, T.TEXT) or (isinstance(key, exp.Literal) and key.is_string):
            found = duck_fragment(_BY_NAME, _j=value, _k=key)
            fragment = _when_kind(value, "OBJECT", None, found)
        elif isinstance(key, exp.Null):
            fragment = exp.cast(exp.null(), "JSON")
        else:
            continue  # OFFSET(i) and the like are not JSON subscripts: left to refuse
        fragment.type = exp.DataType.build("JSON")
        node.replace(fragment)
    return tree


def _is_json(node: exp.Expr) -> bool:
    """``node`` is a JSON value: typed JSON, or a subscript of one."""
    while isinstance(node, exp.Bracket | exp.Paren):
        node = node.this
    return node.type is not None and node.type.is_type(T.JSON)


def needs_types(tree: exp.Expr) -> bool:
    """True if a subscript may be a JSON value's (a JSON literal or function is there)."""
    if not any(True for _ in tree.find_all(exp.Bracket)):
        return False
    return any(
        True
        for _ in tree.find_all(exp.ParseJSON, exp.JSONExtract, exp.JSONBExtract, exp.JSONObject)
    ) or any(n.is_type(T.JSON) for n in tree.find_all(exp.DataType))


TYPED = (json_subscripts,)
