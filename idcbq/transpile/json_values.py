"""JSON where DuckDB silently differs from GoogleSQL (issue 18 §5).

Probes in ``tests/probes/json_values.yaml`` compare with GoogleSQL's reference
implementation. Untyped (``UNTYPED``):

- ``json_type_names``: ``JSON_TYPE`` is ``number``/``string``/``boolean``/``array``/
  ``object``/``null`` (DuckDB: ``UBIGINT``, ``VARCHAR``...).
- ``json_value_text``: ``JSON_VALUE`` of a string that is not JSON is NULL; of a
  non-integer number it is the number's text as written, which DuckDB does not keep
  (``1.50`` -> ``1.5``): an error when met, not a different answer.
- ``json_value_array_scalars``: ``JSON_VALUE_ARRAY`` of anything but an array of
  scalars (an object, a nested array or object inside) is NULL, as BigQuery; a
  non-integer number inside is an error (DuckDB does not keep its text).
- ``json_conversions``: ``BOOL(json)`` and ``FLOAT64(json)`` accept only a JSON boolean /
  number (an error otherwise), as BigQuery.

- ``json_literals``: a JSON literal's text is GoogleSQL's (keys sorted, numbers
  normalized; :mod:`idcbq.core.jsontext`), as is a JSON result column (``engines/conform``).

Typed (``TYPED``):

- ``pretty_print_option``: ``TO_JSON_STRING(x, NULL)`` is NULL (DuckDB wrote ``null``);
- ``to_json_string_values``: ``TO_JSON_STRING`` of an INT64 beyond ±2^53 is a JSON
  string; of BYTES base64; of TIMESTAMP ``"2020-01-02T03:04:05Z"``; of DATETIME
  ``"2020-01-02T03:04:05"``. Inside a STRUCT or ARRAY: BYTES, TIMESTAMP, DATETIME are
  refused (loud), and an integer of 16 or more digits in the text raises at run time.
  A NULL of any type is the text ``null``. Of a JSON value other than a literal it
  refuses (GoogleSQL sorts the keys).
- ``json_query_of_text``: ``JSON_QUERY``/``JSON_EXTRACT`` of a STRING selecting a JSON
  ``null`` is SQL NULL.
"""

from __future__ import annotations

from sqlglot import exp

from idcbq.core.jsontext import canonical_json
from idcbq.errors import TranspileError
from idcbq.transpile.json_number_text import json_query_number_text
from idcbq.transpile.json_numbers import parse_json_number_modes
from idcbq.transpile.json_paths import PATH_FUNCTIONS, json_path_modes
from idcbq.transpile.known import strict_types, unknown_type
from idcbq.transpile.numeric import duck_fragment, type_contains
from idcbq.transpile.rewrites import detach
from idcbq.transpile.rules import handles, run_rules
from idcbq.transpile.semantics import T, is_typed
from idcbq.transpile.semantics import error_call as _error

_NUMBER_TYPES = "('UBIGINT', 'BIGINT', 'DOUBLE', 'HUGEINT')"


@handles(exp.ParseJSON)
def json_literals(tree: exp.Expr) -> exp.Expr:
    """``JSON '...'`` and ``PARSE_JSON('...')`` of a literal: the text GoogleSQL keeps
    (keys sorted, the first of duplicates, numbers normalized); DuckDB keeps it as written.
    """
    for node in tree.find_all(exp.ParseJSON):
        text = node.this
        if not (isinstance(text, exp.Literal) and text.is_string):
            continue
        try:
            text.set("this", canonical_json(text.this))
        except ValueError:
            continue  # not JSON: the query's own error at run time
    return tree


@handles(exp.JSONType)
def json_type_names(tree: exp.Expr) -> exp.Expr:
    """``JSON_TYPE`` with GoogleSQL's names."""
    for node in list(tree.find_all(exp.JSONType)):
        kind = exp.Anonymous(this="json_type", expressions=[node.this.copy()])
        node.replace(
            duck_fragment(
                f"CASE WHEN _t IS NULL THEN NULL WHEN _t IN {_NUMBER_TYPES} THEN 'number' "
                "WHEN _t = 'VARCHAR' THEN 'string' ELSE lower(_t) END",
                _t=kind,
            )
        )
    return tree


