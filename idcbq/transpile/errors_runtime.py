"""Runtime errors BigQuery raises are errors on DuckDB too (DuckDB ``error()`` calls).

Where BigQuery stops a query, DuckDB often answers (``inf``, a shortened string, a
mirrored window offset). Each rewrite wraps the expression in
``CASE WHEN <BigQuery would fail> THEN error('<message>') ELSE <expression> END``:

- ``float_overflow``: ``EXP``, ``COSH``, ``SINH``, ``POW``/``POWER`` and ``*``/``+``/``-`` of FLOAT64 whose result
  is infinite from finite inputs ("Floating point overflow"; DuckDB returns ``inf``);
- ``negative_length``: ``LEFT(s, n)``/``RIGHT(s, n)`` with ``n < 0`` (DuckDB counts from the
  other end);
- ``negative_offset``: ``LEAD``/``LAG`` with a negative offset (DuckDB flips the direction);
- ``translate_duplicates``: ``TRANSLATE`` whose source characters repeat;
- ``json_wildcard``: a JSONPath with ``[*]``, ``.*`` or ``..`` (BigQuery's JSONPath has no
  wildcards; DuckDB expands them); a literal path DuckDB would read otherwise (``lax $.a``,
  no ``$``) is refused;
- ``float_overflow`` also covers ``/`` (``1e300 / 1e-300``; not ``IEEE_DIVIDE``, whose inf is
  its answer);
- ``aggregate_overflow``: ``SUM``/``AVG`` (also as window functions) whose result is infinite
  from finite inputs ("double overflow"), and ``SUM`` of NUMERIC past NUMERIC's range
  ("numeric overflow": DuckDB's DECIMAL(38, 9) sum does not check its width);
- ``string_agg_null_separator``: ``STRING_AGG(x, sep)`` with a NULL separator (a parameter);
- ``civil_ranges`` (:mod:`idcbq.transpile.civil_ranges`): a date/time result outside
  years 1..9999 (``+``/``-`` an INTERVAL, ``*_ADD``/``*_SUB``, ``TIMESTAMP_SECONDS``, a
  week's truncation);
- ``length_parameters``: ``CAST(x AS STRING(n))``/``BYTES(n)`` longer than ``n``;
- ``ascii_non_ascii``: ``ASCII`` of a string starting with a non-ASCII character;
- ``regexp_instr_groups``: ``REGEXP_INSTR`` with two or more capturing groups (one
  group, or a pattern that is not a literal, is refused: BigQuery reports the group).

Inside ``SAFE.f(...)`` these errors are NULL (``safe_guards``).

Example:
    >>> import sqlglot
    >>> tree = apply(sqlglot.parse_one("SELECT LEFT(s, n) AS x FROM t", read="bigquery"))
    >>> tree.sql("duckdb")
    "SELECT CASE WHEN n < 0 THEN ERROR('LEFT: the length cannot be negative') ELSE LEFT(s, n) END AS x FROM t"
"""

from __future__ import annotations

from sqlglot import exp

from idcbq.errors import TranspileError
from idcbq.transpile.civil_ranges import civil_ranges
from idcbq.transpile.errors_guards import GUARDED, OURS, duck_call, finite, fresh, guard
from idcbq.transpile.errors_text import (
    ascii_non_ascii,
    offset_zones,
    regexp_extract_positions,
    regexp_instr_groups,
)
from idcbq.transpile.numeric import duck_fragment
from idcbq.transpile.pattern_errors import like_trailing_backslash, regexp_replace_rewrite
from idcbq.transpile.rewrites import detach
from idcbq.transpile.rules import handles, inspects, run_steps
from idcbq.transpile.semantics import error_call as _error


def _is_float(node: exp.Expr) -> bool:
    if isinstance(node, exp.Cast) and node.to.this in (
        exp.DataType.Type.DOUBLE,
        exp.DataType.Type.FLOAT,
    ):
        return True
    if isinstance(node, exp.Literal) and not node.is_string:
        return any(c in node.this.lower() for c in ".e")
    return isinstance(node, (exp.Exp, exp.Pow, exp.Sqrt, exp.Ln, exp.Log))


#: Marks a SUM/AVG of INT64 or an ``INT64 / literal`` (``|literal| >= 1``): no FLOAT64 or
#: NUMERIC overflow is possible there, so no guard (each guard copies the expression).
NO_OVERFLOW = "idcbq_no_overflow"


def _typed_float(node: exp.Expr) -> bool:
    kind = node.type
    return kind is not None and kind.this in (exp.DataType.Type.DOUBLE, exp.DataType.Type.FLOAT)


