"""Typed rewrites for STRUCT comparisons, where DuckDB silently differs from GoogleSQL.

GoogleSQL compares two STRUCTs field by field in order, whatever the fields are named,
with SQL's three-valued logic (``(1, NULL) = (1, NULL)`` is NULL, ``(1, NULL) = (2,
NULL)`` FALSE). DuckDB pairs the fields by name and compares NULL fields as values. So:

- ``struct_comparisons``: ``=``, ``!=``, ``IS [NOT] DISTINCT FROM`` of STRUCTs become the
  comparisons of their fields by position (nested STRUCTs likewise, FLOAT64 fields then
  get the NaN rules of :mod:`idcbq.transpile.numeric`); ``s IN (a, b)`` becomes
  ``s = a OR s = b``. A STRUCT ``IN UNNEST(...)``/``IN (SELECT ...)``, or a STRUCT whose
  fields are not known, is refused.
- ``array_struct_names`` (untyped): an array literal of STRUCT literals takes the first
  element's field names (GoogleSQL's element type); DuckDB would pair fields by name and
  add the others' as NULL fields.
- ``struct_supertypes`` (typed): where one type must hold STRUCTs of differently named
  fields otherwise (an array with a STRUCT column, IF/CASE/COALESCE branches, the columns
  of a set operation), the query is refused.

Compared with GoogleSQL's reference implementation by ``tests/probes/nested.yaml`` and
Google's compliance cases (``in_queries.test``, ``comparison_functions.test``).
"""

from __future__ import annotations

from sqlglot import exp

from idcbq.errors import TranspileError
from idcbq.transpile.rewrites import detach
from idcbq.transpile.rules import handles
from idcbq.transpile.semantics import T

_PAIRS = (exp.EQ, exp.NEQ, exp.NullSafeEQ, exp.NullSafeNEQ)
_SUPERTYPED = (
    exp.Array,
    exp.If,
    exp.Case,
    exp.Coalesce,
    exp.SetOperation,
    exp.ArrayConcat,
    exp.DPipe,
)


def _literal(node: exp.Expr) -> bool:
    return isinstance(node, exp.Struct | exp.Tuple)


def _typed_struct(node: exp.Expr) -> bool:
    kind = node.type
    return kind is not None and kind.is_type(T.STRUCT)


def _is_struct(node: exp.Expr) -> bool:
    return _literal(node) or _typed_struct(node)


def _value(node: exp.Expr) -> exp.Expr:
    if isinstance(node, exp.PropertyEQ):
        return node.expression
    return node.this if isinstance(node, exp.Alias) else node


def _fields(node: exp.Expr) -> list[exp.Expr] | None:
    """The STRUCT's fields in order as expressions (typed where known), or None."""
    if _literal(node):
        return [_value(e) for e in node.expressions]
    kind = node.type
    if kind is None or not kind.is_type(T.STRUCT) or not kind.expressions:
        return None
    out = []
    for i, sub in enumerate(kind.expressions, start=1):
        field_type = sub if isinstance(sub, exp.DataType) else getattr(sub, "kind", None)
        if field_type is None:
            return None
        access = exp.Anonymous(
            this="struct_extract_at", expressions=[node.copy(), exp.Literal.number(i)]
        )
        access.type = field_type
        out.append(access)
    return out


def _refuse(what: str) -> TranspileError:
    return TranspileError(
        f"unsupported on DuckDB: {what} (GoogleSQL compares STRUCT fields by position, "
        "DuckDB by name)"
    )


def _compare(kind: type, left: exp.Expr, right: exp.Expr) -> exp.Expr:
    """``left <kind> right`` of two STRUCTs as the comparison of their fields."""
    lf, rf = _fields(left), _fields(right)
    if lf is None or rf is None or len(lf) != len(rf):
        raise _refuse("a comparison of STRUCTs whose fields are not known")
    null_safe = kind in (exp.NullSafeEQ, exp.NullSafeNEQ)
    field_kind = exp.NullSafeEQ if null_safe else exp.EQ
    pairs = []
    for a, b in zip(lf, rf, strict=True):
        pair = field_kind(this=a.copy(), expression=b.copy())
        pair.this.type, pair.expression.type = a.type, b.type
        pairs.append(pair)
    same: exp.Expr = exp.paren(exp.and_(*pairs)) if pairs else exp.true()
    whole = [side for side in (left, right) if not _literal(side)]
    if whole:
        nulls = [exp.Is(this=side.copy(), expression=exp.null()) for side in whole]
        if null_safe:
            both = exp.and_(*nulls) if len(nulls) == 2 else exp.false()
            same = exp.Case(
                ifs=[
                    exp.If(this=both, true=exp.true()),
                    exp.If(this=exp.or_(*nulls), true=exp.false()),
                ],
                default=same,
            )
        else:
            same = exp.Case(ifs=[exp.If(this=exp.or_(*nulls), true=exp.null())], default=same)
    negate = kind in (exp.NEQ, exp.NullSafeNEQ)
    return exp.paren(exp.Not(this=exp.paren(same))) if negate else exp.paren(same)


