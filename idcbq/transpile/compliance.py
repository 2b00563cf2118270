"""Rewrites for differences found by GoogleSQL's compliance suite (``tests/conformance``).

Each takes and returns a BigQuery-dialect tree (before DuckDB generation). EXTRACT of
sub-seconds, SAFE_DIVIDE overflow, BYTES to STRING and LEFT/RIGHT of a negative length
live with their families (transpile.dates, numeric, strings, errors_runtime):

- ``output_limits``: ``REPEAT``, ``LPAD`` and ``RPAD`` whose output would pass 1 MB raise
  (BigQuery: "exceeds max allowed output size of 1MB"); DuckDB builds the string.
- ``limit_offset``: ``LIMIT``/``OFFSET`` of a NULL or negative parameter raise.
- ``frame_offsets``: a window frame offset that is NULL or negative raises (a literal
  is checked by the analyzer; a parameter only when it runs).
- ``generate_step``: ``GENERATE_DATE_ARRAY``/``GENERATE_TIMESTAMP_ARRAY`` with a 0 step raise.
- ``window_arguments``: a ``LAG``/``LEAD`` offset, ``NTH_VALUE`` position or ``NTILE``
  bucket count given by a parameter raises when NULL or out of range.
"""

from __future__ import annotations

from sqlglot import exp

from idcbq.errors import TranspileError
from idcbq.transpile.bytes_text import BYTES_AS_TEXT
from idcbq.transpile.rewrites import detach, int_literal
from idcbq.transpile.rewrites import error_call as _error
from idcbq.transpile.rules import run_triggered
from idcbq.transpile.semantics import is_typed

T = exp.DataType.Type
#: BigQuery's limit on a string function's output, in bytes.
MAX_OUTPUT = 1 << 20


def _guard(value: exp.Expr, bad: exp.Expr, message: str) -> exp.Expr:
    return exp.Case(ifs=[exp.If(this=bad, true=_error(message))], default=value)


def _double(node: exp.Expr) -> exp.Expr:
    return exp.cast(node.copy(), "FLOAT64", dialect="bigquery")


def _isinf(node: exp.Expr) -> exp.Expr:
    return exp.Anonymous(this="isinf", expressions=[_double(node)])


def output_limits(tree: exp.Expr) -> exp.Expr:
    """``REPEAT``/``LPAD``/``RPAD`` whose output passes 1 MB raise, before DuckDB builds it."""
    limit = exp.Literal.number(MAX_OUTPUT)
    for node in list(tree.find_all(exp.Repeat, exp.Pad)):
        if node.meta.get("idcbq_limit"):
            continue
        node.meta["idcbq_limit"] = True
        if isinstance(node, exp.Repeat):
            times = node.args.get("times")
            if times is None:
                continue
            size = exp.Mul(
                # bytes of the text (a BYTES value counts its escaped spelling: never less)
                this=exp.Anonymous(
                    this="strlen",
                    expressions=[exp.cast(node.this.copy(), "STRING", dialect="bigquery")],
                ),
                expression=exp.cast(times.copy(), "INT64", dialect="bigquery"),
            )
            message = "Output of REPEAT exceeds max allowed output size of 1MB"
            key, value = "times", times
        else:
            value = node.args.get("expression")
            if value is None:
                continue
            size = value.copy()
            message = "Output of LPAD/RPAD exceeds max allowed output size of 1MB"
            key = "expression"
        literal = isinstance(value, exp.Literal) and not value.is_string
        chars = int(float(value.this)) if literal else None
        # the limit is on bytes: LPAD(s, 600000, 'ß') is 1.2 MB in 600000 characters
        few = chars is not None and not MAX_OUTPUT // 4 < chars <= MAX_OUTPUT
        by_bytes = isinstance(node, exp.Pad) and not few and not _bytes_pad(node)
        if chars is None or not isinstance(node, exp.Pad) or chars > MAX_OUTPUT:
            bad = exp.GT(this=exp.paren(size), expression=limit.copy())
            guarded = _guard(value.copy(), bad, message)
            if isinstance(node, exp.Pad):  # DuckDB's lpad takes no BIGINT; the guard bounds it
                guarded = exp.cast(guarded, "INT")
            node.set(key, guarded)
        if by_bytes:  # after the length's guard: the copies it makes hold it
            _guard_bytes(node, message)
    return tree


def _bytes_pad(node: exp.Pad) -> bool:
    """Whether a pad is known to be of BYTES (its length counts bytes already)."""
    parts = (node.this, node.args.get("fill_pattern"))
    if node.meta.get(BYTES_AS_TEXT) or is_typed(node.this, T.VARBINARY, T.BINARY):
        return True
    return any(isinstance(p, exp.ByteString) for p in parts)


