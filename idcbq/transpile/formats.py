"""FORMAT_* and PARSE_* format elements, as GoogleSQL prints and reads them (issue 18 §5).

Each element was checked against GoogleSQL's reference implementation, one by one and per
function; only those that agree (as written, computed or spelled out) pass, any other
is refused (``_FORMATTED``, ``_FORMATTED_TIME``, ``_READ``): GoogleSQL prints an element
it lacks as written, cuts the text at some (``%f``), and reads others its own way. A
format that is not a literal cannot be checked: refused.

sqlglot maps BigQuery's elements to strftime's when it parses (``%D`` -> ``%m/%d/%y``);
:class:`~idcbq.transpile.dialects.GoogleSQLText` keeps ``%F %E6S %e %c`` as written.
Printed otherwise by DuckDB's ``strftime``, and computed or spelled here:

- ``%e`` (and the ``%e`` inside ``%c``): the day padded with a space (DuckDB: no padding);
- ``%Y``: no padding below year 1000 (``%c``'s year has 4 digits);
- ``%g``: the ISO year's last two digits (DuckDB: milliseconds); ``%C`` the century,
  ``%Q`` the quarter (DuckDB: an error);
- ``%n``/``%t``: a newline/tab (DuckDB: nanoseconds/an error);
- ``%R``/``%r``: ``%H:%M`` and ``%I:%M:%S %p`` (DuckDB: an error);
- ``%z``/``%Z`` of a DATETIME: printed as written (a DATETIME has no zone; DuckDB: ``+00``).

``FORMAT_DATE`` of a DATETIME or TIMESTAMP formats its time of day too (GoogleSQL's
extended signatures); of a DATE, GoogleSQL prints time elements as written, which the
parsed format no longer tells (``%T`` is ``%H:%M:%S`` by then): refused, loud.
Probes: ``tests/probes/dates_more.yaml`` (``format_element_*``), ``format_elements.yaml``.

Example:
    >>> import sqlglot
    >>> tree = sqlglot.parse_one("SELECT FORMAT_DATE('%g', d) FROM t", read="bigquery")
    >>> "ISOYEAR" in format_elements(tree).sql("duckdb")
    True
"""

from __future__ import annotations

import re

from sqlglot import exp

from idcbq.errors import TranspileError
from idcbq.transpile.nan_unknown import FRAGMENT
from idcbq.transpile.numeric import duck_fragment
from idcbq.transpile.rewrites import detach
from idcbq.transpile.rules import handles, inspects
from idcbq.transpile.semantics import T
from idcbq.transpile.semantics import is_typed as _typed

_TOKEN = re.compile(r"%(?:E[0-9*]*[A-Za-z]|O[A-Za-z]|[-_^#0-9]*[A-Za-z%])")  # %E3S whole, not %E
#: Elements of a time of day (after sqlglot's mapping: ``%T`` is ``%H:%M:%S`` then).
_TIME_ELEMENTS = set("HIMSpfXrRklPzZs")
#: Computed pieces: element -> DuckDB fragment of the value ``_v``.
_COMPUTED = {
    "%e": "lpad(CAST(day(_v) AS VARCHAR), 2, ' ')",
    "%Y": "CAST(year(_v) AS VARCHAR)",  # GoogleSQL pads no year below 1000
    "%g": "lpad(CAST(isoyear(_v) % 100 AS VARCHAR), 2, '0')",
    "%C": "lpad(CAST(year(_v) // 100 AS VARCHAR), 2, '0')",
    "%Q": "CAST(quarter(_v) AS VARCHAR)",
}
_MICROS = "lpad(CAST(microsecond(_v) % 1000000 AS VARCHAR), 6, '0')"
_COMPUTED.update(
    {
        "%E4Y": "lpad(CAST(year(_v) AS VARCHAR), 4, '0')",
        "%E*S": f"strftime(_v, '%S') || CASE WHEN microsecond(_v) % 1000000 = 0 THEN '' "
        f"ELSE '.' || rtrim({_MICROS}, '0') END",
        "%s": "CAST(CAST(floor(epoch(_v)) AS BIGINT) AS VARCHAR)",
        # %E<n>S: n digits of the fraction, cut (not rounded)
        **{f"%E{n}S": f"strftime(_v, '%S') || '.' || left({_MICROS}, {n})" for n in range(1, 6)},
    }
)
#: Elements that are other strftime text.
_SPELLED = {
    "%n": "\n",
    "%t": "\t",
    "%R": "%H:%M",
    "%r": "%I:%M:%S %p",
    "%F": "%Y-%m-%d",
    "%E6S": "%S.%f",
}
_DATE_ONLY = "idcbq_format_date_of_date"