def _searched(node: exp.Expr) -> None:
    """``CASE s WHEN a ...`` / ``NULLIF(s, a)`` of a STRUCT as ``s = a`` comparisons."""
    subject = node.this
    if subject is None or not _is_struct(subject):
        return
    if isinstance(node, exp.Nullif):
        test = exp.EQ(this=subject.copy(), expression=node.expression.copy())
        test.this.type, test.expression.type = subject.type, node.expression.type
        node.replace(exp.Case(ifs=[exp.If(this=test, true=exp.null())], default=subject.copy()))
        return
    for branch in node.args.get("ifs") or []:
        test = exp.EQ(this=subject.copy(), expression=branch.this.copy())
        test.this.type, test.expression.type = subject.type, branch.this.type
        branch.set("this", test)
    node.set("this", None)


@handles(exp.Case, exp.Nullif, exp.In, exp.EQ, exp.NEQ, exp.NullSafeEQ, exp.NullSafeNEQ)
def struct_comparisons(tree: exp.Expr) -> exp.Expr:
    """STRUCT ``=``/``!=``/``IS [NOT] DISTINCT FROM``/``IN (...)`` field by field, in order."""
    for node in list(tree.find_all(exp.Case, exp.Nullif)):
        _searched(node)
    changed = True
    while changed:  # the fields of nested STRUCTs are compared on the next pass
        changed = False
        for node in list(tree.find_all(exp.In)):
            if isinstance(node.parent, exp.Pivot):
                continue  # PIVOT/UNPIVOT's FOR x IN (...): no comparison
            if not any(_is_struct(e) for e in (node.this, *node.expressions)):
                continue
            if node.args.get("query") or node.args.get("unnest") or node.args.get("field"):
                raise _refuse("a STRUCT IN UNNEST(...) or IN (SELECT ...)")
            tests = [_compare(exp.EQ, node.this, item) for item in node.expressions]
            result = exp.paren(exp.or_(*tests)) if tests else exp.false()
            detach(node).replace(exp.Not(this=result) if node.args.get("is_not") else result)
            changed = True
        for node in list(tree.find_all(*_PAIRS)):
            if not (_is_struct(node.this) or _is_struct(node.expression)):
                continue
            if isinstance(node.this, exp.Null) or isinstance(node.expression, exp.Null):
                continue  # DuckDB agrees: NULL, or (IS DISTINCT FROM) whether it is NULL
            detach(node).replace(_compare(type(node), node.this, node.expression))
            changed = True
    return tree


def needs_types(tree: exp.Expr, schema=None, params=None) -> bool:
    """True if a comparison or ``IN`` appears where a STRUCT can: a STRUCT or tuple
    literal, or a STRUCT column or parameter the query names."""
    from idcbq.transpile.known import may_hold

    compared = any(True for _ in tree.find_all(*_PAIRS, exp.In))
    literals = any(True for _ in tree.find_all(exp.Struct, exp.Tuple))
    if literals and (compared or _struct_beside_other(tree)):
        return True
    if not (compared or any(True for _ in tree.find_all(*_SUPERTYPED))):
        return False
    return may_hold(tree, schema or {}, params or {}, ("STRUCT",))


def _struct_beside_other(tree: exp.Expr) -> bool:
    """A STRUCT literal may share a type with a value of unknown field names: beside a
    value that is not a literal, or in a set operation or array concatenation. (STRUCT
    literals alone are named alike untyped, by :func:`array_struct_names`.)"""
    for node in tree.find_all(*_SUPERTYPED):
        if isinstance(node, exp.SetOperation | exp.ArrayConcat | exp.DPipe):
            return True
        for group in _groups(node, literal_arrays=True):
            values = [v for v in group if v is not None]
            if any(_literal(v) for v in values) and not all(
                _literal(v) or isinstance(v, exp.Literal | exp.Null) for v in values
            ):
                return True
    return False