def _integer(node: exp.Expr) -> bool:
    kind = node.type
    return kind is not None and kind.this in exp.DataType.INTEGER_TYPES


#: Marks ``*``/``+``/``-`` with an operand typed FLOAT64 (a column, a CTE's value, an
#: UNNESTed field): ``float_overflow`` guards it like a FLOAT64 literal's.
FLOAT_ARITHMETIC = "idcbq_float_arithmetic"


def mark_overflow_free(tree: exp.Expr, *, drop_types: bool = False) -> exp.Expr:
    """Mark what cannot overflow, and arithmetic of typed FLOAT64s that can, while the
    tree still carries types (the rewrites run after types are dropped; a mark survives
    copies).

    ``drop_types``: then set every node's type to None in the same walk (a mark reads
    only the types of its node's operands, which the walk reaches after the node).
    """
    for node in tree.walk():  # one walk: each mark reads only its own node's operands
        if isinstance(node, exp.Mul | exp.Add | exp.Sub):
            if any(_typed_float(side) for side in (node.this, node.expression)):
                node.meta[FLOAT_ARITHMETIC] = True
        elif isinstance(node, exp.Sum | exp.Avg):
            _mark_integer_aggregate(node)
        elif isinstance(node, exp.Div):
            _mark_integer_quotient(node)
        if drop_types:
            node.type = None
    return tree


def _mark_integer_aggregate(node: exp.Sum | exp.Avg) -> None:
    arg = node.this
    if isinstance(arg, exp.Distinct) and len(arg.expressions) == 1:
        arg = arg.expressions[0]
    if _integer(arg):
        node.meta[NO_OVERFLOW] = True


def _mark_integer_quotient(node: exp.Div) -> None:
    divisor = node.expression
    if isinstance(divisor, exp.Cast):
        divisor = divisor.this
    if _integer(node.this) and isinstance(divisor, exp.Literal) and divisor.is_number:
        try:
            if abs(float(divisor.this)) >= 1:
                node.meta[NO_OVERFLOW] = True
        except ValueError:
            return


#: What can overflow to an infinity from finite FLOAT64 inputs (COT: of a subnormal).
_OVERFLOWING = (exp.Exp, exp.Cosh, exp.Sinh, exp.Cot, exp.Pow, exp.Mul, exp.Add, exp.Sub, exp.Div)


@handles(*_OVERFLOWING)
def float_overflow(tree: exp.Expr) -> exp.Expr:
    """EXP/COSH/SINH/COT/POW/arithmetic of FLOAT64: an infinite result from finite inputs
    raises."""
    for node in fresh(tree, *_OVERFLOWING):
        if isinstance(node, exp.Div):
            if node.meta.get("idcbq_ieee") or node.meta.get(NO_OVERFLOW):
                continue
            # BigQuery's / is FLOAT64 (or NUMERIC) division whatever the operands
            inputs, what = [node.this, node.expression], "operator /"
        elif isinstance(node, exp.Exp | exp.Cosh | exp.Sinh | exp.Cot):
            inputs, what = [node.this], f"function: {type(node).__name__.upper()}"
        elif isinstance(node, exp.Pow):
            inputs, what = [node.this, node.expression], "function: POW"
        else:
            floats = _is_float(node.this) or _is_float(node.expression)
            if not (floats or node.meta.get(FLOAT_ARITHMETIC)):
                continue
            inputs, what = [node.this, node.expression], f"operator {_symbol(node)}"
        result = exp.cast(node.copy(), "DOUBLE")
        bad = exp.and_(duck_call("isinf", result), finite(*inputs))
        problem = "error" if isinstance(node, exp.Cot) else "overflow"  # GoogleSQL's words
        detach(node).replace(guard(node, bad, f"Floating point {problem} in {what}"))
    return tree


def _symbol(node: exp.Expr) -> str:
    return {exp.Mul: "*", exp.Add: "+", exp.Sub: "-", exp.Div: "/"}[type(node)]


@handles(exp.Left, exp.Right)
def negative_length(tree: exp.Expr) -> exp.Expr:
    """``LEFT``/``RIGHT`` with a negative length raise (DuckDB cuts from the other end)."""
    for node in fresh(tree, exp.Left, exp.Right):
        n = node.expression
        name = "LEFT" if isinstance(node, exp.Left) else "RIGHT"
        bad = exp.LT(this=n.copy(), expression=exp.Literal.number(0))
        detach(node).replace(guard(node, bad, f"{name}: the length cannot be negative"))
    return tree


