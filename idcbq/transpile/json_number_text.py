"""The text of a JSON number that ``JSON_QUERY`` of a STRING returns (blind30 probes).

GoogleSQL's ``JSON_QUERY``/``JSON_EXTRACT``/``JSON_QUERY_ARRAY``/``JSON_EXTRACT_ARRAY``
of STRING text return each number as written in the text (``1.50``, ``2e3``, ``3.0e16``);
DuckDB's ``json_extract`` writes the number it read (``1.5``, ``2000.0``,
``30000000000000000.0``): a silently different STRING. An integer keeps its digits in
both. DuckDB cannot give back the text as written, so a result holding a number DuckDB
wrote with a ``.`` or an exponent raises at run time (fail closed), as ``JSON_VALUE``
does (:func:`idcbq.transpile.json_values.json_value_text`). A JSON value's result is
written by idcbq as GoogleSQL does (``engines/conform``): not guarded.
"""

from __future__ import annotations

from sqlglot import exp

from idcbq.transpile.numeric import duck_fragment
from idcbq.transpile.rewrites import detach, error_call
from idcbq.transpile.rules import handles
from idcbq.transpile.semantics import is_typed

_DONE = "idcbq_json_number_text"
# A JSON string (skipped whole) or the start of a non-integer number, in DuckDB's text.
_TOKENS = r'"(?:[^"\\]|\\.)*"|-?[0-9]+[.eE]'
_MESSAGE = (
    "unsupported on DuckDB: JSON_QUERY/JSON_EXTRACT of STRING text selecting a "
    "non-integer JSON number (BigQuery returns its text as written, DuckDB rewrites it)"
)


def _of_text(doc: exp.Expr) -> bool:
    literal = isinstance(doc, exp.Literal) and doc.is_string
    return literal or is_typed(doc, *exp.DataType.TEXT_TYPES)


@handles(exp.JSONExtract, exp.JSONExtractArray)
def json_query_number_text(tree: exp.Expr) -> exp.Expr:
    """``JSON_QUERY``-family calls of STRING text: an error where DuckDB would rewrite a
    number's text (run before the other JSON rules rewrap the call)."""
    for node in list(tree.find_all(exp.JSONExtract, exp.JSONExtractArray)):
        if node.meta.get(_DONE) or node.meta.get("idcbq_json_valid"):
            continue
        node.meta[_DONE] = True
        doc, path = node.this, node.expression
        if doc is None or not isinstance(path, exp.JSONPath) or not _of_text(doc):
            continue
        selected = exp.JSONExtract(this=doc.copy(), expression=path.copy())
        selected.meta[_DONE] = True
        selected.meta["idcbq_query_null"] = True  # its JSON null reads as text: no match
        check = duck_fragment(
            "len(list_filter(regexp_extract_all(CAST(_s AS VARCHAR), _p),"
            " t -> NOT starts_with(t, '\"'))) > 0",
            _s=selected,
            _p=exp.Literal.string(_TOKENS),
        )
        hole = detach(node)
        hole.replace(exp.Case(ifs=[exp.If(this=check, true=error_call(_MESSAGE))], default=node))
    return tree