def _guard_bytes(node: exp.Expr, message: str) -> None:
    """Raise when a STRING ``node``'s UTF-8 bytes pass 1 MB (its length is checked first;
    a BYTES one counts its bytes there). The type may be known only when DuckDB runs."""
    text = exp.Anonymous(this="strlen", expressions=[exp.cast(node.copy(), "TEXT")])
    size = exp.Case(
        this=exp.Anonymous(this="typeof", expressions=[node.copy()]),
        ifs=[exp.If(this=exp.Literal.string("BLOB"), true=exp.Literal.number(0))],
        default=text,
    )
    bad = exp.GT(this=size, expression=exp.Literal.number(MAX_OUTPUT))
    detach(node).replace(exp.Case(ifs=[exp.If(this=bad, true=_error(message))], default=node))


def _null_or_negative(value: exp.Expr, null_message: str, negative_message: str) -> exp.Expr:
    return exp.Case(
        ifs=[
            exp.If(
                this=exp.Is(this=value.copy(), expression=exp.null()), true=_error(null_message)
            ),
            exp.If(
                this=exp.LT(this=value.copy(), expression=exp.Literal.number(0)),
                true=_error(negative_message),
            ),
        ],
        default=value,
    )


def _runtime_value(node: object) -> bool:
    """True for an expression whose value is known only when the query runs."""
    return isinstance(node, exp.Expr) and not isinstance(node, exp.Literal | exp.Var)


#: DuckDB's largest LIMIT/OFFSET (2^62; a larger one is a binder error). No result has
#: that many rows, so a larger count keeps every row and a larger offset skips them all,
#: as the cap does.
LIMIT_CAP = 4611686018427387904


def limit_offset(tree: exp.Expr) -> exp.Expr:
    """``LIMIT @n`` / ``OFFSET @m``: NULL or negative raise, as in BigQuery; a count or
    offset past DuckDB's largest is capped there."""
    for node in list(tree.find_all(exp.Limit, exp.Offset)):
        value = node.args.get("expression")
        if node.meta.get("idcbq_checked"):
            continue
        literal = int_literal(value) if isinstance(value, exp.Expr) else None
        if literal is not None and literal > LIMIT_CAP:
            node.meta["idcbq_checked"] = True
            node.set("expression", exp.Literal.number(LIMIT_CAP))
            continue
        if not _runtime_value(value):
            continue
        node.meta["idcbq_checked"] = True
        checked = _null_or_negative(
            value.copy(),
            "Limit requires non-null count and offset",
            "Limit requires non-negative count and offset",
        )
        cap = exp.Literal.number(LIMIT_CAP)
        # DuckDB's least (checked is never NULL here: BigQuery's NULL rule adds nothing)
        node.set("expression", exp.Anonymous(this="least", expressions=[checked, cap]))
    return tree


def frame_offsets(tree: exp.Expr) -> exp.Expr:
    """``ROWS BETWEEN @n PRECEDING ...``: a NULL, negative or NaN offset raises."""
    for spec in list(tree.find_all(exp.WindowSpec)):
        for key in ("start", "end"):
            value = spec.args.get(key)
            if not _runtime_value(value) or value.meta.get("idcbq_checked"):
                continue
            guarded = _null_or_negative(
                value.copy(),
                "The boundary offset value cannot be null",
                "Window frame offset for PRECEDING or FOLLOWING must be non-negative",
            )
            # a NaN offset is not below 0 but GoogleSQL refuses it too (DuckDB answers)
            nan = exp.IsNan(this=exp.cast(value.copy(), "DOUBLE"))
            guarded.append(
                "ifs",
                exp.If(
                    this=nan,
                    true=_error(
                        "Window frame offset for PRECEDING or FOLLOWING must be "
                        "non-negative, but was nan"
                    ),
                ),
            )
            guarded.meta["idcbq_checked"] = True
            spec.set(key, guarded)
    return tree


#: The step units GENERATE_TIMESTAMP_ARRAY takes (a day is 24 hours of a TIMESTAMP).
_TIMESTAMP_STEPS = frozenset({"MICROSECOND", "MILLISECOND", "SECOND", "MINUTE", "HOUR", "DAY"})


