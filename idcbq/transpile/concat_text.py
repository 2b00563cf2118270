"""``CONCAT(x)`` of one non-text value is its STRING, as GoogleSQL coerces it.

GoogleSQL's CONCAT takes values it can cast to STRING: ``CONCAT(DATE '2020-10-10')`` is
the STRING ``'2020-10-10'``. sqlglot writes a one-argument CONCAT as the argument
itself for DuckDB, so the answer kept the DATE type (and, without GoogleSQL's analyzer,
nothing converted it). The argument is cast to STRING explicitly; the cast rules then
format it as BigQuery does. An argument of unknown type refuses (see ``is_typed``).

Example:
    >>> import sqlglot
    >>> tree = sqlglot.parse_one("SELECT CONCAT(d) FROM t", read="bigquery")
    >>> tree.find(exp.Column).type = exp.DataType.build("DATE")
    >>> single_concat(tree).sql("bigquery")
    'SELECT CAST(d AS STRING) FROM t'
"""

from __future__ import annotations

from sqlglot import exp

from idcbq.transpile.rules import handles
from idcbq.transpile.semantics import is_typed

T = exp.DataType.Type
#: Types whose STRING cast the cast rules translate (BYTES and STRING stay as they are).
_CASTABLE = (
    *exp.DataType.INTEGER_TYPES,
    T.DOUBLE,
    T.FLOAT,
    T.DECIMAL,
    T.BIGDECIMAL,
    T.BOOLEAN,
    T.DATE,
    T.DATETIME,
    T.TIMESTAMP,
    T.TIMESTAMPTZ,
    T.TIME,
)


@handles(exp.Concat)
def single_concat(tree: exp.Expr) -> exp.Expr:
    """Cast the one non-text argument of ``CONCAT(x)`` to STRING (see the module)."""
    for node in list(tree.find_all(exp.Concat)):
        if len(node.expressions) != 1:
            continue
        arg = node.expressions[0]
        if isinstance(arg, exp.Null) or is_typed(arg, *_CASTABLE):
            text = exp.DataType.build("VARCHAR")
            cast = exp.Cast(this=arg.copy(), to=text)
            cast.this.type = arg.type
            cast.type = text.copy()
            node.replace(cast)
    return tree


def needs_types(tree: exp.Expr) -> bool:
    """True if the tree holds a one-argument CONCAT."""
    return any(len(n.expressions) == 1 for n in tree.find_all(exp.Concat))


TYPED = (single_concat,)
