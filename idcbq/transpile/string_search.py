"""``INSTR(value, search, position[, occurrence])`` as GoogleSQL counts (untyped rule).

sqlglot wrote a position as ``STRPOS(SUBSTRING(value, position), search)``: right for a
positive position, wrong for a negative one (GoogleSQL then searches backwards), and it
refused an occurrence. GoogleSQL's rules, measured on its reference implementation:

- positions are characters; matches may overlap (``INSTR('aaaa', 'aa', 1, 3)`` is 3);
- ``position > 0``: the ``occurrence``-th match starting at or after ``position``;
- ``position < 0``: counting backwards, the ``occurrence``-th match starting at or
  before character ``len + position + 1`` (an empty ``search`` one further, so
  ``INSTR('banana', '', -1)`` is 7);
- no such match: 0; a NULL argument: NULL; ``position = 0`` or ``occurrence < 1``: an
  error.

The translation lists the matching starts (``list_filter`` over ``range``) and takes
the ``occurrence``-th.

Example:
    >>> import sqlglot
    >>> tree = sqlglot.parse_one("SELECT INSTR(s, 'an', -1, 2) AS i FROM t", read="bigquery")
    >>> "LIST_FILTER(RANGE(" in instr_positions(tree).sql("duckdb")
    True
"""

from __future__ import annotations

from sqlglot import exp

from idcbq.transpile.errors_guards import guard
from idcbq.transpile.numeric import duck_fragment
from idcbq.transpile.rules import handles

_X = "_idcbq_at"
_MATCHES = (
    f"list_filter(range(_from, _to, _step), lambda {_X}: substring(_s, {_X}, length(_b)) = _b)"
)
_FORWARD = f"coalesce(list_extract({_MATCHES.replace('_step', '1')}, _k), 0)"
_BACKWARD = f"coalesce(list_extract({_MATCHES.replace('_step', '-1')}, _k), 0)"


@handles(exp.StrPosition)
def instr_positions(tree: exp.Expr) -> exp.Expr:
    """``INSTR`` with a position (any sign) or an occurrence."""
    for node in list(tree.find_all(exp.StrPosition)):
        position = node.args.get("position")
        occurrence = node.args.get("occurrence")
        if position is None and occurrence is None:
            continue  # STRPOS / INSTR(value, search): sqlglot's own translation
        value, search = node.this, node.args.get("substr")
        position = position or exp.Literal.number(1)
        occurrence = occurrence or exp.Literal.number(1)
        parts = {"_s": value, "_b": search, "_k": occurrence}
        forward = duck_fragment(
            _FORWARD, _from=position, _to=duck_fragment("length(_s) + 2", _s=value), **parts
        )
        start = duck_fragment(
            "length(_s) + _p + 1 + CASE WHEN _b = '' THEN 1 ELSE 0 END",
            _s=value,
            _p=position,
            _b=search,
        )
        backward = duck_fragment(_BACKWARD, _from=start, _to=exp.Literal.number(0), **parts)
        answer = exp.Case(
            ifs=[
                exp.If(
                    this=exp.GT(this=position.copy(), expression=exp.Literal.number(0)),
                    true=forward,
                )
            ],
            default=backward,
        )
        answer = guard(
            answer,
            exp.LT(this=occurrence.copy(), expression=exp.Literal.number(1)),
            "Occurrence must be positive",
        )
        answer = guard(
            answer,
            exp.EQ(this=position.copy(), expression=exp.Literal.number(0)),
            "Position must be non-zero",
        )
        nulls = exp.or_(
            *(
                exp.Is(this=a.copy(), expression=exp.Null())
                for a in (value, search, position, occurrence)
            )
        )
        node.replace(
            exp.Case(ifs=[exp.If(this=nulls, true=exp.cast(exp.Null(), "BIGINT"))], default=answer)
        )
    return tree
