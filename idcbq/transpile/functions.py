"""Untyped rewrites of scalar functions whose DuckDB namesakes differ from BigQuery.

Each has probes in ``tests/probes/functions.yaml``:

- ``pow_domain``: ``POW(negative, fractional)`` and ``POW(0, negative)`` raise (DuckDB: NaN/inf).
- ``array_to_string_nulls``: an all-NULL array joins to ``''`` (DuckDB: NULL).
- ``array_concat_null``: ``ARRAY_CONCAT`` with a NULL array is NULL (DuckDB skips it).
- ``negative_counts``: ``GENERATE_ARRAY`` step 0, ``LPAD``/``RPAD``/``REPEAT`` with a negative
  count raise (DuckDB: empty results).
- ``date_from_unix_date``: returns a DATE (DuckDB's DATE + INTERVAL is a TIMESTAMP).
- ``timestamp_diff_whole``: ``TIMESTAMP_DIFF`` counts whole units elapsed (DuckDB's
  ``date_diff`` counts unit boundaries crossed): DuckDB's ``date_sub``.
- ``safe_functions`` (:mod:`idcbq.transpile.safe_calls`): ``SAFE_ADD`` ... and the ``SAFE.``
  prefix become DuckDB's ``TRY(...)``.
- ``struct_equality``: ``STRUCT(...) = STRUCT(...)`` of literals compares field by field (NULL if a
  field is NULL; DuckDB orders NULL and answers FALSE).
- ``epoch_timestamps``: ``TIMESTAMP_MILLIS``/``TIMESTAMP_MICROS`` are TIMESTAMPs (DuckDB's
  ``epoch_ms``/``make_timestamp`` give a zone-less TIMESTAMP; the session zone is UTC).
- ``sum_of_bool``: ``SUM``/``AVG`` of a comparison is refused, as BigQuery refuses SUM(BOOL).
- ``format_timestamp_zone``: ``FORMAT_TIMESTAMP(fmt, ts, zone)`` formats the wall clock in
  ``zone`` (sqlglot drops the zone); ``%Z``/``%z`` are refused (DuckDB prints no zone).
- ``numeric_precision``: ``NUMERIC`` is ``DECIMAL(38, 9)`` (DuckDB's bare DECIMAL is (18, 3)).

Typed (they read ``node.type``; :func:`needs_types` tells when annotation is worth it):

- ``round_of_int``: ``ROUND``/``TRUNC`` of an INT64 is a FLOAT64 (DuckDB keeps the integer);
  ``ROUND``/``TRUNC``/``CEIL``/``FLOOR`` of a NUMERIC stay NUMERIC.
- ``numeric_division``: NUMERIC division and ``AVG(NUMERIC)`` are exact in BigQuery; DuckDB
  computes them in DOUBLE, so they are refused (loud); ``numeric_math``: see its module.
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp

from idcbq.errors import TranspileError
from idcbq.transpile.errors_guards import finite
from idcbq.transpile.numeric_math import numeric_math
from idcbq.transpile.rewrites import detach
from idcbq.transpile.rules import dup, handles, run_triggered
from idcbq.transpile.safe_calls import safe_functions
from idcbq.transpile.semantics import T, error_call, is_numeric_cast, is_typed, known_not


def _guard(value: exp.Expr, bad: exp.Expr, message: str) -> exp.Expr:
    """``CASE WHEN bad THEN error(message) ELSE value END``."""
    return exp.Case(ifs=[exp.If(this=bad, true=error_call(message))], default=value)


def pow_domain(tree: exp.Expr) -> exp.Expr:
    """``POW(x, y)`` raises where BigQuery does (negative base with fractional exponent, 0^-y)."""
    for node in list(tree.find_all(exp.Pow)):
        if node.meta.get("idcbq_pow"):
            continue
        node.meta["idcbq_pow"] = True
        x, y = node.this, node.expression
        zero = exp.Literal.number(0)
        fractional = exp.NEQ(this=y.copy(), expression=exp.Floor(this=y.copy()))
        bad = exp.or_(
            exp.and_(exp.LT(this=x.copy(), expression=zero.copy()), fractional),
            exp.and_(
                exp.EQ(this=x.copy(), expression=zero.copy()),
                exp.LT(this=y.copy(), expression=zero.copy()),
            ),
        )
        # GoogleSQL raises only for finite arguments (POW(-inf, 0.5) is inf)
        bad = exp.and_(exp.paren(bad), finite(x, y))
        detach(node).replace(_guard(node, bad, "Floating point error in function: POW"))
    return tree


def array_to_string_nulls(tree: exp.Expr) -> exp.Expr:
    """``ARRAY_TO_STRING([NULL, NULL], ',')`` is ``''`` (DuckDB: NULL); a NULL delimiter
    or NULL text for NULL elements gives NULL (DuckDB: joined by ``,`` / NULLs skipped)."""
    for node in list(tree.find_all(exp.ArrayToString)):
        if node.meta.get("idcbq_ats"):
            continue
        node.meta["idcbq_ats"] = True
        args = [node.this, node.expression, *([node.args["null"]] if node.args.get("null") else [])]
        nulls = exp.or_(*(exp.Is(this=a.copy(), expression=exp.null()) for a in args))
        hole = detach(node)
        answer = node
        if not node.args.get("null"):
            answer = exp.Coalesce(this=node, expressions=[exp.Literal.string("")])
        hole.replace(exp.Case(ifs=[exp.If(this=nulls, true=exp.null())], default=answer))
    return tree


def array_concat_null(tree: exp.Expr) -> exp.Expr:
    """``ARRAY_CONCAT(a, NULL)`` is NULL in BigQuery; DuckDB skips the NULL list."""
    for node in list(tree.find_all(exp.ArrayConcat)):
        if node.meta.get("idcbq_concat"):
            continue
        node.meta["idcbq_concat"] = True
        parts = [node.this, *node.expressions]
        if all(isinstance(p, exp.Array) for p in parts):
            continue
        anynull = exp.or_(*(exp.Is(this=p.copy(), expression=exp.null()) for p in parts))
        detach(node).replace(exp.Case(ifs=[exp.If(this=anynull, true=exp.null())], default=node))
    return tree


#: ``ARRAY_IS_DISTINCT(_a)``: at most one NULL (NULLs are equal here), and no repeated
#: value among the others, counted as GROUP BY counts them (one NaN, 0.0 = -0.0;
#: ``list_distinct`` kept two NaNs apart).
_IS_DISTINCT = """
CASE WHEN _a IS NULL THEN NULL
ELSE (SELECT count(_e) = count(DISTINCT _e) AND count(*) - count(_e) <= 1
      FROM unnest(_a) AS _is_distinct(_e)) END
