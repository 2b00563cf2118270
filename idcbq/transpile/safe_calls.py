"""BigQuery's ``SAFE_`` arithmetic and ``SAFE.`` prefix on DuckDB.

``SAFE_ADD``/``SAFE_SUBTRACT``/``SAFE_MULTIPLY``/``SAFE_NEGATE`` and ``SAFE.f(...)`` become
DuckDB's ``TRY(...)`` (NULL instead of the error). ``TRY`` would also swallow errors of
the arguments, which neither ``SAFE.`` nor the ``SAFE_`` functions do, so arguments that
could raise are computed outside it. Probes: ``tests/probes/functions.yaml``.
"""

from __future__ import annotations

from sqlglot import exp

from idcbq.transpile.rewrites import GUARD_ERROR
from idcbq.transpile.semantics import depth

_SAFE_ARITHMETIC = {
    exp.SafeAdd: exp.Add,
    exp.SafeSubtract: exp.Sub,
    exp.SafeMultiply: exp.Mul,
}


_SAFE_TRY = "idcbq_safe_try"


def _try(node: exp.Expr) -> exp.Expr:
    call = exp.Anonymous(this="try", expressions=[node])
    call.meta[_SAFE_TRY] = True
    return call


def under_safe(node: exp.Expr) -> bool:
    """True inside the ``TRY`` of a ``SAFE.`` call (its hoisted arguments are outside)."""
    parent = node.parent
    while parent is not None:
        if parent.meta.get(_SAFE_TRY):
            return True
        parent = parent.parent
    return False


def safe_functions(tree: exp.Expr) -> exp.Expr:
    """SAFE_ arithmetic and ``SAFE.f(...)`` -> ``TRY(...)``."""
    for node in list(
        tree.find_all(exp.SafeAdd, exp.SafeSubtract, exp.SafeMultiply, exp.SafeNegate)
    ):
        # only the operation's own overflow is NULL: an operand's error (INSTR's
        # occurrence 0 in SAFE_NEGATE(INSTR(s, 'a', 1, 0))) raises, so operands that could
        # raise are computed outside TRY
        call = node.copy()
        hoisted = _hoist_arguments(call, guards_too=True)
        if isinstance(call, exp.SafeNegate):
            operand = call.this
            if _integer_literal(operand):  # DuckDB widens -(-2^63) to HUGEINT: no NULL
                operand = exp.cast(operand, "BIGINT")
            inner: exp.Expr = exp.Neg(this=exp.paren(operand))
        else:
            op = _SAFE_ARITHMETIC[type(call)]
            inner = exp.paren(op(this=call.this, expression=call.expression))
        node.replace(_after_arguments(hoisted, _try(inner)))
    nested = list(tree.find_all(exp.SafeFunc))
    for node in sorted(nested, key=depth, reverse=True):
        inner = node.this.copy()  # inner SAFE. calls first: this copy holds them rewritten
        is_error = isinstance(inner, exp.Anonymous) and str(inner.this).lower() == "error"
        hoisted = _hoist_arguments(inner, guards_too=is_error)
        if is_error:
            body: exp.Expr = exp.null()  # SAFE.ERROR(x) is NULL once x is computed
        else:
            for err in list(inner.find_all(exp.Anonymous)):
                if str(err.this).lower() == "error":  # our guards: NULL (TRY refuses them)
                    err.replace(exp.null())
            body = _try(inner)
        node.replace(_after_arguments(hoisted, body))
    return tree


#: Argument nodes that cannot raise: such arguments stay inside ``TRY``.
_QUIET = (exp.Column, exp.Literal, exp.Null, exp.Boolean, exp.Parameter, exp.Placeholder,
          exp.Neg, exp.Paren, exp.Var, exp.DataType, exp.DataTypeParam, exp.Identifier,
          exp.Interval, exp.Dot)  # fmt: skip
_SAFE_ARGS = "_idcbq_safe_args"


def _hoist_arguments(func: exp.Expr, *, guards_too: bool) -> list[tuple[str, exp.Expr]]:
    """Replace each argument of ``func`` that could raise with ``_idcbq_safe_args.aN``.

    BigQuery's ``SAFE.`` turns only the function's own errors into NULL; an error while
    computing an argument (``SAFE.SUBSTR(ERROR('x'), 1)``) still raises. DuckDB's ``TRY``
    would swallow both, so such arguments are computed outside it. An argument holding
    one of idcbq's own guards stays inside (unless ``guards_too``): the guard may be the
    function's own check placed on its operand (``SAFE.DIV(x, 0)``'s division by zero).
    """
    out: list[tuple[str, exp.Expr]] = []
    if isinstance(func, exp.Case | exp.If):  # already rewritten: its parts are not arguments
        return out

    def hoist(arg: exp.Expr) -> exp.Expr:
        if all(isinstance(n, _QUIET) for n in arg.walk()):
            return arg
        if not guards_too and any(n.meta.get(GUARD_ERROR) for n in arg.walk()):
            return arg
        name = f"a{len(out)}"
        out.append((name, arg))
        return exp.column(name, table=_SAFE_ARGS)

    for key, value in list(func.args.items()):
        if isinstance(value, exp.Expr):
            func.set(key, hoist(value))
        elif isinstance(value, list) and all(isinstance(v, exp.Expr) for v in value):
            func.set(key, [hoist(v) for v in value])
    return out


def _after_arguments(hoisted: list[tuple[str, exp.Expr]], body: exp.Expr) -> exp.Expr:
    """``body`` as is, or evaluated over the hoisted arguments computed first (a lambda over
    a one-element list: ``list_extract(list_transform([{a0: ...}], s -> body), 1)``)."""
    if not hoisted:
        return body
    packed = exp.Struct(
        expressions=[
            exp.PropertyEQ(this=exp.to_identifier(name), expression=arg) for name, arg in hoisted
        ]
    )
    mapped = exp.Anonymous(
        this="list_transform",
        expressions=[
            exp.Array(expressions=[packed]),
            exp.Lambda(this=body, expressions=[exp.to_identifier(_SAFE_ARGS)]),
        ],
    )
    return exp.Anonymous(this="list_extract", expressions=[mapped, exp.Literal.number(1)])


def _integer_literal(node: exp.Expr) -> bool:
    """An INT64 literal, possibly negated (``-9223372036854775808``)."""
    while isinstance(node, exp.Neg | exp.Paren):
        node = node.this
    return isinstance(node, exp.Literal) and node.is_int