def _field_names(node: exp.Struct | exp.Tuple) -> list[str | None]:
    return [
        field.name if isinstance(field, exp.PropertyEQ | exp.Alias) else None
        for field in node.expressions
    ]


def _field_value(field: exp.Expr) -> exp.Expr:
    return field.expression if isinstance(field, exp.PropertyEQ) else _alias_value(field)


def _alias_value(field: exp.Expr) -> exp.Expr:
    return field.this if isinstance(field, exp.Alias) else field


def _rename_like(first: exp.Struct | exp.Tuple, other: exp.Struct | exp.Tuple) -> exp.Expr:
    names = _field_names(first)
    if len(names) != len(other.expressions) or names == _field_names(other):
        return other  # refused by GoogleSQL's analyzer, or named alike already
    fields = []
    for name, field in zip(names, list(other.expressions), strict=True):
        value = _field_value(field)
        if name is None:
            fields.append(value)
        else:
            fields.append(exp.PropertyEQ(this=exp.to_identifier(name), expression=value))
    renamed = exp.Struct(expressions=fields)
    other.replace(renamed)
    return renamed


def _align(elements: list[exp.Expr]) -> None:
    literals = [e for e in elements if isinstance(e, exp.Struct | exp.Tuple)]
    if len(literals) < 2:
        return
    first = literals[0]
    leading = next(e for e in elements if not isinstance(e, exp.Null))
    if first is not leading and _field_names(first) != _field_names(leading):
        raise _refuse("STRUCTs of other field names after one that is not a STRUCT literal")
    literals[1:] = [_rename_like(first, other) for other in literals[1:]]
    for position in range(len(first.expressions)):
        inner = [_field_value(lit.expressions[position]) for lit in literals]
        if len(inner) == len(literals):
            _align(inner)


@handles(exp.Struct, exp.Tuple)  # it renames STRUCT/tuple literals only: none, nothing to do
def array_struct_names(tree: exp.Expr) -> exp.Expr:
    """An array literal of STRUCTs takes its element type, field names included, from its
    first element (GoogleSQL: ``[STRUCT(1 AS a), STRUCT(2)]`` is ``ARRAY<STRUCT<a INT64>>``);
    DuckDB pairs fields by name and would add fields, leaving NULLs. Name every STRUCT
    literal's fields as the first one's, nested STRUCT literals likewise; so for the
    branches of IF, CASE and COALESCE.

    Example:
        >>> import sqlglot
        >>> q = sqlglot.parse_one("SELECT [STRUCT(1 AS a), STRUCT(2)]", read="bigquery")
        >>> array_struct_names(q).sql("duckdb")
        "SELECT [{'a': 1}, {'a': 2}]"
    """
    for node in list(tree.find_all(exp.Array, exp.If, exp.Case, exp.Coalesce)):
        if isinstance(node, exp.If):
            _align([node.args.get("true"), node.args.get("false") or exp.null()])
        elif isinstance(node, exp.Case):
            ifs = node.args.get("ifs") or []
            _align([*(i.args.get("true") for i in ifs), node.args.get("default") or exp.null()])
        else:
            _align(
                [node.this, *node.expressions]
                if isinstance(node, exp.Coalesce)
                else list(node.expressions)
            )
    return tree


def _names_signature(kind: exp.DataType | None):
    """The field names of a STRUCT type, nested STRUCTs and ARRAYs of them included, or
    None for a type holding no STRUCT (or an unknown one)."""
    if kind is None:
        return None
    if kind.is_type(T.ARRAY):
        inner = kind.expressions[0] if kind.expressions else None
        return None if inner is None else _names_signature(inner)
    if not kind.is_type(T.STRUCT):
        return None
    fields = []
    for sub in kind.expressions:
        if isinstance(sub, exp.ColumnDef):
            fields.append((sub.name.lower(), _names_signature(sub.args.get("kind"))))
        else:
            fields.append(("", _names_signature(sub if isinstance(sub, exp.DataType) else None)))
    return tuple(fields)


