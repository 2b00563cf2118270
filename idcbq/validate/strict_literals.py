"""Literals GoogleSQL's analyzer refuses (see :mod:`idcbq.validate.strict_types`).

DuckDB reads ``9223372036854775808`` as a HUGEINT and ``DATE '10000-01-01'`` as a date;
BigQuery refuses both when it analyzes the query. Refused here: an integer literal
outside INT64, a DATE/DATETIME/TIMESTAMP literal (or CAST of a STRING literal) whose
fields are out of range, a NUMERIC literal of 30 or more integer digits. A text this
module does not read (another format, a time zone) is left to the engines.

Example:
    >>> from idcbq.validate import check
    >>> str(check("SELECT DATE '2023-02-29' AS d", googlesql=False)[1][0]).splitlines()[0]
    '<sql>:1:13: Invalid DATE literal: 2023-02-29'
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from sqlglot import exp

from idcbq.validate.civil_text import civil_text_ok
from idcbq.validate.type_rules import Add

T = exp.DataType.Type
_INT64_MAX = 2**63 - 1
_CIVIL_TYPES = {
    T.DATE: "DATE",
    T.DATETIME: "DATETIME",
    T.TIMESTAMP: "DATETIME",
    T.TIMESTAMPTZ: "TIMESTAMP",
}


def integer_literal(node: exp.Literal, refuse: Add) -> None:
    """An integer literal outside INT64 (``-9223372036854775808`` is inside)."""
    text = node.this
    if node.is_string or not isinstance(text, str) or not text.isdigit():
        return
    limit = _INT64_MAX + 1 if isinstance(node.parent, exp.Neg) else _INT64_MAX
    if int(text) > limit:
        refuse(node, f"Invalid integer literal: {text}")


def cast_literal(node: exp.Cast, refuse: Add) -> None:
    """``DATE '2023-02-29'``, ``CAST('25:00' ...)``, ``NUMERIC '1e30'``: a literal that
    cannot become the type (SAFE_CAST gives NULL instead)."""
    value = node.this
    if isinstance(node, exp.TryCast) or not isinstance(value, exp.Literal) or not value.is_string:
        return
    target = node.to.this
    if target in _CIVIL_TYPES and not civil_text_ok(value.this, target):
        refuse(node, f"Invalid {_CIVIL_TYPES[target]} literal: {value.this}")
    elif target == T.DECIMAL and not node.to.expressions:
        try:
            number = Decimal(value.this.strip())
        except InvalidOperation:
            return
        if number.is_finite() and number.copy_abs() >= Decimal("1e29"):  # exact, unrounded
            refuse(node, f'Invalid NUMERIC literal: "{value.this}"')
