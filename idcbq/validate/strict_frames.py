"""Window frames and analytic arguments GoogleSQL refuses (see strict_types' _window).

- a frame that starts after it ends: ``CURRENT ROW AND 1 PRECEDING``, ``1 FOLLOWING``
  alone (its end is the current row), ``UNBOUNDED FOLLOWING`` as a start,
  ``UNBOUNDED PRECEDING`` as an end;
- a RANGE frame with an offset (``RANGE 1 PRECEDING``) needs exactly one ORDER BY key,
  of a numeric type (DuckDB also orders ranges by dates, BigQuery does not);
- ``NTILE(0)``, ``NTH_VALUE(x, 0)``: a literal below 1.

Example:
    >>> from idcbq.validate import check
    >>> sql = "SELECT SUM(k) OVER (ORDER BY k ROWS 1 FOLLOWING) AS s FROM UNNEST([1]) AS k"
    >>> str(check(sql, googlesql=False)[1][0]).splitlines()[0]
    '<sql>:1:8: Starting window framing expression cannot be OFFSET FOLLOWING when the frame ends at CURRENT ROW'
"""

from __future__ import annotations

from sqlglot import exp

from idcbq.validate.type_rules import NUM, Add, family

#: Frame bounds in order: a frame's start may not come after its end.
_RANK = {"UNBOUNDED PRECEDING": 0, "PRECEDING": 1, "CURRENT ROW": 2, "FOLLOWING": 3}


def check_frame(node: exp.Window, refuse: Add) -> None:
    """The frame of one OVER (...) clause (or one WINDOW definition)."""
    spec = node.args.get("spec")
    if not isinstance(spec, exp.WindowSpec):
        return
    if _frame_syntax(node, spec, refuse):
        return
    start = _bound(spec.args.get("start"), spec.args.get("start_side"))
    end = _bound(spec.args.get("end"), spec.args.get("end_side")) if spec.args.get("end") else None
    if start == "UNBOUNDED FOLLOWING":
        refuse(node, "Starting window framing expression cannot be UNBOUNDED FOLLOWING")
        return
    if end == "UNBOUNDED PRECEDING":
        refuse(node, "Ending window framing expression cannot be UNBOUNDED PRECEDING")
        return
    if end is None and start == "FOLLOWING":
        refuse(
            node,
            "Starting window framing expression cannot be OFFSET FOLLOWING when the frame "
            "ends at CURRENT ROW",
        )
        return
    if start in _RANK and end in _RANK and _RANK[start] > _RANK[end]:
        refuse(
            node,
            f"Starting window framing expression cannot be {start} when the frame ends at {end}",
        )
        return
    offset = {"PRECEDING", "FOLLOWING"} & {start, end}
    if str(spec.args.get("kind") or "").upper() == "RANGE" and offset:
        _range_order(node, refuse)


def _frame_syntax(node: exp.Window, spec: exp.WindowSpec, refuse: Add) -> bool:
    """GoogleSQL frames are ROWS or RANGE without EXCLUDE (other dialects' GROUPS frames
    and EXCLUDE clauses, which DuckDB runs); True if refused."""
    kind = str(spec.args.get("kind") or "").upper()
    if kind and kind not in ("ROWS", "RANGE"):
        refuse(node, f"Syntax error: {kind} window frames are not supported (only ROWS or RANGE)")
        return True
    if spec.args.get("exclude") is not None:
        refuse(node, "Syntax error: EXCLUDE in a window frame is not supported")
        return True
    return False


def _bound(value: object, side: object) -> str | None:
    """``UNBOUNDED PRECEDING``, ``CURRENT ROW``, ``PRECEDING``/``FOLLOWING`` (an offset)."""
    text = str(
        value.name
        if isinstance(value, exp.Expr) and not isinstance(value, exp.Literal)
        else value or ""
    ).upper()
    side_text = str(side or "").upper()
    if text == "CURRENT ROW":
        return "CURRENT ROW"
    if text == "UNBOUNDED":
        return f"UNBOUNDED {side_text}"
    return side_text or None


def _range_order(node: exp.Window, refuse: Add) -> None:
    """A RANGE frame with an offset: one ORDER BY key, numeric."""
    if node.args.get("alias"):  # OVER (w RANGE ...): the named window holds the ORDER BY
        return
    order = node.args.get("order")
    keys = order.expressions if order is not None else []
    if len(keys) != 1:
        refuse(
            node,
            "A RANGE-based window with OFFSET PRECEDING or OFFSET FOLLOWING boundaries must "
            "have exactly one ORDER BY key",
        )
        return
    kind = family(keys[0].this)
    if kind is not None and kind != NUM:
        refuse(
            keys[0],
            "ORDER BY key must be numeric in a RANGE-based window with OFFSET PRECEDING or "
            "OFFSET FOLLOWING boundaries",
        )


def check_arguments(function: exp.Expr, refuse: Add) -> None:
    """NTILE's bucket count and NTH_VALUE's position are at least 1 (when literal)."""
    if isinstance(function, exp.Ntile):
        value, what = function.this, "The argument to NTILE must be at least 1"
    elif isinstance(function, exp.NthValue):
        value, what = function.args.get("offset"), "Argument 2 to NTH_VALUE must be at least 1"
    else:
        return
    if (
        isinstance(value, exp.Literal)
        and not value.is_string
        and value.this.isdigit()
        and int(value.this) < 1
    ):
        refuse(value, what)


def named_frame(node: exp.Window) -> bool:
    """The named window ``OVER w`` refers to (in its SELECT's WINDOW clause) has a frame."""
    select = node.find_ancestor(exp.Select)
    name = node.args["alias"].name.lower()
    for named in select.args.get("windows") or () if select is not None else ():
        if isinstance(named.this, exp.Identifier) and named.this.name.lower() == name:
            return named.args.get("spec") is not None
    return False