"""


def array_is_distinct(tree: exp.Expr) -> exp.Expr:
    """``ARRAY_IS_DISTINCT(a)``: no two elements equal (DuckDB has no such function)."""
    from idcbq.transpile.nan_unknown import duck_fragment

    for node in list(tree.find_all(exp.Anonymous)):
        if str(node.name).upper() != "ARRAY_IS_DISTINCT":
            continue
        if len(node.expressions) != 1:
            raise TranspileError("unsupported on DuckDB: ARRAY_IS_DISTINCT takes one array")
        array = node.expressions[0]
        if isinstance(array, exp.Null):  # DuckDB cannot unnest an untyped NULL
            node.replace(exp.cast(exp.null(), "BOOLEAN"))
            continue
        node.replace(duck_fragment(_IS_DISTINCT, _a=array))
    return tree


def array_ends(tree: exp.Expr) -> exp.Expr:
    """``ARRAY_FIRST``/``ARRAY_LAST``: the end element, an error for an empty array, NULL
    for a NULL one (DuckDB has neither function; its ``a[1]`` of ``[]`` is NULL)."""
    for node in list(tree.find_all(exp.ArrayFirst, exp.ArrayLast)):
        array = node.this
        first = isinstance(node, exp.ArrayFirst)
        text = "_a[SAFE_OFFSET(0)]" if first else "_a[SAFE_OFFSET(ARRAY_LENGTH(_a) - 1)]"
        element = sqlglot.parse_one(text, read="bigquery")
        for hole in list(element.find_all(exp.Column)):
            hole.replace(dup(array))
        empty = exp.EQ(this=exp.ArraySize(this=dup(array)), expression=exp.Literal.number(0))
        name = "ARRAY_FIRST" if first else "ARRAY_LAST"
        node.replace(_guard(element, empty, f"{name} of an empty array"))
    return tree


def _negative(count: exp.Expr) -> exp.Expr:
    return exp.LT(this=count.copy(), expression=exp.Literal.number(0))


def negative_counts(tree: exp.Expr) -> exp.Expr:
    """GENERATE_ARRAY step 0 and negative LPAD/RPAD/REPEAT counts raise, as in BigQuery."""
    for pad in list(tree.find_all(exp.Pad)):
        pattern = pad.args.get("fill_pattern")
        if pattern is not None and not (isinstance(pattern, exp.Literal) and pattern.this):
            empty = exp.EQ(this=pattern.copy(), expression=exp.Literal.string(""))
            message = "pad pattern for LPAD/RPAD cannot be empty"
            pad.set("fill_pattern", _guard(pattern.copy(), empty, message))
    for node in list(tree.find_all(exp.GenerateSeries, exp.Pad, exp.Repeat)):
        if isinstance(node, exp.GenerateSeries):
            key, message = "step", "Sequence step cannot be 0."
            step = node.args.get(key)
            if step is None:
                continue
            bad = exp.EQ(this=step.copy(), expression=exp.Literal.number(0))
        else:
            key = "expression" if isinstance(node, exp.Pad) else "times"
            message = (
                "output size for LPAD/RPAD cannot be negative"
                if isinstance(node, exp.Pad)
                else "repeat count for REPEAT cannot be negative"
            )
            count = node.args.get(key)
            if count is None:
                continue
            bad = _negative(count)
        value = node.args[key]
        if isinstance(value, exp.Literal) and not value.is_string and value.this != "0":
            continue  # a positive literal count or a nonzero literal step
        if isinstance(value, exp.Literal) and not isinstance(node, exp.GenerateSeries):
            continue  # a zero count is fine
        node.set(key, _guard(value.copy(), bad, message))
    return tree


def date_from_unix_date(tree: exp.Expr) -> exp.Expr:
    """``DATE_FROM_UNIX_DATE(n)`` is a DATE."""
    for node in list(tree.find_all(exp.DateFromUnixDate)):
        if isinstance(node.parent, exp.Cast):
            continue
        detach(node).replace(exp.cast(node, "DATE"))
    return tree


def timestamp_diff_whole(tree: exp.Expr) -> exp.Expr:
    """``TIMESTAMP_DIFF(a, b, unit)`` -> ``date_sub('unit', b, a)`` (whole units elapsed)."""
    for node in list(tree.find_all(exp.TimestampDiff)):
        unit = node.args.get("unit")
        name = unit.name.upper() if unit is not None else "MICROSECOND"
        if name not in {"MICROSECOND", "MILLISECOND", "SECOND", "MINUTE", "HOUR", "DAY"}:
            continue
        node.replace(
            exp.Anonymous(
                this="date_sub",
                expressions=[
                    exp.Literal.string(name.lower()),
                    exp.cast(node.expression.copy(), "TIMESTAMPTZ"),
                    exp.cast(node.this.copy(), "TIMESTAMPTZ"),
                ],
            )
        )
    return tree


def numeric_precision(tree: exp.Expr) -> exp.Expr:
    """A bare ``NUMERIC``/``DECIMAL`` type is BigQuery's ``DECIMAL(38, 9)``."""
    for kind in list(tree.find_all(exp.DataType)):
        if kind.this == exp.DataType.Type.DECIMAL and not kind.expressions:
            kind.set(
                "expressions",
                [
                    exp.DataTypeParam(this=exp.Literal.number(38)),
                    exp.DataTypeParam(this=exp.Literal.number(9)),
                ],
            )
    return tree


