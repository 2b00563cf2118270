"""Rewrites for differences found by GoogleSQL's compliance suite (``tests/conformance``).

Each takes and returns a BigQuery-dialect tree (before DuckDB generation):

- ``extract_subsecond``: ``EXTRACT(MILLISECOND|MICROSECOND FROM x)`` is the part within
  the second (``TIME '12:34:56.999999'`` -> 999); DuckDB counts the seconds too (56999).
- ``safe_divide_overflow``: ``SAFE_DIVIDE`` whose quotient overflows (``1e300 / 1e-300``)
  is NULL, as BigQuery's overflow error is; DuckDB gives inf.
- ``output_limits``: ``REPEAT``, ``LPAD`` and ``RPAD`` whose output would pass 1 MB raise
  (BigQuery: "exceeds max allowed output size of 1MB"); DuckDB builds the string.
- ``limit_offset``: ``LIMIT``/``OFFSET`` of a NULL or negative parameter raise.
- ``frame_offsets``: a window frame offset that is NULL or negative raises (a literal
  is checked by the analyzer; a parameter only when it runs).
- ``generate_step``: ``GENERATE_DATE_ARRAY``/``GENERATE_TIMESTAMP_ARRAY`` with a 0 step raise.
- ``left_right_negative``: ``LEFT``/``RIGHT`` with a negative length raise (DuckDB drops
  characters from the other end).
- ``window_arguments``: a ``LAG``/``LEAD`` offset, ``NTH_VALUE`` position or ``NTILE``
  bucket count given by a parameter raises when NULL or out of range.
- ``bytes_to_string`` (typed): ``CAST(bytes AS STRING)`` decodes UTF-8 (invalid UTF-8 is
  an error); DuckDB's cast spells the bytes as ``\\xE2...`` escapes.
"""

from __future__ import annotations

from sqlglot import exp

from idcbq.transpile.rewrites import detach, run_triggered

T = exp.DataType.Type
#: BigQuery's limit on a string function's output, in bytes.
MAX_OUTPUT = 1 << 20


def _error(message: str) -> exp.Expr:
    return exp.Anonymous(this="error", expressions=[exp.Literal.string(message)])


def _guard(value: exp.Expr, bad: exp.Expr, message: str) -> exp.Expr:
    return exp.Case(ifs=[exp.If(this=bad, true=_error(message))], default=value)


def _double(node: exp.Expr) -> exp.Expr:
    return exp.cast(node.copy(), "FLOAT64", dialect="bigquery")


def _isinf(node: exp.Expr) -> exp.Expr:
    return exp.Anonymous(this="isinf", expressions=[_double(node)])


def extract_subsecond(tree: exp.Expr) -> exp.Expr:
    """``EXTRACT(MILLISECOND/MICROSECOND FROM x)`` without the seconds DuckDB adds."""
    for node in list(tree.find_all(exp.Extract)):
        part = node.this.name.upper() if isinstance(node.this, exp.Var) else ""
        if part not in ("MILLISECOND", "MICROSECOND") or node.meta.get("idcbq_subsecond"):
            continue
        node.meta["idcbq_subsecond"] = True
        modulus = exp.Literal.number(1000 if part == "MILLISECOND" else 1_000_000)
        detach(node).replace(exp.paren(exp.Mod(this=node, expression=modulus)))
    return tree


def safe_divide_overflow(tree: exp.Expr) -> exp.Expr:
    """``SAFE_DIVIDE(a, b)`` is NULL where finite operands give an infinite quotient."""
    for node in list(tree.find_all(exp.SafeDivide)):
        if node.meta.get("idcbq_overflow"):
            continue
        node.meta["idcbq_overflow"] = True
        a, b = node.this, node.expression
        overflow = exp.and_(
            _isinf(node),
            exp.not_(_isinf(a)),
            exp.not_(_isinf(b)),
        )
        placeholder = detach(node)
        placeholder.replace(exp.Case(ifs=[exp.If(this=overflow, true=exp.null())], default=node))
    return tree


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
        if literal and isinstance(node, exp.Pad) and int(float(value.this)) <= MAX_OUTPUT:
            continue
        bad = exp.GT(this=exp.paren(size), expression=limit.copy())
        node.set(key, _guard(value.copy(), bad, message))
    return tree


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