@handles(exp.Lead, exp.Lag)
def negative_offset(tree: exp.Expr) -> exp.Expr:
    """``LEAD``/``LAG`` with a negative offset raise (DuckDB reverses the direction)."""
    for node in fresh(tree, exp.Lead, exp.Lag):
        offset = node.args.get("offset")
        window = node.parent
        if offset is None or not isinstance(window, exp.Window):
            continue
        name = "LEAD" if isinstance(node, exp.Lead) else "LAG"
        bad = exp.LT(this=offset.copy(), expression=exp.Literal.number(0))
        detach(window).replace(guard(window, bad, f"{name}: the offset cannot be negative"))
    return tree


@handles(exp.Translate)
def translate_duplicates(tree: exp.Expr) -> exp.Expr:
    """``TRANSLATE(s, source, target)`` with a repeated source character raises."""
    for node in fresh(tree, exp.Translate):
        src = node.args.get("from_") or node.args.get("from")
        if src is None:
            continue
        chars = duck_call("string_split", src.copy(), exp.Literal.string(""))
        bad = exp.NEQ(  # both sides split alike: '' splits into [''], not []
            this=duck_call("len", chars.copy()),
            expression=duck_call("len", duck_call("list_distinct", chars)),
        )
        detach(node).replace(
            guard(node, bad, "TRANSLATE: duplicate character in the source characters")
        )
    return tree


@handles(exp.JSONPathWildcard, exp.JSONPathRecursive)
def json_wildcard(tree: exp.Expr) -> exp.Expr:
    """A JSONPath with a wildcard or recursive descent is an error (not BigQuery's JSONPath)."""
    for part in list(tree.find_all(*json_wildcard.handles)):
        path = part.find_ancestor(exp.JSONPath)
        call = path.parent if path is not None else None
        if call is None or call.meta.get(GUARDED):
            continue
        call.meta[GUARDED] = True
        token = "[*] or .*" if "Wildcard" in type(part).__name__ else ".."
        call.replace(_error(f"Unsupported JSONPath token {token} (BigQuery's JSONPath)"))
    return tree


_TEXT = (exp.DataType.Type.TEXT, exp.DataType.Type.VARCHAR, exp.DataType.Type.CHAR)
_BINARY = (exp.DataType.Type.BINARY, exp.DataType.Type.VARBINARY)


def _length_limit(to: exp.DataType) -> tuple[str, str] | None:
    """``("STRING", "2")`` for ``STRING(2)``, ``("BYTES", "3")`` for ``BYTES(3)``, else None."""
    params = to.expressions
    if not to.is_type(*_TEXT, *_BINARY) or len(params) != 1:
        return None
    if not isinstance(params[0].this, exp.Literal):
        return None
    return ("STRING" if to.is_type(*_TEXT) else "BYTES"), params[0].this.this


def _has_length_parameter(to: exp.DataType) -> bool:
    return any(isinstance(t, exp.DataType) and _length_limit(t) is not None for t in to.walk())


@handles(exp.Cast, exp.TryCast)
def length_parameters(tree: exp.Expr) -> exp.Expr:
    """``CAST(x AS STRING(n))``/``BYTES(n)`` of a longer value raise (DuckDB ignores ``n``);
    so does ``SAFE_CAST`` (GoogleSQL's SAFE_CAST raises too) and ``ARRAY<STRING(n)>``
    checks each element. A length parameter deeper inside (a STRUCT field): refused."""
    for node in fresh(tree, exp.Cast, exp.TryCast, key="idcbq_length"):
        to = node.to
        if not _has_length_parameter(to):
            continue
        element = to.expressions[0] if to.is_type(exp.DataType.Type.ARRAY) else None
        limit = _length_limit(element if element is not None else to)
        if limit is None:
            raise TranspileError(
                "unsupported on DuckDB: a STRING(n)/BYTES(n) length parameter inside "
                f"{to.sql(dialect='bigquery')} (DuckDB ignores it)",
                hint="CAST to the type without the length and check LENGTH, or use "
                "--engine bigquery",
            )
        name, size_limit = limit
        plain = exp.DataType.build("TEXT" if name == "STRING" else "BLOB")
        length = "length" if name == "STRING" else "octet_length"
        if element is None:
            node.set("to", plain)
            size = duck_call(length, node.copy())
        else:
            node.set("to", exp.DataType(this=exp.DataType.Type.ARRAY, expressions=[plain]))
            size = duck_fragment(f"list_max(list_transform(_v, e -> {length}(e)))", _v=node)
        bad = exp.GT(this=size, expression=exp.Literal.number(size_limit))
        message = f"{name}({size_limit}) has maximum length {size_limit}"
        detach(node).replace(guard(node, bad, message))
    return tree