def struct_equality(tree: exp.Expr) -> exp.Expr:
    """``STRUCT(a, b) = STRUCT(c, d)`` (literals) -> ``a = c AND b = d``; ``IS [NOT]
    DISTINCT FROM`` likewise, field by field (GoogleSQL pairs fields by position, DuckDB
    by name)."""
    equal_kind = {exp.NullSafeEQ: exp.NullSafeEQ, exp.NullSafeNEQ: exp.NullSafeEQ,
                  exp.EQ: exp.EQ, exp.NEQ: exp.EQ}  # fmt: skip
    for node in list(tree.find_all(*equal_kind)):
        left, right = node.this, node.expression
        if not (isinstance(left, exp.Struct) and isinstance(right, exp.Struct)):
            continue
        if len(left.expressions) != len(right.expressions):
            continue
        pair = equal_kind[type(node)]
        pairs = [
            pair(this=_field(a).copy(), expression=_field(b).copy())
            for a, b in zip(left.expressions, right.expressions, strict=True)
        ]
        same = exp.paren(exp.and_(*pairs)) if pairs else exp.true()
        node.replace(same if type(node) is pair else exp.Not(this=same))
    return tree


def _field(node: exp.Expr) -> exp.Expr:
    if isinstance(node, exp.Alias | exp.PropertyEQ):
        return node.expression if isinstance(node, exp.PropertyEQ) else node.this
    return node