@handles(exp.JSONExtractScalar)
def json_value_text(tree: exp.Expr) -> exp.Expr:
    """``JSON_VALUE``: NULL for text that is not JSON; an error for a non-integer number."""
    for node in list(tree.find_all(exp.JSONExtractScalar)):
        if node.meta.get("idcbq_json_value") or not node.args.get("scalar_only"):
            continue
        node.meta["idcbq_json_value"] = True
        path = node.expression
        if not isinstance(path, exp.JSONPath):
            continue
        text = exp.Literal.string(path.sql(dialect="duckdb").strip("'"))
        doc = node.this
        kind = exp.Anonymous(this="json_type", expressions=[doc.copy(), text])
        valid = exp.Anonymous(this="json_valid", expressions=[doc.copy()])
        hole = detach(node)
        hole.replace(
            exp.Case(
                ifs=[
                    exp.If(this=exp.Not(this=valid), true=exp.null()),
                    exp.If(
                        this=exp.EQ(this=kind, expression=exp.Literal.string("DOUBLE")),
                        true=_error(
                            "unsupported on DuckDB: JSON_VALUE of a non-integer JSON number "
                            "(BigQuery returns its text as written)"
                        ),
                    ),
                ],
                default=node,
            )
        )
    return tree


@handles(exp.JSONValueArray)
def json_value_array_scalars(tree: exp.Expr) -> exp.Expr:
    """``JSON_VALUE_ARRAY``: NULL unless the path selects an array of scalars (DuckDB
    returned nested values as text and raised on an object)."""
    for node in list(tree.find_all(exp.JSONValueArray)):
        if node.meta.get("idcbq_scalars"):
            continue
        node.meta["idcbq_scalars"] = True
        path = node.expression
        if not isinstance(path, exp.JSONPath):
            continue
        text = exp.Literal.string(path.sql(dialect="duckdb").strip("'"))
        # Every step NULL-safe: DuckDB may evaluate a CASE's conditions eagerly.
        doc = duck_fragment("CASE WHEN json_valid(_d) THEN _d END", _d=node.this)
        elements = duck_fragment(
            "CASE WHEN json_type(_v, _p) = 'ARRAY' THEN CAST(json_extract(_v, _p) AS JSON[]) END",
            _v=doc,
            _p=text,
        )
        for extract in list(elements.find_all(exp.JSONExtract)):
            extract.replace(  # a DuckDB call, not a user's path to vet
                exp.Anonymous(this="json_extract", expressions=[extract.this, extract.expression])
            )
        check = duck_fragment(
            "_e IS NOT NULL AND len(list_filter(_e, x -> json_type(x) IN ('OBJECT', 'ARRAY'))) = 0",
            _e=elements,
        )
        inexact = duck_fragment(
            "len(list_filter(_e, x -> json_type(x) = 'DOUBLE')) > 0", _e=elements
        )
        why = "unsupported on DuckDB: JSON_VALUE_ARRAY of a non-integer JSON number "
        why += "(BigQuery returns its text as written)"
        hole = detach(node)
        hole.replace(
            exp.Case(
                ifs=[
                    exp.If(this=exp.Not(this=exp.paren(check)), true=exp.null()),
                    exp.If(this=exp.and_(check.copy(), inexact), true=_error(why)),
                ],
                default=node,
            )
        )
    return tree


