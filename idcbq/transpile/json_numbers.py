"""``PARSE_JSON``'s ``wide_number_mode``: the numbers GoogleSQL refuses (blind30 probes).

GoogleSQL keeps a JSON number as INT64, UINT64 or FLOAT64. With ``'exact'`` (the
default) ``PARSE_JSON`` raises for a number its FLOAT64 does not give back
(``9007199254740993.0``, an integer beyond UINT64); either mode raises for one beyond
FLOAT64 (``1e400``); any other mode name raises. DuckDB parsed all of them (rounding),
and the mode argument was dropped, so a query BigQuery rejects was answered.

- A literal text is checked here (:func:`idcbq.core.jsontext.number_problem`): its
  refusal becomes a run-time error (NULL under ``SAFE.``).
- Any other text gets a run-time guard that fails closed: it raises for a number with
  16 or more significant digits (any of 15 or fewer reads back), an integer of 20 or
  more digits, or an exponent of 290 or more (outside JSON strings). A number GoogleSQL
  still accepts among those (``0.30000000000000004``) is a loud error, never an answer;
  with ``'round'`` too (DuckDB's text of a rounded number is not GoogleSQL's).
- ``JSON '...'`` literals round (the analyzer refuses an overflow): not touched.
"""

from __future__ import annotations

from sqlglot import exp

from idcbq.core.jsontext import number_problem
from idcbq.errors import TranspileError
from idcbq.transpile.numeric import duck_fragment
from idcbq.transpile.rewrites import detach, error_call
from idcbq.transpile.rules import handles

_DONE = "idcbq_json_number_mode"
_MODES = ("exact", "round")
# A JSON string (skipped whole: its digits are no number) or a number's text.
_TOKENS = r'"(?:[^"\\]|\\.)*"|-?[0-9][0-9.eE+-]*'
# Significant digits of a token's mantissa (leading and trailing zeros dropped).
_DIGITS = (
    "length(regexp_replace(regexp_replace(regexp_replace(x, '[eE].*$', ''), '[^0-9]', '', 'g'),"
    " '^0+|0+$', '', 'g'))"
)
_EXPONENT = "TRY_CAST(nullif(regexp_extract(x, '[eE]([+-]?[0-9]+)$', 1), '') AS INTEGER)"


def _mode(node: exp.ParseJSON) -> str:
    """The literal ``wide_number_mode`` of a ``PARSE_JSON`` (removed from the call)."""
    arg = node.args.get("expression")
    if arg is None:
        return "exact"
    value = arg.expression if isinstance(arg, exp.Kwarg) else arg
    if not (isinstance(value, exp.Literal) and value.is_string):
        raise TranspileError(
            "unsupported on DuckDB: PARSE_JSON with a wide_number_mode that is not a "
            "string literal (GoogleSQL's number checks depend on it)"
        )
    node.set("expression", None)
    return value.this


def _wide_numbers(text: exp.Expr) -> exp.Expr:
    """DuckDB: true if ``text`` may hold a number GoogleSQL refuses or rounds."""
    # The same test for 'round': the text DuckDB keeps for a rounded number is not the
    # one GoogleSQL writes (9007199254740992.0 against 9.007199254740992e+15).
    wide = (
        f"(x SIMILAR TO '-?[0-9]+' AND length(x) >= 20)"
        f" OR (NOT x SIMILAR TO '-?[0-9]+' AND {_DIGITS} >= 16)"
        f" OR abs(coalesce({_EXPONENT}, 0)) >= 290"
    )
    return duck_fragment(
        f"len(list_filter(regexp_extract_all(_t, _p), x -> NOT starts_with(x, '\"') AND ({wide}))) > 0",
        _t=text,
        _p=exp.Literal.string(_TOKENS),
    )


def _raise(problem: str) -> exp.Expr:
    """A JSON-typed run-time error (DuckDB folds a call of an untyped NULL unevaluated:
    ``json_type(error(...))`` was NULL)."""
    return exp.cast(error_call(problem), "JSON")


@handles(exp.ParseJSON)
def parse_json_number_modes(tree: exp.Expr) -> exp.Expr:
    """``PARSE_JSON(text[, wide_number_mode=>m])``: GoogleSQL's refusals of numbers."""
    for node in list(tree.find_all(exp.ParseJSON)):
        if node.args.get("is_literal") or node.meta.get(_DONE):
            continue
        node.meta[_DONE] = True
        mode = _mode(node)
        if mode not in _MODES:
            problem = f"Invalid `wide_number_mode` specified for PARSE_JSON: {mode}"
            node.replace(_raise(problem))
            continue
        text = node.this
        if isinstance(text, exp.Null):
            continue
        if isinstance(text, exp.Literal) and text.is_string:
            try:
                problem = number_problem(text.this, mode)
            except ValueError:
                continue  # not JSON: the query's own error at run time
            if problem:
                node.replace(_raise(problem))
            continue
        check = _wide_numbers(text)
        hole = detach(node)
        hole.replace(
            exp.Case(
                ifs=[
                    exp.If(
                        this=check,
                        true=error_call(
                            "PARSE_JSON: a number in the text may not be stored exactly "
                            f"(wide_number_mode=>'{mode}'); GoogleSQL may refuse it, "
                            "idcbq does not guess"
                        ),
                    )
                ],
                default=node,
            )
        )
    return tree