def limit_offset(tree: exp.Expr) -> exp.Expr:
    """``LIMIT @n`` / ``OFFSET @m``: NULL or negative raise, as in BigQuery."""
    for node in list(tree.find_all(exp.Limit, exp.Offset)):
        value = node.args.get("expression")
        if not _runtime_value(value) or node.meta.get("idcbq_checked"):
            continue
        node.meta["idcbq_checked"] = True
        node.set(
            "expression",
            _null_or_negative(
                value.copy(),
                "Limit requires non-null count and offset",
                "Limit requires non-negative count and offset",
            ),
        )
    return tree


def frame_offsets(tree: exp.Expr) -> exp.Expr:
    """``ROWS BETWEEN @n PRECEDING ...``: a NULL or negative offset raises."""
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
            guarded.meta["idcbq_checked"] = True
            spec.set(key, guarded)
    return tree


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
        step.meta["idcbq_checked"] = True
        count = step.this
        if isinstance(count, exp.Literal) and count.this.strip() not in ("0", "-0", "+0"):
            continue
        number = exp.cast(count.copy(), "INT64", dialect="bigquery")
        bad = exp.EQ(this=number, expression=exp.Literal.number(0))
        step.set("this", _guard(number.copy(), bad, "Sequence step cannot be 0."))
    return tree


def left_right_negative(tree: exp.Expr) -> exp.Expr:
    """``LEFT(s, n)`` / ``RIGHT(s, n)`` with ``n < 0`` raise, as in BigQuery."""
    for node in list(tree.find_all(exp.Left, exp.Right)):
        length = node.args.get("expression")
        if length is None or node.meta.get("idcbq_checked"):
            continue
        node.meta["idcbq_checked"] = True
        if isinstance(length, exp.Literal) and not length.is_string:
            continue  # a literal length is >= 0 (a negative one is a Neg node)
        name = "LEFT" if isinstance(node, exp.Left) else "RIGHT"
        bad = exp.LT(this=length.copy(), expression=exp.Literal.number(0))
        message = f"Second argument in {name}() cannot be negative"
        node.set("expression", _guard(length.copy(), bad, message))
    return tree


def _checked(value: exp.Expr, checks: list[tuple[exp.Expr, str]]) -> exp.Expr:
    return exp.Case(ifs=[exp.If(this=bad, true=_error(msg)) for bad, msg in checks], default=value)


def window_arguments(tree: exp.Expr) -> exp.Expr:
    """Runtime values of LAG/LEAD offsets, NTH_VALUE positions, NTILE counts, as BigQuery checks."""
    zero = exp.Literal.number(0)
    for node in list(tree.find_all(exp.Lag, exp.Lead, exp.NthValue, exp.Ntile)):
        key = "this" if isinstance(node, exp.Ntile) else "offset"
        value = node.args.get(key)
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


def bytes_to_string(tree: exp.Expr) -> exp.Expr:
    """``CAST(b AS STRING)`` of a BYTES value decodes UTF-8 (DuckDB ``decode``)."""
    for node in list(tree.find_all(exp.Cast)):
        to = node.args.get("to")
        operand = node.this
        if to is None or not to.is_type(T.TEXT, T.VARCHAR):
            continue
        if operand.type is None or not operand.type.is_type(T.VARBINARY, T.BINARY):
            continue
        if node.args.get("format") is not None or isinstance(node, exp.TryCast):
            continue
        decoded = exp.Anonymous(this="decode", expressions=[operand.copy()])
        decoded.type = exp.DataType.build("TEXT")
        node.replace(decoded)
    return tree


_UNTYPED = (
    (extract_subsecond, (exp.Extract,)),
    (safe_divide_overflow, (exp.SafeDivide,)),
    (output_limits, (exp.Repeat, exp.Pad)),
    (limit_offset, (exp.Limit, exp.Offset)),
    (frame_offsets, (exp.WindowSpec,)),
    (generate_step, (exp.Interval,)),
    (left_right_negative, (exp.Left, exp.Right)),
    (window_arguments, (exp.Lag, exp.Lead, exp.NthValue, exp.Ntile)),
)

#: Typed rewrites (run where types were annotated).
TYPED = (bytes_to_string,)


def needs_types(tree: exp.Expr) -> bool:
    """True if a typed rewrite here could apply (a CAST to STRING)."""
    return any(
        (to := c.args.get("to")) is not None and to.is_type(T.TEXT, T.VARCHAR)
        for c in tree.find_all(exp.Cast)
    )


def apply(tree: exp.Expr) -> exp.Expr:
    """Run the untyped rewrites whose node types occur in ``tree``."""
    return run_triggered(tree, _UNTYPED)