@handles(exp.JSONBool, exp.Float64, exp.Int64)
def json_conversions(tree: exp.Expr) -> exp.Expr:
    """``BOOL(json)`` / ``FLOAT64(json)`` / ``INT64(json)``: a JSON boolean / number /
    integral number, else an error (a JSON ``null`` too; SQL NULL gives NULL)."""
    for node in list(tree.find_all(exp.JSONBool, exp.Float64, exp.Int64)):
        value = node.this
        kind = exp.Anonymous(this="json_type", expressions=[value.copy()])
        converted = exp.cast(exp.cast(value.copy(), "JSON"), "DOUBLE")
        if isinstance(node, exp.JSONBool):
            ok = exp.EQ(this=kind, expression=exp.Literal.string("BOOLEAN"))
            target, name = "BOOLEAN", "BOOL"
        elif isinstance(node, exp.Int64):
            ok = duck_fragment(
                "_k IN ('BIGINT', 'UBIGINT') OR (_k = 'DOUBLE' AND _d = trunc(_d) "
                "AND _d >= -9223372036854775808 AND _d < 9223372036854775808)",
                _k=kind,
                _d=converted,
            )
            target, name = "BIGINT", "INT64"
        else:
            mode = node.expression.expression if node.expression is not None else None
            if mode is not None and not (mode.is_string and mode.this.lower() == "round"):
                raise TranspileError(
                    "unsupported on DuckDB: FLOAT64(json, wide_number_mode=>...) other than "
                    "'round' (DuckDB cannot tell which JSON numbers a DOUBLE holds exactly)"
                )
            ok = duck_fragment(f"_k IN {_NUMBER_TYPES}", _k=kind)
            target, name = "DOUBLE", "FLOAT64"
        converted = exp.cast(exp.cast(value.copy(), "JSON"), target)
        node.replace(
            exp.Case(
                ifs=[
                    exp.If(this=exp.Is(this=value.copy(), expression=exp.null()), true=exp.null()),
                    exp.If(this=ok, true=converted),
                ],
                default=_error(f"The provided JSON input is not a valid {name} for {name}()"),
            )
        )
    return tree


@handles(exp.String)
def string_of_json(tree: exp.Expr) -> exp.Expr:
    """``STRING(json)``: the text of a JSON string, else an error (DuckDB: the JSON text,
    quotes and all). ``STRING`` of a value whose type is unknown is refused."""
    for node in list(tree.find_all(exp.String)):
        kind = node.this.type
        if kind is None or kind.is_type(T.UNKNOWN):
            raise TranspileError(
                "unsupported on DuckDB: STRING() of a value whose type is not known "
                "(a JSON string and a TIMESTAMP convert differently)"
            )
        if not kind.is_type(T.JSON):
            continue
        value = node.this
        kind_of = exp.Anonymous(this="json_type", expressions=[value.copy()])
        text = duck_fragment("_j ->> '$'", _j=exp.cast(value.copy(), "JSON"))
        node.replace(
            exp.Case(
                ifs=[
                    exp.If(this=exp.Is(this=value.copy(), expression=exp.null()), true=exp.null()),
                    exp.If(
                        this=exp.EQ(this=kind_of, expression=exp.Literal.string("VARCHAR")),
                        true=text,
                    ),
                ],
                default=_error("The provided JSON input is not a string"),
            )
        )
    return tree


_FRACTION = (
    "CASE WHEN microsecond(_w) % 1000000 = 0 THEN '' "
    "WHEN microsecond(_w) % 1000 = 0 THEN printf('.%03d', (microsecond(_w) % 1000000) // 1000) "
    "ELSE printf('.%06d', microsecond(_w) % 1000000) END"
)
_BIG_INT = r"[:\[,]-?[0-9]{16,}[,\]}]"


def _quoted(text: exp.Expr) -> exp.Expr:
    return exp.DPipe(
        this=exp.DPipe(this=exp.Literal.string('"'), expression=text),
        expression=exp.Literal.string('"'),
    )


