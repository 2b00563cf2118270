"""Type-aware cast rewrites (need types from ``idcbq.transpile.types.annotate``).

- ``SAFE_CAST(<STRING> AS INT64)``: DuckDB's TRY_CAST also accepts ``'1.0'``, ``'1e3'``
  and ``'1_000'``; BigQuery returns NULL for them (only decimal or ``0x`` hex digits).
- ``CAST(<STRING> AS INT64)`` of signed hex (``'-0x1f'``): BigQuery reads it, DuckDB
  does not; the text is made decimal first. Text that is not decimal or hex digits
  (``'1.5'``, ``'1e3'``, ``'1_000'``) raises, as in BigQuery (DuckDB's CAST reads it).
- ``CAST(<FLOAT64> AS INT64)`` (and SAFE_CAST): BigQuery rounds halfway cases away from
  zero (2.5 -> 3); DuckDB rounds them to even (2.5 -> 2). ``ROUND`` first makes them agree.
- ``CAST(<FLOAT64> AS NUMERIC)``: BigQuery rounds the double's exact value to 9 decimals
  (``1e21`` is ``1000000000000000000000``, ``1.5e-9`` is ``0.000000001``); DuckDB scales
  it in floating point. Its exact decimal text (``printf('%.40f')``, exact to 1e-40:
  a double that matters lies at least ~5e-33 from a halfway point) is cast instead.
- ``CAST(<STRING> AS NUMERIC)``: DuckDB also reads ``'1_000'``; only decimal and
  exponent text pass.
"""

from __future__ import annotations

from sqlglot import exp

from idcbq.transpile.rewrites import error_call
from idcbq.transpile.rules import datatype, dup, handles
from idcbq.transpile.semantics import T, is_typed

#: What BigQuery accepts as an INT64 string (DuckDB's own whitespace handling kept).
_INT_TEXT = r"^\s*[+-]?(0[xX][0-9a-fA-F]+|[0-9]+)\s*$"


def _is_int64(node: exp.Cast) -> bool:
    return node.to.this in (exp.DataType.Type.BIGINT, exp.DataType.Type.INT)


#: What BigQuery accepts as NUMERIC text.
_NUMERIC_TEXT = r"^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$"
#: Hex text, signed or not: (sign, digits).
_HEX_PARTS = r"^\s*([+-]?)0[xX]([0-9a-fA-F]+)\s*$"


def hex_as_decimal(text: exp.Expr) -> exp.Expr:
    """``text`` with hex (signed or not) made decimal: DuckDB reads only unsigned ``0x``
    text, and only into integer types. Built of DuckDB's own functions (``Anonymous``),
    which BigQuery's rewrites leave alone.

    Example:
        >>> hex_as_decimal(exp.column("s")).sql("duckdb")[:40]
        "CASE WHEN NOT TRY_CAST('0x' || REGEXP_EX"
    """

    def part(group: int) -> exp.Expr:
        pattern = exp.Literal.string(_HEX_PARTS)
        return exp.Anonymous(
            this="regexp_extract", expressions=[dup(text), pattern, exp.Literal.number(group)]
        )

    unsigned = exp.TryCast(
        this=exp.DPipe(this=exp.Literal.string("0x"), expression=part(2)),
        to=datatype("UBIGINT", dialect="duckdb"),
    )
    sign = exp.Case(
        ifs=[
            exp.If(
                this=exp.EQ(this=part(1), expression=exp.Literal.string("-")),
                true=exp.Literal.string("-"),
            )
        ],
        default=exp.Literal.string(""),
    )
    decimal = exp.DPipe(
        this=sign, expression=exp.cast(dup(unsigned), datatype("VARCHAR"), copy=False)
    )
    read = exp.not_(exp.Is(this=unsigned, expression=exp.null()))
    return exp.Case(ifs=[exp.If(this=read, true=decimal)], default=dup(text))