#: NUMERIC's largest value (DuckDB's DECIMAL(38, 9) holds it, but a SUM may pass it).
NUMERIC_MAX = "99999999999999999999999999999.999999999"


def _over(node: exp.Expr) -> exp.Window | None:
    parent = node.parent
    return parent if isinstance(parent, exp.Window) and parent.this is node else None


def _like_window(window: exp.Window | None, call: exp.Expr) -> exp.Expr:
    """``call`` over the same window as ``window`` (or plain when there is none)."""
    if window is None:
        return call
    twin = window.copy()
    twin.set("this", call)
    return twin


@handles(exp.Sum, exp.Avg)
def aggregate_overflow(tree: exp.Expr) -> exp.Expr:
    """``SUM``/``AVG`` overflow raise as in BigQuery (DuckDB: inf, or a too-wide DECIMAL)."""
    for node in fresh(tree, exp.Sum, exp.Avg):
        if node.find_ancestor(exp.Pivot) is not None:
            continue  # DuckDB's PIVOT takes a bare aggregate (overflow there: not checked)
        arg = node.this
        if isinstance(arg, exp.Distinct):
            if len(arg.expressions) != 1:
                continue
            arg = arg.expressions[0]
        if node.meta.get(NO_OVERFLOW):
            continue
        window = _over(node)
        target = window or node
        name = "SUM" if isinstance(node, exp.Sum) else "AVG"
        finite_inputs = _like_window(
            window, duck_call("bool_and", duck_call("isfinite", exp.cast(arg.copy(), "DOUBLE")))
        )
        infinite = duck_call("isinf", exp.cast(target.copy(), "DOUBLE"))
        ifs = [exp.If(this=exp.and_(infinite, finite_inputs), true=_error("double overflow"))]
        if name == "SUM":
            numeric = exp.DataType.build("DECIMAL(38, 9)")
            is_numeric = exp.EQ(
                this=duck_call("typeof", target.copy()),
                expression=exp.Literal.string("DECIMAL(38,9)"),
            )
            too_big = exp.GT(
                this=duck_call("abs", exp.TryCast(this=target.copy(), to=numeric.copy())),
                expression=exp.cast(exp.Literal.string(NUMERIC_MAX), numeric),
            )
            ifs.append(
                exp.If(this=exp.and_(is_numeric, too_big), true=_error("numeric overflow: SUM"))
            )
        detach(target).replace(exp.Case(ifs=ifs, default=target))
    return tree


@handles(exp.GroupConcat)
def string_agg_null_separator(tree: exp.Expr) -> exp.Expr:
    """``STRING_AGG(x, sep)`` with a NULL separator raises (DuckDB joins without one)."""
    for node in fresh(tree, exp.GroupConcat):
        if node.find_ancestor(exp.Pivot) is not None:
            continue
        sep = node.args.get("separator")
        if sep is None or (isinstance(sep, exp.Literal) and sep.is_string):
            continue
        target = _over(node) or node
        bad = exp.Is(this=sep.copy(), expression=exp.null())
        detach(target).replace(guard(target, bad, "Illegal NULL separator in STRING_AGG"))
    return tree


_PLAIN_FORMATS = ("utf-8", "utf8")
_NON_ASCII = "[^\\x00-\\x7F]"


def cast_formats(tree: exp.Expr) -> exp.Expr:
    """``CAST(x AS STRING/BYTES FORMAT f)``: UTF-8 is a plain cast, ASCII one that raises on
    a non-ASCII character; other formats (base64, hex, base2, numeric formats, ...) are
    refused, since DuckDB's cast would drop the format. Runs before the other rewrites
    (they rewrite casts and would lose ``format``)."""
    for node in list(tree.find_all(exp.Cast)):
        fmt = node.args.get("format")
        if fmt is None or not node.to.is_type(*_TEXT, *_BINARY):
            continue
        name = fmt.this.lower() if isinstance(fmt, exp.Literal) and fmt.is_string else None
        if name not in (*_PLAIN_FORMATS, "ascii"):
            raise TranspileError(
                f"unsupported on DuckDB: CAST ... FORMAT {fmt.sql('bigquery')} "
                "(DuckDB would ignore the format)",
                hint="use TO_BASE64/FROM_BASE64, TO_HEX/FROM_HEX, FORMAT, or --engine bigquery",
            )
        node.set("format", None)
        if name == "ascii":
            text = node.this if node.to.is_type(*_BINARY) else node
            bad = exp.RegexpLike(this=text.copy(), expression=exp.Literal.string(_NON_ASCII))
            detach(node).replace(guard(node, bad, "Failed to decode invalid ASCII string"))
    return tree