def epoch_timestamps(tree: exp.Expr) -> exp.Expr:
    """``TIMESTAMP_MILLIS(n)``/``TIMESTAMP_MICROS(n)`` -> ``CAST(... AS TIMESTAMPTZ)``."""
    for node in list(tree.find_all(exp.UnixToTime)):
        scale = node.args.get("scale")
        if scale is None or isinstance(node.parent, exp.Cast):
            continue
        detach(node).replace(exp.cast(node, "TIMESTAMPTZ"))
    return tree


_BOOLEAN_EXPRS = (exp.Predicate, exp.Boolean, exp.Not, exp.And, exp.Or)


def sum_of_bool(tree: exp.Expr) -> exp.Expr:
    """``SUM(x > 1)`` / ``AVG(x = 'a')``: BigQuery has no SUM/AVG of BOOL; DuckDB counts TRUEs."""
    for node in tree.find_all(exp.Sum, exp.Avg):
        value = node.this.unnest() if isinstance(node.this, exp.Paren) else node.this
        if isinstance(value, _BOOLEAN_EXPRS):
            name = "SUM" if isinstance(node, exp.Sum) else "AVG"
            raise TranspileError(
                f"No matching signature for aggregate function {name} of BOOL: "
                f"{node.sql(dialect='bigquery')} (BigQuery rejects it)",
                hint=f"use COUNTIF(...) or {name}(CAST(... AS INT64))",
            )
    return tree


def format_timestamp_zone(tree: exp.Expr) -> exp.Expr:
    """``FORMAT_TIMESTAMP(fmt, ts, zone)`` and ``FORMAT_DATETIME(fmt, ts, zone)`` format
    the wall clock of ``ts`` in ``zone`` (``timezone(zone, ts)``)."""
    for node in list(tree.find_all(exp.TimeToStr)):
        fmt = node.args.get("format")
        zone = node.args.get("zone")
        if zone is not None and isinstance(node.this, exp.TsOrDsToDatetime | exp.TsOrDsToDate):
            if isinstance(node.this, exp.TsOrDsToDate):
                raise TranspileError(
                    "unsupported on DuckDB: FORMAT_DATE with a time zone: "
                    f"{node.sql(dialect='bigquery')}",
                    hint="use FORMAT_DATETIME(fmt, ts, zone), or --engine bigquery",
                )
            ts = exp.cast(node.this.this.copy(), "TIMESTAMPTZ")
            wall = exp.Anonymous(this="timezone", expressions=[zone.copy(), ts])
            node.set("this", exp.TsOrDsToDatetime(this=wall))
            node.set("zone", None)
            continue
        if not isinstance(node.this, exp.TsOrDsToTimestamp):
            continue  # FORMAT_DATE / FORMAT_DATETIME
        text = fmt.this if isinstance(fmt, exp.Literal) else None
        bare = text.replace("%%", "") if text is not None else None  # '%%Z' is text
        zoned = bare is not None and ("%Z" in bare or "%z" in bare)
        if zoned or (text is None and zone is not None):
            raise TranspileError(
                "unsupported on DuckDB: FORMAT_TIMESTAMP with a time zone name/offset "
                f"(%Z/%z) or a non-literal format: {node.sql(dialect='bigquery')}",
                hint="format without %Z/%z, or use --engine bigquery",
            )
        if zone is None:
            continue
        ts = exp.cast(node.this.this.copy(), "TIMESTAMPTZ")
        wall = exp.Anonymous(this="timezone", expressions=[zone.copy(), ts])
        node.set("this", exp.TsOrDsToDatetime(this=wall))  # its format elements: formats.py
        node.set("zone", None)
    return tree