def _is_numeric(node: exp.Cast) -> bool:
    return node.to.is_type(T.DECIMAL)


def needs_types(tree: exp.Expr) -> bool:
    """True if a cast to INT64 or NUMERIC appears (only then is annotation worth it)."""
    return any(_is_int64(node) or _is_numeric(node) for node in tree.find_all(exp.Cast))


def cast_to_int64(tree: exp.Expr) -> exp.Expr:
    for node in list(tree.find_all(exp.Cast)):  # TryCast is a Cast subclass
        if not _is_int64(node):
            continue
        arg = node.this
        arg_type = arg.type
        safe = isinstance(node, exp.TryCast) or bool(node.args.get("safe"))
        if arg_type is not None and arg_type.is_type(
            exp.DataType.Type.DOUBLE, exp.DataType.Type.FLOAT
        ):
            node.set("this", exp.Round(this=arg.copy()))
        elif arg_type is not None and arg_type.is_type(*exp.DataType.TEXT_TYPES):
            node.set("this", hex_as_decimal(arg))
            guard = exp.RegexpLike(this=arg.copy(), expression=exp.Literal.string(_INT_TEXT))
            if safe:
                node.replace(exp.Case(ifs=[exp.If(this=guard, true=node.copy())]))
            else:
                # DuckDB's CAST also reads '1.5', '1e3' and '1_000'; BigQuery raises
                bad = exp.DPipe(this=exp.Literal.string("Bad int64 value: "), expression=arg.copy())
                read = exp.Case(
                    ifs=[
                        exp.If(
                            this=exp.Is(this=arg.copy(), expression=exp.null()), true=exp.null()
                        ),
                        exp.If(this=guard, true=node.copy()),
                    ],
                    default=error_call(bad),
                )
                read.type = node.type
                node.replace(read)
    return tree


@handles(exp.Cast)
def numeric_casts(tree: exp.Expr) -> exp.Expr:
    """FLOAT64 and STRING to NUMERIC read as BigQuery reads them (see the module)."""
    for node in reversed(list(tree.find_all(exp.Cast))):  # inner casts first: copied below
        if not _is_numeric(node) or node.meta.get("idcbq_numeric_cast"):
            continue
        node.meta["idcbq_numeric_cast"] = True
        arg = node.this
        literal = arg.this if isinstance(arg, exp.Neg) else arg
        if isinstance(literal, exp.Literal) and not literal.is_string:
            # GoogleSQL casts a literal's own text (-1.5e-9 is -0.000000002)
            sign = "-" if isinstance(arg, exp.Neg) else ""
            node.set("this", exp.Literal.string(sign + literal.this))
        # unknown=False, a known gap: sqlglot does not type TRUNC/CEIL of a NUMERIC (valid
        # probes CAST(TRUNC(NUMERIC '1.999') AS ...)); a FLOAT64 nobody typed scales as DuckDB's
        elif is_typed(arg, T.DOUBLE, T.FLOAT, unknown=False):
            exact = exp.Anonymous(
                this="printf", expressions=[exp.Literal.string("%.40f"), arg.copy()]
            )
            node.set("this", exact)
        elif is_typed(arg, *exp.DataType.TEXT_TYPES, unknown=False):  # the same gap
            safe = isinstance(node, exp.TryCast) or bool(node.args.get("safe"))
            shape = exp.RegexpLike(this=arg.copy(), expression=exp.Literal.string(_NUMERIC_TEXT))
            invalid = (
                None
                if safe
                else error_call(
                    exp.DPipe(
                        this=exp.Literal.string("Invalid NUMERIC value: "), expression=arg.copy()
                    )
                )
            )
            read = exp.Case(
                ifs=[
                    exp.If(this=exp.Is(this=arg.copy(), expression=exp.null()), true=exp.null()),
                    exp.If(this=shape, true=node.copy()),
                ],
                default=invalid,
            )
            read.type = node.type
            node.replace(read)
    return tree