@handles(exp.JSONExtract, exp.JSONExtractScalar, exp.JSONExtractArray)
@inspects
def json_path_literals(tree: exp.Expr) -> exp.Expr:
    """A literal JSONPath sqlglot could not read (``lax $.a``, ``$.a[``) is refused: DuckDB
    would read it by its own rules (BigQuery: lax/recursive modes, or an error)."""
    for node in tree.find_all(*json_path_literals.handles):
        path = node.args.get("expression")
        if isinstance(path, exp.Literal) and path.is_string:
            raise TranspileError(
                f"unsupported on DuckDB: the JSONPath {path.this!r} (lax/recursive modes "
                "or a path BigQuery rejects)",
                hint="use a plain '$...' path, or --engine bigquery",
            )
    return tree


@handles(exp.Anonymous)
def safe_guards(tree: exp.Expr) -> exp.Expr:
    """Inside ``SAFE.f(...)`` (DuckDB's ``TRY``, which refuses ``error()``) the errors
    these rewrites add are NULL, as BigQuery's SAFE. prefix makes them."""
    for call in list(tree.find_all(exp.Anonymous)):
        if not call.meta.get(OURS):
            continue
        parent = call.parent
        while parent is not None:
            if isinstance(parent, exp.Anonymous) and str(parent.this).lower() == "try":
                call.replace(exp.null())
                break
            parent = parent.parent
    return tree


def _raises(node: exp.Expr) -> bool:
    return any(str(f.this).lower() == "error" for f in node.find_all(exp.Anonymous))


@handles(exp.Anonymous)  # an alias of an error() call
def inline_guarded_aliases(tree: exp.Expr) -> exp.Expr:
    """A HAVING/QUALIFY reference to a SELECT alias whose expression may call ``error()``
    gets the expression itself: DuckDB refuses an alias of an expression with side
    effects there ("Alias referenced - but the expression has side effects"). The alias
    wins over a column of the same name there in both GoogleSQL and DuckDB. An ORDER BY
    key that is such an alias becomes its position in the SELECT list; inside an ORDER BY
    expression (NaN ordering) the alias gets the expression too."""
    for select in list(tree.find_all(exp.Select)):
        guarded = {
            p.alias.lower(): p.this
            for p in select.expressions
            if isinstance(p, exp.Alias) and p.alias and _raises(p.this)
        }
        if not guarded:
            continue
        _order_by_position(select, guarded)
        for key in ("having", "qualify"):
            clause = select.args.get(key)
            if clause is None:
                continue
            for column in list(clause.find_all(exp.Column)):
                if column.table or column.name.lower() not in guarded:
                    continue
                if column.find_ancestor(exp.Select) is not select:
                    continue  # inside a subquery: its own scope
                column.replace(exp.paren(guarded[column.name.lower()].copy()))
    return tree


def _order_by_position(select: exp.Select, guarded: dict[str, exp.Expr]) -> None:
    order = select.args.get("order")
    if order is None:
        return
    names = [p.alias_or_name.lower() for p in select.expressions]
    for key in order.expressions:
        if isinstance(key.this, exp.Column):
            name = key.this.name.lower()
            if not key.this.table and name in guarded and names.count(name) == 1:
                key.this.replace(exp.Literal.number(names.index(name) + 1))
            continue
        for column in list(key.find_all(exp.Column)):  # inside an expression (NaN order)
            name = column.name.lower()
            if column.table or name not in guarded or names.count(name) != 1:
                continue
            if column.find_ancestor(exp.Select) is select:
                column.replace(exp.paren(guarded[name].copy()))


ALL = (
    json_path_literals,
    ascii_non_ascii,
    regexp_instr_groups,
    regexp_extract_positions,
    like_trailing_backslash,
    regexp_replace_rewrite,
    offset_zones,
    float_overflow,
    negative_length,
    negative_offset,
    translate_duplicates,
    json_wildcard,
    aggregate_overflow,
    string_agg_null_separator,
    length_parameters,
    civil_ranges,
)
STEPS = (*ALL, inline_guarded_aliases, safe_guards)  # the translation runs them in its steps


def apply(tree: exp.Expr) -> exp.Expr:
    """All the rewrites above (:data:`STEPS`)."""
    return run_steps(tree, STEPS)