@handles(exp.JSONFormat)
def to_json_string_values(tree: exp.Expr) -> exp.Expr:
    """``TO_JSON_STRING`` of big INT64, BYTES, TIMESTAMP and DATETIME as BigQuery writes them."""
    wall = (T.TIMESTAMPTZ, T.TIMESTAMPLTZ, T.DATETIME, T.TIMESTAMP)
    for node in list(tree.find_all(exp.JSONFormat)):
        value = node.this
        if value is None:  # TO_JSON_STRING(): DuckDB refuses the call (loud)
            continue
        kind = value.type
        if node.meta.get("idcbq_json_null"):
            continue
        node.meta["idcbq_json_null"] = True
        unknown = kind is None or kind.is_type(T.UNKNOWN)
        if unknown and strict_types(node) and not isinstance(value, exp.Null):
            raise unknown_type(value)  # a FLOAT64 or a big INT64 would pass unseen
        if kind is None or node.expressions or node.args.get("options"):
            _null_is_text(node)
            continue
        if kind.is_type(T.JSON):
            literal = isinstance(value, exp.ParseJSON) and value.this.is_string
            if not literal:  # json_literals makes a literal's text GoogleSQL's
                raise TranspileError(
                    "unsupported on DuckDB: TO_JSON_STRING of a JSON value that is not a "
                    "literal (GoogleSQL writes its keys sorted and its numbers normalized; "
                    "DuckDB keeps the text as written)",
                    hint="select the JSON value itself (idcbq writes it as GoogleSQL does), "
                    "or use --engine bigquery",
                )
            try:  # GoogleSQL's text of the literal: DuckDB would write its numbers
                text = canonical_json(value.this.this)  # again (1e+16 -> 1e16)
            except ValueError:
                _null_is_text(node)  # not JSON: the analyzer refuses it
                continue
            node.replace(exp.Literal.string(text))
            continue
        if kind.is_type(*exp.DataType.INTEGER_TYPES):
            text = duck_fragment(
                "CASE WHEN _x BETWEEN -9007199254740992 AND 9007199254740992 "
                "THEN CAST(_x AS VARCHAR) ELSE '\"' || CAST(_x AS VARCHAR) || '\"' END",
                _x=value,
            )
        elif kind.is_type(T.VARBINARY, T.BINARY, T.BLOB):
            text = _quoted(exp.Anonymous(this="to_base64", expressions=[value.copy()]))
        elif kind.is_type(*wall):
            zoned = kind.is_type(T.TIMESTAMPTZ, T.TIMESTAMPLTZ)
            stamp = exp.cast(value.copy(), "TIMESTAMP")
            body = duck_fragment(
                f"strftime(_w, '%Y-%m-%dT%H:%M:%S') || {_FRACTION}" + (" || 'Z'" if zoned else ""),
                _w=stamp,
            )
            for div in body.find_all(exp.IntDiv, exp.Mod):
                div.meta["idcbq_div"] = True
            text = _quoted(body)
        elif kind.is_type(*exp.DataType.NESTED_TYPES):
            if _unnamed_field(kind):
                raise TranspileError(
                    "unsupported on DuckDB: TO_JSON_STRING of a STRUCT with an unnamed field "
                    '(GoogleSQL writes its key as "", DuckDB names it)',
                    hint="name every field (STRUCT(1 AS a)), or use --engine bigquery",
                )
            if type_contains(kind, T.VARBINARY, T.BINARY, T.BLOB, *wall):
                raise TranspileError(
                    "unsupported on DuckDB: TO_JSON_STRING of a STRUCT or ARRAY holding "
                    "BYTES, TIMESTAMP or DATETIME values (DuckDB writes them differently)",
                    hint="convert those fields to STRING first, or use --engine bigquery",
                )
            _null_is_text(node)  # first: the check below reads the text, NULL or not
            if type_contains(kind, *exp.DataType.INTEGER_TYPES):
                big = exp.RegexpLike(this=node.copy(), expression=exp.Literal.string(_BIG_INT))
                hole = detach(node)
                hole.replace(
                    exp.Case(
                        ifs=[
                            exp.If(
                                this=big,
                                true=_error(
                                    "unsupported on DuckDB: TO_JSON_STRING of an INT64 of 16 "
                                    "or more digits inside a STRUCT or ARRAY"
                                ),
                            )
                        ],
                        default=node,
                    )
                )
            continue
        else:
            _null_is_text(node)
            continue
        null = exp.Literal.string("null")
        node.replace(exp.Coalesce(this=text, expressions=[null]))
    return tree


def _unnamed_field(kind: exp.DataType) -> bool:
    """True if ``kind`` holds a STRUCT with a field that has no name."""
    return any(
        isinstance(part, exp.DataType)
        and part.is_type(T.STRUCT)
        and any(not isinstance(f, exp.ColumnDef) for f in part.expressions)
        for part in kind.walk()
    )


def _null_is_text(node: exp.Expr) -> None:
    """``TO_JSON_STRING`` of a NULL (of any type) is the text ``null``, never NULL."""
    hole = detach(node)
    hole.replace(exp.Coalesce(this=node, expressions=[exp.Literal.string("null")]))


