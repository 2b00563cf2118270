"""``CURRENT_DATE``/``CURRENT_TIME``/``CURRENT_DATETIME``/``CURRENT_TIMESTAMP`` on DuckDB.

- In GoogleSQL these names, with or without parentheses, are the functions even where a
  column of that name is in scope. DuckDB read a bare ``CURRENT_DATE`` as the column
  (``WITH t AS (SELECT 'x' AS current_date) SELECT CURRENT_DATE() FROM t`` answered
  ``'x'``): each is written as a call DuckDB cannot take for a column
  (``current_date()``, ``get_current_time()``, ``get_current_timestamp()``).
- ``CURRENT_TIME(zone)`` is the wall clock in ``zone`` (sqlglot dropped the zone: UTC's
  time was answered), ``CURRENT_DATETIME([zone])`` the civil date and time in ``zone``
  (UTC by default), ``CURRENT_DATE(zone)`` the date there.

The zone goes through the UTC-offset guard of :mod:`idcbq.transpile.errors_text` (an
``AT TIME ZONE``), which runs later.

Example:
    >>> import sqlglot
    >>> tree = sqlglot.parse_one("SELECT CURRENT_TIME('Asia/Tokyo')", read="bigquery")
    >>> current_clock(tree).sql("duckdb")
    "SELECT CAST(GET_CURRENT_TIMESTAMP() AT TIME ZONE 'Asia/Tokyo' AS TIME)"
"""

from __future__ import annotations

from sqlglot import exp

from idcbq.transpile.rules import handles

_KINDS = (exp.CurrentDate, exp.CurrentTime, exp.CurrentDatetime, exp.CurrentTimestamp)


def _now() -> exp.Expr:
    return exp.Anonymous(this="GET_CURRENT_TIMESTAMP")


def _wall(zone: exp.Expr, to: str) -> exp.Expr:
    """The current instant's wall clock in ``zone``, as ``to``."""
    return exp.cast(exp.AtTimeZone(this=_now(), zone=zone), to)


@handles(*_KINDS)
def current_clock(tree: exp.Expr) -> exp.Expr:
    """Write each current date/time function as an unambiguous DuckDB call (see module)."""
    for node in list(tree.find_all(*_KINDS)):
        zone = node.args.get("this") or node.args.get("zone")
        if isinstance(node, exp.CurrentTimestamp):
            new = _now()
        elif isinstance(node, exp.CurrentDatetime):
            new = _wall(zone.copy() if zone else exp.Literal.string("UTC"), "TIMESTAMP")
        elif zone is not None:
            new = _wall(zone.copy(), "DATE" if isinstance(node, exp.CurrentDate) else "TIME")
        elif isinstance(node, exp.CurrentDate):
            new = exp.Anonymous(this="CURRENT_DATE")
        else:
            new = exp.Anonymous(this="GET_CURRENT_TIME")
        node.replace(new)
    return tree