def generate_step(tree: exp.Expr) -> exp.Expr:
    """``GENERATE_DATE_ARRAY``/``GENERATE_TIMESTAMP_ARRAY`` with a step of 0 raise."""
    kinds = tuple(
        k
        for k in (
            getattr(exp, "GenerateDateArray", None),
            getattr(exp, "GenerateTimestampArray", None),
        )
        if k
    )
    for node in list(tree.find_all(*kinds)):
        step = node.args.get("step")
        if not isinstance(step, exp.Interval) or step.meta.get("idcbq_checked"):
            continue
        unit = str(step.args.get("unit") or "").upper()
        if isinstance(node, exp.GenerateTimestampArray) and unit not in _TIMESTAMP_STEPS:
            # DuckDB would step a TIMESTAMP by months; GoogleSQL's analyzer refuses it
            raise TranspileError(f"GENERATE_TIMESTAMP_ARRAY does not support the {unit} date part")
        step.meta["idcbq_checked"] = True
        count = step.this
        if isinstance(count, exp.Literal) and count.this.strip() not in ("0", "-0", "+0"):
            continue
        number = exp.cast(count.copy(), "INT64", dialect="bigquery")
        bad = exp.EQ(this=number, expression=exp.Literal.number(0))
        step.set("this", _guard(number.copy(), bad, "Sequence step cannot be 0."))
    return tree


def _checked(value: exp.Expr, checks: list[tuple[exp.Expr, str]]) -> exp.Expr:
    return exp.Case(ifs=[exp.If(this=bad, true=_error(msg)) for bad, msg in checks], default=value)


def window_arguments(tree: exp.Expr) -> exp.Expr:
    """Runtime values of LAG/LEAD offsets, NTH_VALUE positions, NTILE counts, as BigQuery checks."""
    zero = exp.Literal.number(0)
    for node in list(tree.find_all(exp.Lag, exp.Lead, exp.NthValue, exp.Ntile)):
        key = "this" if isinstance(node, exp.Ntile) else "offset"
        value = node.args.get(key)
        literal = isinstance(value, exp.Literal) and value.is_int
        if isinstance(node, exp.NthValue) and literal and int(value.this) < 1:
            raise TranspileError("Argument 2 to NTH_VALUE must be at least 1")  # DuckDB: NULL
        if not _runtime_value(value) or node.meta.get("idcbq_checked"):
            continue
        node.meta["idcbq_checked"] = True
        null = exp.Is(this=value.copy(), expression=exp.null())
        if isinstance(node, exp.Ntile):
            checks = [
                (null, "The N value (number of buckets) for the NTILE function must not be NULL"),
                (
                    exp.LTE(this=value.copy(), expression=zero.copy()),
                    "The N value (number of buckets) for the NTILE function must be positive",
                ),
            ]
        elif isinstance(node, exp.NthValue):
            checks = [
                (null, "The N value for the NthValue function must not be NULL"),
                (
                    exp.LTE(this=value.copy(), expression=zero.copy()),
                    "The N value for the NthValue function must be positive",
                ),
            ]
        else:
            name = "LAG" if isinstance(node, exp.Lag) else "LEAD"
            checks = [
                (null, f"The offset to the function {name} must not be null"),
                (
                    exp.LT(this=value.copy(), expression=zero.copy()),
                    f"The offset to the function {name} must not be negative",
                ),
            ]
        node.set(key, _checked(value.copy(), checks))
    return tree


def _bare(node: exp.Expr) -> exp.Expr:
    """``(x)`` and ``x IGNORE NULLS`` as ``x``: the same argument for the key check."""
    while isinstance(node, exp.Paren | exp.IgnoreNulls | exp.RespectNulls):
        node = node.this
    return node


def distinct_order_keys(tree: exp.Expr) -> exp.Expr:
    """``STRING_AGG(DISTINCT x ORDER BY y)``: GoogleSQL's analyzer refuses a key that is not
    an argument (DuckDB orders by it)."""
    for order in tree.find_all(exp.Order):
        if not isinstance(order.this, exp.Distinct):
            continue
        arguments = [_bare(a) for a in order.this.expressions]
        if any(_bare(o.this) not in arguments for o in order.expressions):
            raise TranspileError(
                "An aggregate function that has both DISTINCT and ORDER BY arguments can "
                "only ORDER BY expressions that are arguments to the function"
            )
    return tree


UNTYPED = (
    (distinct_order_keys, (exp.Distinct,)),
    (output_limits, (exp.Repeat, exp.Pad)),
    (limit_offset, (exp.Limit, exp.Offset)),
    (frame_offsets, (exp.WindowSpec,)),
    (generate_step, (exp.Interval,)),
    (window_arguments, (exp.Lag, exp.Lead, exp.NthValue, exp.Ntile)),
)

#: Typed rewrites (run where types were annotated).
TYPED: tuple = ()  # CAST(BYTES AS STRING) lives in transpile.strings


def needs_types(tree: exp.Expr) -> bool:
    """False: no typed rewrite lives here any more (see :data:`TYPED`)."""
    return False


def apply(tree: exp.Expr) -> exp.Expr:
    """Run the untyped rewrites whose node types occur in ``tree``."""
    return run_triggered(tree, UNTYPED)