#: (rewrite, node types it acts on).
UNTYPED = (
    (pow_domain, (exp.Pow,)),
    (array_to_string_nulls, (exp.ArrayToString,)),
    (array_concat_null, (exp.ArrayConcat,)),
    (array_ends, (exp.ArrayFirst, exp.ArrayLast)),
    (array_is_distinct, (exp.Anonymous,)),
    (negative_counts, (exp.GenerateSeries, exp.Pad, exp.Repeat)),
    (date_from_unix_date, (exp.DateFromUnixDate,)),
    (timestamp_diff_whole, (exp.TimestampDiff,)),
    (numeric_precision, (exp.DataType,)),
    (
        safe_functions,
        (exp.SafeAdd, exp.SafeSubtract, exp.SafeMultiply, exp.SafeNegate, exp.SafeFunc),
    ),
    (struct_equality, (exp.Struct,)),
    (epoch_timestamps, (exp.UnixToTime,)),
    (sum_of_bool, (exp.Sum, exp.Avg)),
    (format_timestamp_zone, (exp.TimeToStr,)),
)


def apply(tree: exp.Expr) -> exp.Expr:
    """Run the rewrites of :data:`UNTYPED` whose node types occur in ``tree``."""
    return run_triggered(tree, UNTYPED)


# -- typed ---------------------------------------------------------------------------


@handles(exp.Round, exp.Trunc, exp.Ceil, exp.Floor)
def round_of_int(tree: exp.Expr) -> exp.Expr:
    """``ROUND``/``TRUNC`` of an INT64 is FLOAT64; rounding a NUMERIC keeps ``DECIMAL(38, 9)``

    (DuckDB narrows the scale, and a scale-0 result would come back as INT64).
    """
    for node in list(tree.find_all(exp.Round, exp.Trunc, exp.Ceil, exp.Floor)):
        if is_typed(node.this, *exp.DataType.INTEGER_TYPES) and not isinstance(
            node, exp.Ceil | exp.Floor
        ):
            node.set("this", exp.cast(node.this.copy(), "DOUBLE"))
        elif is_typed(node.this, T.DECIMAL) and not is_numeric_cast(node.parent):
            # under another CAST too: the cast is NUMERIC's range check (overflow raises)
            detach(node).replace(exp.cast(node, exp.DataType.build("DECIMAL(38, 9)")))
    return tree


@handles(exp.Div, exp.SafeDivide, exp.Avg)
def numeric_division(tree: exp.Expr) -> exp.Expr:
    """NUMERIC division and ``AVG(NUMERIC)`` exactly (DuckDB computes them in DOUBLE);
    ``SAFE_DIVIDE`` of NUMERIC is refused."""
    from idcbq.transpile.numeric_exact import exact_mean, exact_quotient

    for node in list(tree.find_all(exp.Div, exp.SafeDivide, exp.Avg)):
        operands = [node.this] + ([] if isinstance(node, exp.Avg) else [node.expression])
        # unknown=False: a known gap (AVG(DISTINCT i) of an UNNESTed field, valid probes)
        if any(is_typed(o, T.DECIMAL, unknown=False) for o in operands) and not any(
            is_typed(o, T.DOUBLE, T.FLOAT, unknown=False) for o in operands
        ):
            if isinstance(node, exp.Avg):
                target = node.parent if isinstance(node.parent, exp.Window) else node
                detach(target).replace(exact_mean(node))  # (keeps the NUMERIC type)
                continue
            if isinstance(node, exp.Div):
                detach(node).replace(exact_quotient(node.this, node.expression))
                continue
            what = "AVG of NUMERIC" if isinstance(node, exp.Avg) else "NUMERIC division"
            raise TranspileError(
                f"unsupported on DuckDB: {what} ({node.sql(dialect='bigquery')}): DuckDB "
                "computes it in FLOAT64, BigQuery exactly",
                hint="CAST to FLOAT64 if a FLOAT64 answer is what you want",
            )
    return tree


#: Math functions whose NUMERIC signature returns NUMERIC (DuckDB computes a DOUBLE).
@handles(exp.Sum, exp.Avg)
def sum_of_bool_typed(tree: exp.Expr) -> exp.Expr:
    """``SUM``/``AVG`` of a BOOL column is refused (BigQuery has no such signature)."""
    for node in tree.find_all(exp.Sum, exp.Avg):
        if is_typed(node.this, T.BOOLEAN, unknown=False):  # a gap: SUM(DISTINCT unnested.i)
            raise TranspileError(
                f"No matching signature for aggregate function of BOOL: "
                f"{node.sql(dialect='bigquery')} (BigQuery rejects it)",
                hint="use COUNTIF(...) or SUM(CAST(... AS INT64))",
            )
    return tree