@handles(exp.JSONExtract)
def json_query_of_text(tree: exp.Expr) -> exp.Expr:
    """``JSON_QUERY``/``JSON_EXTRACT`` of a STRING: a JSON ``null`` selected is SQL NULL
    (of a JSON value it stays JSON ``null``); DuckDB returned the text ``null``."""
    for node in list(tree.find_all(exp.JSONExtract)):
        if node.meta.get("idcbq_query_null"):
            continue
        node.meta["idcbq_query_null"] = True
        doc = node.this
        literal = isinstance(doc, exp.Literal) and doc.is_string
        if not (literal or is_typed(doc, *exp.DataType.TEXT_TYPES)):
            continue
        hole = detach(node)
        kind = exp.Anonymous(this="json_type", expressions=[node.copy()])
        hole.replace(
            exp.Case(
                ifs=[
                    exp.If(
                        this=exp.EQ(this=kind, expression=exp.Literal.string("NULL")),
                        true=exp.null(),
                    )
                ],
                default=node,
            )
        )
    return tree


@handles(*PATH_FUNCTIONS)
def json_text_validity(tree: exp.Expr) -> exp.Expr:
    """A JSONPath function of STRING text that is not JSON gives NULL in GoogleSQL (row by
    row); DuckDB raised for the whole query. Only a document known to be STRING is
    wrapped (a JSON value was parsed already)."""
    for node in list(tree.find_all(*PATH_FUNCTIONS)):
        doc = node.this
        if node.meta.get("idcbq_json_valid") or doc is None:
            continue
        node.meta["idcbq_json_valid"] = True
        kind = doc.type
        if kind is None or not kind.is_type(*exp.DataType.TEXT_TYPES):
            continue
        valid = exp.Anonymous(this="json_valid", expressions=[doc.copy()])
        checked = exp.Case(ifs=[exp.If(this=valid, true=doc.copy())])
        checked.type = kind
        doc.replace(checked)
        if isinstance(node, exp.JSONExtractArray):  # of text: ARRAY<STRING> of JSON texts
            # a JSON null element is the text null (DuckDB's JSON[] cast made it SQL NULL)
            texts = duck_fragment(
                "list_transform(_a, e -> coalesce(CAST(e AS VARCHAR), 'null'))", _a=node.copy()
            )
            texts.type = exp.DataType.build("ARRAY<STRING>", dialect="bigquery")
            node.replace(texts)
    return tree


@handles(exp.JSONFormat)
def pretty_print_option(tree: exp.Expr) -> exp.Expr:
    """``TO_JSON_STRING(x, pretty_print)``: FALSE is the default; NULL gives NULL; TRUE
    (indented output) is refused (DuckDB's ``to_json`` takes one argument)."""
    for node in list(tree.find_all(exp.JSONFormat)):
        option = node.args.get("options")
        if option is None:
            continue
        node.set("options", None)
        if isinstance(option, exp.Boolean) and not option.this:
            continue
        if isinstance(option, exp.Boolean):
            raise TranspileError(
                "unsupported on DuckDB: TO_JSON_STRING with pretty_print TRUE (indented JSON text)",
                hint="drop the second argument, or use --engine bigquery",
            )
        pretty = exp.If(
            this=option.copy(),
            true=_error("unsupported on DuckDB: TO_JSON_STRING with pretty_print TRUE"),
        )
        unknown = exp.If(this=exp.Is(this=option, expression=exp.null()), true=exp.null())
        hole = detach(node)
        hole.replace(exp.Case(ifs=[unknown, pretty], default=node))
    return tree


UNTYPED = (
    parse_json_number_modes,  # before json_literals rewrites the text
    json_literals,
    json_path_modes,
    json_type_names,
    json_value_text,
    json_value_array_scalars,
    json_conversions,
)
TYPED = (
    to_json_string_values,
    string_of_json,
    json_query_number_text,  # before the two below rewrap the call
    json_text_validity,
    json_query_of_text,
)


def needs_types(tree: exp.Expr) -> bool:
    """True if ``TO_JSON_STRING``, ``STRING()`` or a JSONPath function appears."""
    return any(True for _ in tree.find_all(exp.JSONFormat, exp.String, *PATH_FUNCTIONS))


def apply_untyped(tree: exp.Expr) -> exp.Expr:
    """Run every untyped rewrite of this module."""
    return run_rules(tree, UNTYPED)