#: Elements each function prints or reads as GoogleSQL does (checked one by one against the
#: reference implementation); any other element is refused: GoogleSQL prints unknown
#: elements as written, cuts the text at some (``%f``), and reads others its own way.
_LETTERS = frozenset("%" + c for c in "abcdeghjmnprstuwxyzABCDFGHIMQRSTUVWXYZ%")
_FORMATTED = _LETTERS | {"%-d", "%-m", "%E4Y", "%E*S"} | {f"%E{n}S" for n in range(1, 7)}
_FORMATTED_TIME = (
    frozenset("%" + c for c in "nprtHIMRSTX%") | {"%E*S"} | {f"%E{n}S" for n in range(1, 7)}
)
_READ = frozenset("%" + c for c in "aAbBhdDeHIjmMpSTxXyY%") | {"%-d", "%-m"}


def _refuse_elements(name: str, tokens: list[str], known: frozenset[str]) -> None:
    unknown = sorted({t for t in tokens if t not in known})
    if unknown:
        raise TranspileError(
            f"unsupported on DuckDB: {name} with the format element(s) {', '.join(unknown)} "
            "(GoogleSQL prints or reads them otherwise)",
            hint="use other format elements, or --engine bigquery",
        )


def _is_time_element(token: str) -> bool:
    letter = token[-1]
    return letter in _TIME_ELEMENTS or (token.startswith("%E") and letter == "S")


@handles(exp.TimeToStr)
def format_date_of_datetime(tree: exp.Expr) -> exp.Expr:
    """Typed: ``FORMAT_DATE(fmt, datetime_or_timestamp)`` formats the whole value."""
    for node in tree.find_all(exp.TimeToStr):
        arg = node.this
        if isinstance(arg, exp.TsOrDsToDate) and _typed(
            arg.this, T.DATETIME, T.TIMESTAMP, T.TIMESTAMPTZ, T.TIMESTAMPLTZ
        ):
            arg.replace(exp.TsOrDsToDatetime(this=arg.this.copy()))
    return tree


def needs_types(tree: exp.Expr) -> bool:
    """True if a FORMAT_DATE's format holds a time element (its argument's type decides)."""
    for node in tree.find_all(exp.TimeToStr):
        fmt = node.args.get("format")
        if (
            isinstance(node.this, exp.TsOrDsToDate)
            and isinstance(fmt, exp.Literal)
            and any(_is_time_element(t) for t in _TOKEN.findall(_expand_c(fmt.this, "%Y")))
        ):
            return True
    return False


FORMAT_TIME = "idcbq_format_time"  # meta: a FORMAT_TIME whose value became a timestamp
_FORMAT_NAMES = {exp.TsOrDsToDate: "FORMAT_DATE", exp.TsOrDsToDatetime: "FORMAT_DATETIME"}


def _expand_c(text: str, year: str) -> str:
    """``%c`` spelled out (GoogleSQL prints its year with 4 digits, ``%Y`` unpadded)."""
    return _TOKEN.sub(
        lambda m: f"%a %b %e %H:%M:%S {year}" if m.group(0) == "%c" else m.group(0), text
    )


def _literal_format(node: exp.Expr, name: str) -> str:
    fmt = node.args.get("format")
    if not (isinstance(fmt, exp.Literal) and fmt.is_string):
        raise TranspileError(
            f"unsupported on DuckDB: {name} with a format that is not a string literal "
            "(its elements decide the translation)",
            hint="write the format as a literal, or --engine bigquery",
        )
    return fmt.this


@handles(exp.TimeToStr)
def format_elements(tree: exp.Expr) -> exp.Expr:
    """Rewrite each literal format as strftime pieces GoogleSQL's elements print."""
    for node in list(tree.find_all(exp.TimeToStr)):
        if node.meta.get(FRAGMENT):
            continue  # the translation's own strftime
        is_time = node.meta.get(FORMAT_TIME) or isinstance(node.this, exp.TsOrDsToTime)
        name = "FORMAT_TIME" if is_time else _FORMAT_NAMES.get(type(node.this), "FORMAT_TIMESTAMP")
        text = _expand_c(_literal_format(node, name), "%E4Y")
        tokens = _TOKEN.findall(text)
        _refuse_elements(name, tokens, _FORMATTED_TIME if is_time else _FORMATTED)
        if not text:  # nothing to print; DuckDB's strftime refuses an empty format
            known = [node.this, *([node.args["zone"]] if node.args.get("zone") else [])]
            nulls = exp.or_(*(exp.Is(this=v.copy(), expression=exp.null()) for v in known))
            empty = exp.Case(
                ifs=[exp.If(this=nulls, true=exp.null())], default=exp.Literal.string("")
            )
            detach(node).replace(empty)
            continue
        if node.args.get("zone") or isinstance(node.this, exp.TsOrDsToTime):
            continue  # zones.apply_untyped / dates.time_functions first
        is_date = isinstance(node.this, exp.TsOrDsToDate)
        if is_date and any(_is_time_element(t) for t in tokens):
            raise TranspileError(
                "unsupported on DuckDB: FORMAT_DATE with a time-of-day element of a value "
                f"not known to be a DATETIME/TIMESTAMP: {node.sql(dialect='bigquery')}",
                hint="use FORMAT_DATETIME, or --engine bigquery",
            )
        is_datetime = isinstance(node.this, exp.TsOrDsToDatetime)
        if not any(
            t in _COMPUTED or t in _SPELLED or (is_datetime and t in ("%z", "%Z")) for t in tokens
        ):
            continue
        node.replace(exp.paren(_pieces(node, text, is_datetime)))
    return tree