def _groups(node: exp.Expr, literal_arrays: bool = False) -> list[list[exp.Expr]]:
    """The values that one type must hold, per result type ``node`` gives them."""
    if isinstance(node, exp.SetOperation):
        left, right = node.left, node.right
        if not (isinstance(left, exp.Select) and isinstance(right, exp.Select)):
            return []
        return [list(pair) for pair in zip(left.selects, right.selects, strict=False)]
    if isinstance(node, exp.If):
        return [[node.args.get("true"), node.args.get("false")]]
    if isinstance(node, exp.Case):
        ifs = node.args.get("ifs") or []
        return [[*(i.args.get("true") for i in ifs), node.args.get("default")]]
    if isinstance(node, exp.Coalesce):
        return [[node.this, *node.expressions]]
    if isinstance(node, exp.ArrayConcat | exp.DPipe):  # arrays of one element type
        return [
            [node.this, *node.expressions]
            if isinstance(node, exp.ArrayConcat)
            else [node.this, node.expression]
        ]
    values = list(node.expressions)
    if not literal_arrays and all(
        _literal(v) for v in values if _literal(v) or _names_signature(v.type)
    ):
        return []  # STRUCT literals only: array_struct_names names them alike
    return [values]


@handles(*_SUPERTYPED)
def struct_supertypes(tree: exp.Expr) -> exp.Expr:
    """Refuse STRUCT values of differently named fields where one type must hold them:
    GoogleSQL's supertype takes the first one's names and keeps the fields by position,
    DuckDB pairs fields by name (``[s, STRUCT(2, 'y')][OFFSET(1)].b`` is NULL there). An
    array literal whose STRUCTs are all literals is renamed instead (:func:`array_struct_names`).
    """
    for node in tree.find_all(*_SUPERTYPED):
        for group in _groups(node):
            signatures = {_names_signature(v.type) for v in group if v is not None} - {None}
            if len(signatures) > 1:
                raise TranspileError(
                    "unsupported on DuckDB: STRUCT values with differently named fields in one "
                    "type (GoogleSQL keeps the first one's names and pairs fields by position, "
                    "DuckDB pairs them by name)"
                )
    return tree


TYPED = (struct_comparisons, struct_supertypes)


def _positional(value: exp.Expr) -> bool:
    """Whether DuckDB casts ``value`` to a STRUCT type by position: NULL, a literal, or
    tuples, unnamed STRUCTs and arrays of them. A value with field names (a column, a
    named STRUCT) is cast by name, so renamed fields would take other values."""
    if isinstance(value, exp.Null | exp.Literal | exp.Boolean):
        return True
    if isinstance(value, exp.Tuple | exp.Struct | exp.Array):
        fields = value.expressions
        named = any(isinstance(f, exp.PropertyEQ | exp.Alias | exp.Slice) for f in fields)
        return not (named and not isinstance(value, exp.Array)) and all(
            _positional(f) for f in fields
        )
    if isinstance(value, exp.Paren):
        return _positional(value.this)
    return False


def _name_anonymous(kind: exp.DataType) -> None:
    """Name each unnamed field of the STRUCT types in ``kind`` ``_<position>`` from 0."""
    for node in reversed(list(kind.find_all(exp.DataType))):  # inner first: copied below
        if not node.is_type(T.STRUCT):
            continue
        fields = [
            f
            if isinstance(f, exp.ColumnDef)
            else exp.ColumnDef(this=exp.to_identifier(f"_{i}", quoted=True), kind=f.copy())
            for i, f in enumerate(node.expressions)
        ]
        node.set("expressions", fields)


@handles(exp.Cast)
def anonymous_struct_fields(tree: exp.Expr) -> exp.Expr:
    """``ARRAY<STRUCT<INT64, INT64>>[(1, 2)]``, ``CAST(NULL AS STRUCT<INT64>)``: DuckDB's
    STRUCT type names every field (an unnamed one was a syntax error). Each is named
    ``_<position>`` from 0, as DuckDB names an unnamed struct value's fields (the results
    read them back as GoogleSQL's anonymous fields), where the value cast is positional;
    any other value stays as it was (loud)."""
    for cast in list(tree.find_all(exp.Cast)):
        unnamed = any(
            node.is_type(T.STRUCT)
            and not all(isinstance(f, exp.ColumnDef) for f in node.expressions)
            for node in cast.to.find_all(exp.DataType)
        )
        if unnamed and _positional(cast.this):
            _name_anonymous(cast.to)
    return tree