@handles(exp.Add, exp.Sub, exp.Mul, exp.Div)
def numeric_literals(tree: exp.Expr) -> exp.Expr:
    """A float literal next to a NUMERIC operand is a NUMERIC in BigQuery (literal coercion)."""
    for node in tree.find_all(exp.Add, exp.Sub, exp.Mul, exp.Div):
        for mine, other in ((node.this, node.expression), (node.expression, node.this)):
            literal = mine.this if isinstance(mine, exp.Neg) else mine
            if (
                isinstance(literal, exp.Literal)
                and not literal.is_string
                and not literal.this.isdigit()
                and is_typed(other, T.DECIMAL)
            ):
                mine.replace(exp.cast(mine.copy(), exp.DataType.build("DECIMAL(38, 9)")))
    return tree


@handles(exp.Mul, exp.SafeMultiply)
def numeric_products(tree: exp.Expr) -> exp.Expr:
    """NUMERIC * NUMERIC keeps scale 9 in BigQuery (rounded); DuckDB adds the scales.
    ``SAFE_MULTIPLY`` too (it becomes DuckDB's ``TRY(a * b)`` after these rules)."""
    for node in list(tree.find_all(exp.Mul, exp.SafeMultiply)):
        sides = (node.this, node.expression)
        if is_numeric_cast(node.parent) or any(known_not(o, T.DECIMAL) for o in sides):
            continue  # (a SafeMultiply stays one node); one side not NUMERIC: no rewrite
        if is_typed(node.this, T.DECIMAL) and is_typed(node.expression, T.DECIMAL):
            detach(node).replace(exp.cast(exp.paren(node), exp.DataType.build("DECIMAL(38, 9)")))
    return tree


@handles(exp.Cast)
def numeric_to_string(tree: exp.Expr) -> exp.Expr:
    """``CAST(NUMERIC AS STRING)`` drops trailing fraction zeros (``1.5``, not ``1.500000000``)."""
    for cast in list(tree.find_all(exp.Cast)):
        if not cast.to.is_type(*exp.DataType.TEXT_TYPES) or not is_typed(cast.this, T.DECIMAL):
            continue
        text = exp.cast(cast.this.copy(), "VARCHAR")
        trimmed = exp.Anonymous(
            this="rtrim",
            expressions=[
                exp.Anonymous(this="rtrim", expressions=[text.copy(), exp.Literal.string("0")]),
                exp.Literal.string("."),
            ],
        )
        fraction = exp.Anonymous(this="contains", expressions=[text, exp.Literal.string(".")])
        cast.replace(exp.Case(ifs=[exp.If(this=fraction, true=trimmed)], default=text.copy()))
    return tree


@handles(exp.Format)
def format_of_numeric(tree: exp.Expr) -> exp.Expr:
    """``FORMAT(fmt, NUMERIC)`` is refused: DuckDB's printf rounds the FLOAT64 value."""
    for node in tree.find_all(exp.Format):
        if any(is_typed(arg, T.DECIMAL) for arg in node.expressions):
            raise TranspileError(
                "unsupported on DuckDB: FORMAT of a NUMERIC value (DuckDB formats a FLOAT64): "
                + node.sql(dialect="bigquery"),
                hint="CAST the NUMERIC to STRING or FLOAT64 first",
            )
    return tree


@handles(exp.SafeDivide)
def safe_divide_type(tree: exp.Expr) -> exp.Expr:
    """``SAFE_DIVIDE`` of non-NUMERIC values is a FLOAT64 (sqlglot types ``(NULL, 1)`` INT64)."""
    for node in tree.find_all(exp.SafeDivide):
        if not any(is_typed(o, T.DECIMAL) for o in (node.this, node.expression)):
            node.type = exp.DataType.build("DOUBLE")
    return tree


#: Run before ``typed.TYPED`` (``null_outputs`` reads the types fixed here).
TYPED = (
    safe_divide_type,
    numeric_math,
    round_of_int,
    numeric_division,
    sum_of_bool_typed,
    numeric_literals,
    numeric_products,
    numeric_to_string,
    format_of_numeric,
)


def needs_types(tree: exp.Expr) -> bool:
    """True if a typed rewrite here could apply (ROUND/TRUNC/SUM/AVG/SAFE_DIVIDE, NUMERIC)."""
    for node in tree.find_all(exp.Round, exp.Trunc, exp.SafeDivide, exp.Sum, exp.Avg, exp.DataType):
        if not isinstance(node, exp.DataType) or node.this == T.DECIMAL:
            return True
    return False