#: A PARSE_* whose only hour is a 12-hour ``%I`` without ``%p`` (12 reads as hour 0).
HOUR_TWELVE = "idcbq_hour_twelve"
#: Elements that read an hour other than ``%I`` (``%T``, ``%X``: ``%H:%M:%S``).
_OTHER_HOURS = frozenset({"%H", "%T", "%X"})
#: Elements of no date or time part (literal text, white space).
_NEUTRAL = frozenset({"%%", "%n", "%t"})
_PARSES = {
    exp.StrToDate: "PARSE_DATE",
    exp.StrToTime: "PARSE_TIMESTAMP",
    exp.ParseDatetime: "PARSE_DATETIME",
    exp.ParseTime: "PARSE_TIME",
}


@inspects
@handles(*_PARSES)
def parse_elements(tree: exp.Expr) -> exp.Expr:
    """Refuse a PARSE_* format whose elements DuckDB's strptime reads otherwise.

    Only elements both read alike pass (``_READ``): GoogleSQL does not read a date from
    week numbers or weekdays (NULL), ``%n``/``%t`` match any white space, ``%z`` takes
    no ``+05:30``, ``%F`` is not read at all, ``%E6S`` reads seconds without a fraction.
    ``PARSE_DATE`` with a time-of-day element, ``PARSE_TIME`` with a date element, are
    errors in GoogleSQL; DuckDB read them. GoogleSQL's ``%e`` is DuckDB's ``%-d``.
    """
    for node in tree.find_all(*_PARSES):
        if node.meta.get(FRAGMENT):
            continue
        name = _PARSES[type(node)]
        text = _expand_c(_literal_format(node, name), "%Y")
        tokens = _TOKEN.findall(text)
        _refuse_elements(name, tokens, _READ)
        apart = []
        if isinstance(node, exp.StrToDate):
            apart += sorted({t for t in tokens if _is_time_element(t)})
        if isinstance(node, exp.ParseTime):  # GoogleSQL: a date element is an error
            apart += sorted({t for t in tokens if not _is_time_element(t) and t not in _NEUTRAL})
        # GoogleSQL's %p moves only a 12-hour %I (%H 13 stays, %I 12 alone is 0);
        # DuckDB's moves any hour. %I alone, the only hour read: dates.hour_twelve_is_zero.
        zoned = isinstance(node, exp.StrToTime) and node.args.get("zone") is not None
        if "%I" in tokens and "%p" not in tokens and not _OTHER_HOURS.intersection(tokens):
            if zoned:
                apart.append("%I")
            node.meta[HOUR_TWELVE] = True
        elif ("%p" in tokens) != ("%I" in tokens):
            apart += ["%p" if "%p" in tokens else "%I"] + (["%H"] if "%H" in tokens else [])
        if apart:
            raise TranspileError(
                f"unsupported on DuckDB: {name} with {', '.join(apart)} reads text "
                "otherwise than GoogleSQL",
                hint="parse with other elements, or --engine bigquery",
            )
        spelled = _TOKEN.sub(lambda m: "%-d" if m.group(0) == "%e" else m.group(0), text)
        node.set("format", exp.Literal.string(spelled))
    return tree


def _pieces(node: exp.TimeToStr, text: str, is_datetime: bool) -> exp.Expr:
    """``strftime(v, 'a') || <computed> || strftime(v, 'b')``... for one format."""
    out: list[exp.Expr] = []
    buf: list[str] = []

    def flush() -> None:
        if "".join(buf):  # DuckDB refuses an empty format
            piece = node.copy()
            piece.set("format", exp.Literal.string("".join(buf)))
            out.append(piece)
            buf.clear()

    pos = 0
    for match in _TOKEN.finditer(text):
        buf.append(text[pos : match.start()])
        pos = match.end()
        token = match.group(0)
        if token in _COMPUTED:
            flush()
            fragment = duck_fragment(_COMPUTED[token], _v=node.this.copy())
            for div in fragment.find_all(exp.Mod, exp.IntDiv):
                div.meta["idcbq_div"] = True  # a constant non-zero divisor
            out.append(fragment)
        elif token in _SPELLED:
            buf.append(_SPELLED[token])
        elif is_datetime and token in ("%z", "%Z"):
            buf.append("%" + token)  # printed as written
        else:
            buf.append(token)
    buf.append(text[pos:])
    flush()
    text_expr = out[0]
    for piece in out[1:]:
        text_expr = exp.DPipe(this=text_expr, expression=piece)
    return text_expr
