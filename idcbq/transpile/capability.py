"""What the DuckDB path can run: a fail-closed allow-list of BigQuery functions and constructs.

DuckDB answers a BigQuery query only through idcbq's transpiler, and the transpiler is only
faithful for what its rules (``functions``, ``semantics``, ``typed``, ``rewrites``, ...) and
the probes (``tests/probes``) cover, plus functions whose DuckDB namesake has the same
semantics. Anything else (``FARM_FINGERPRINT``, ``NET.HOST``, ``ST_GEOGPOINT``, ``FOR
SYSTEM_TIME AS OF``, a UDF) is refused before DuckDB sees it, with an idcbq error naming the
construct and the engines that can run it, instead of DuckDB's own text about SQL the user
never wrote ("Did you mean ...", "INSTALL inet", a parser error).

To let a function through, add its BigQuery name (upper case, as written in BigQuery; a
dotted name such as ``NET.HOST`` in full) to :data:`DUCKDB_FUNCTIONS`, with a probe in
``tests/probes`` showing DuckDB's answer equals GoogleSQL's.

Example:
    >>> import sqlglot
    >>> require_duckdb(sqlglot.parse_one("SELECT SAFE_DIVIDE(1, 2)", read="bigquery"))
    >>> try:
    ...     require_duckdb(sqlglot.parse_one("SELECT FARM_FINGERPRINT('a')", read="bigquery"))
    ... except UnsupportedOnEngine as exc:
    ...     print(exc.message)
    FARM_FINGERPRINT is not supported on duckdb; engines that can run it: bigquery, googlesql
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator

from sqlglot import exp

from idcbq.errors import TranspileError

#: Engines that run BigQuery SQL as written (BigQuery itself and GoogleSQL's reference
#: implementation), named by errors about what DuckDB cannot run.
NATIVE_ENGINES: tuple[str, ...] = ("bigquery", "googlesql")

#: BigQuery functions the DuckDB path runs with BigQuery's answers. Fail closed: a function
#: not listed here is refused on DuckDB. A name is what :func:`function_name` gives: upper
#: case, as the user wrote it (synonyms such as ``CEIL``/``CEILING`` are listed each);
#: operators and syntax (``DIV``, ``MOD``, ``[OFFSET(i)]``, ``SAFE.``) are not function calls
#: here. Each name is called by a probe in ``tests/probes`` whose DuckDB answer equals
#: GoogleSQL's (``tests/test_capability.py`` checks it).
DUCKDB_FUNCTIONS: frozenset[str] = frozenset(
    """
    ARRAY_FIRST ARRAY_IS_DISTINCT ARRAY_LAST GROUPING PARSE_TIME
    BIT_COUNT BOOL CODE_POINTS_TO_STRING FLOAT64 INT64 FORMAT_TIME JSON_TYPE PARSE_TIMESTAMP RANGE_BUCKET
    TIME_TRUNC TO_CODE_POINTS
    DATE_BUCKET DATETIME_BUCKET TIMESTAMP_BUCKET FROM_BASE64 JSON_EXTRACT_STRING_ARRAY JSON_QUERY_ARRAY TIME_DIFF TIME_SUB
    ABS ACOS ACOSH ANY_VALUE APPROX_COUNT_DISTINCT ARRAY ARRAY_AGG ARRAY_CONCAT ARRAY_CONCAT_AGG
    ARRAY_LENGTH ARRAY_REVERSE ARRAY_TO_STRING ASCII ASIN ASINH ATAN ATAN2 ATANH AVG BIT_AND
    BIT_OR BIT_XOR BYTE_LENGTH CASE CAST CBRT CEIL CEILING CHARACTER_LENGTH CHAR_LENGTH CHR
    COALESCE CONCAT CORR COS COSH COT COUNT COUNTIF COVAR_POP COVAR_SAMP CUME_DIST CURRENT_DATE
    CURRENT_DATETIME CURRENT_TIME CURRENT_TIMESTAMP DATE DATETIME DATETIME_ADD DATETIME_DIFF DATETIME_SUB
    DATETIME_TRUNC DATE_ADD DATE_DIFF DATE_FROM_UNIX_DATE DATE_SUB DATE_TRUNC DENSE_RANK
    EDIT_DISTANCE ENDS_WITH ERROR EXISTS EXP EXTRACT FIRST_VALUE FLOOR FORMAT FORMAT_DATE
    FORMAT_DATETIME FORMAT_TIMESTAMP FROM_HEX GENERATE_ARRAY GENERATE_DATE_ARRAY GENERATE_TIMESTAMP_ARRAY GENERATE_UUID
    GREATEST IEEE_DIVIDE IF IFNULL INITCAP INSTR IS_INF IS_NAN JSON_EXTRACT JSON_EXTRACT_ARRAY
    JSON_EXTRACT_SCALAR JSON_QUERY JSON_VALUE JSON_VALUE_ARRAY LAG LAST_DAY LAST_VALUE LEAD
    LEAST LEFT LENGTH LN LOG LOG10 LOGICAL_AND LOGICAL_OR LOWER LPAD LTRIM MAX MD5 MIN NTH_VALUE
    NTILE NULLIF OCTET_LENGTH PARSE_DATE PARSE_DATETIME PARSE_JSON PERCENTILE_CONT PERCENT_RANK POW POWER
    RAND RANK REGEXP_CONTAINS REGEXP_EXTRACT REGEXP_EXTRACT_ALL REGEXP_INSTR REGEXP_REPLACE
    REGEXP_SUBSTR REPEAT REPLACE REVERSE RIGHT ROUND ROW_NUMBER RPAD RTRIM SAFE_ADD SAFE_CAST
    SAFE_DIVIDE SAFE_MULTIPLY SAFE_NEGATE SAFE_SUBTRACT SHA1 SHA256 SIGN SIN SINH SPLIT SQRT
    STARTS_WITH STDDEV STDDEV_POP STDDEV_SAMP STRING STRING_AGG STRPOS STRUCT SUBSTR SUBSTRING
    SPLIT_SUBSTR SUM TAN TANH TIME TIMESTAMP TIMESTAMP_ADD TIMESTAMP_DIFF TIMESTAMP_MICROS TIMESTAMP_MILLIS
    TIMESTAMP_SECONDS TIMESTAMP_SUB TIMESTAMP_TRUNC TIME_ADD TO_BASE64 TO_HEX TO_JSON_STRING
    TRANSLATE TRIM TRUNC UNICODE UNIX_DATE UNIX_MICROS UNIX_MILLIS UNIX_SECONDS UNNEST UPPER
    VARIANCE VAR_POP VAR_SAMP WEEK
    """.split()  # noqa: SIM905 (one word per name reads as the list it is)
)

#: A cast of a value to INTERVAL (an interval literal is no cast): see REASONS.
TEXT_TO_INTERVAL = "CAST to INTERVAL"

#: Why a construct is refused on DuckDB, where a reason helps more than the engines' names.
REASONS: dict[str, str] = {
    TEXT_TO_INTERVAL: "DuckDB reads other interval texts than BigQuery: BigQuery's '1-2' "
    "and 'PT1H' are NULL or an error in DuckDB, its '1' (one second) is none in BigQuery",
}

#: Query constructs (not functions) the DuckDB path refuses, by sqlglot node type.
REFUSED_CONSTRUCTS: dict[type[exp.Expr], str] = {
    exp.Version: "FOR SYSTEM_TIME AS OF",
    exp.MatchRecognize: "MATCH_RECOGNIZE",
}

#: Constructs GoogleSQL's reference implementation cannot run either (it has no table
#: history, geography, encryption or sketch functions): only BigQuery can. Names are exact
#: or, ending in ".", a prefix; anything else refused on DuckDB runs on both native engines.
BIGQUERY_ONLY: tuple[str, ...] = (
    "FOR SYSTEM_TIME AS OF", "ST_", "S2_", "KEYS.", "AEAD.", "DETERMINISTIC_", "HLL_COUNT.",
    "APPROX_QUANTILES", "APPROX_TOP_COUNT", "APPROX_TOP_SUM", "ML.", "AI.", "VECTOR_SEARCH",
    "SESSION_USER", "EXTERNAL_QUERY", "CONTAINS_SUBSTR", "SEARCH",
)  # fmt: skip


def engines_for(construct: str) -> tuple[str, ...]:
    """The engines that run ``construct`` as BigQuery does (for errors about DuckDB)."""
    for known in BIGQUERY_ONLY:
        if construct == known or (known.endswith((".", "_")) and construct.startswith(known)):
            return ("bigquery",)
    if "." in construct and not construct.startswith(("NET.", "SAFE.")):
        return ("bigquery",)  # a routine in a dataset (UDF) exists only in BigQuery
    return NATIVE_ENGINES


#: Syntax the DuckDB path runs that sqlglot models as a function call.
DUCKDB_CONSTRUCTS: frozenset[str] = frozenset({"SAFE."})

_LEADING_NAME = re.compile(r"\s*`?([A-Za-z_][A-Za-z0-9_.]*)`?\s*(?:\(|$)")


class UnsupportedOnEngine(TranspileError):
    """A BigQuery construct the chosen engine cannot run (other engines can).

    Attributes:
        construct: the construct as BigQuery spells it (``FARM_FINGERPRINT``, ``NET.HOST``).
        engine: the engine that cannot run it.
        engines: the engines that can.
    """

    def __init__(self, construct: str, *, engine: str = "duckdb", engines=None):
        self.construct = construct
        self.engine = engine
        self.engines = tuple(engines_for(construct) if engines is None else engines)
        reason = f" ({REASONS[construct]})" if engine == "duckdb" and construct in REASONS else ""
        super().__init__(
            f"{construct} is not supported on {engine}{reason}; engines that can run it: "
            + ", ".join(self.engines),
            hint="run it with " + " or ".join(f"--engine {e}" for e in self.engines),
        )


def function_name(node: exp.Func) -> str:
    """The BigQuery name of a function call node, upper case (``NET.HOST``, ``SAFE.SUBSTR``).

    sqlglot parses most BigQuery functions into typed nodes whose BigQuery spelling is what
    its BigQuery generator writes; an unknown function stays ``Anonymous`` with its name.
    """
    if isinstance(node, exp.Anonymous):
        return str(node.name).upper()
    if isinstance(node, exp.NetFunc):
        return "NET." + function_name(node.this) if isinstance(node.this, exp.Func) else "NET"
    if isinstance(node, exp.SafeFunc):
        inner = node.this
        return "SAFE." + (function_name(inner) if isinstance(inner, exp.Func) else "?")
    written = node.meta.get(_WRITTEN_NAME)
    if isinstance(written, str) and written:
        return written.upper()  # the name as the user wrote it (sqlglot's parser keeps it)
    generator = _bigquery_generator()
    if type(node) not in getattr(generator, "_dispatch", ()):
        # Written by the generic function fallback: its name without rendering the arguments.
        return generator.function_name(node).upper()
    key = _shape(node)
    name = _RENDERED_NAMES.get(key)
    if name is None:
        # The generator writes this class its own way: its name is what it writes first.
        # Rendering is costly (the whole subtree), so names are cached per node shape.
        match = _LEADING_NAME.match(node.sql(dialect="bigquery"))
        name = match.group(1).upper() if match else node.sql_name().upper()
        _RENDERED_NAMES[key] = name
    return name


_RENDERED_NAMES: dict[tuple, str] = {}
#: Where sqlglot's BigQuery parser keeps a function's name as written (``CEILING``, ``STRPOS``).
_WRITTEN_NAME = "bigquery_name"


def _shape(node: exp.Func) -> tuple:
    """What a generator's choice of name can depend on: the class, its flags, its children's types."""
    parts: list[object] = [type(node)]
    for key, value in sorted(node.args.items()):
        if isinstance(value, exp.Expr):
            parts.append((key, _child(value)))
        elif isinstance(value, list):
            parts.append((key, tuple(_child(v) for v in value)))
        elif value is not None:
            parts.append((key, repr(value)))
    return tuple(parts)


def _child(value: object) -> object:
    """A child's part of a shape: its type, and its text if a leaf (a literal, a keyword)."""
    if isinstance(value, (exp.Literal, exp.Var, exp.Boolean, exp.DataType)):
        return (type(value), value.sql(dialect="bigquery"))
    return type(value)


@functools.cache
def _bigquery_generator():
    from sqlglot.dialects.dialect import Dialect

    return Dialect.get_or_raise("bigquery").generator()


def constructs(tree: exp.Expr) -> Iterator[str]:
    """Every function and refused construct in ``tree``, by BigQuery name, in tree order."""
    skip: set[int] = set()
    interesting = (exp.Func, exp.Dot, exp.HavingMax, *REFUSED_CONSTRUCTS)
    for node in tree.walk():
        if not isinstance(node, interesting) or id(node) in skip:
            continue
        refused = REFUSED_CONSTRUCTS.get(type(node))
        if refused:
            yield refused
        elif isinstance(node, exp.HavingMax):
            agg = node.find_ancestor(exp.AggFunc)
            if not isinstance(agg, exp.AnyValue):  # ANY_VALUE's is translated
                name = function_name(agg) if agg is not None else "an aggregate"
                yield f"{name} with HAVING MAX or HAVING MIN"
        elif isinstance(node, exp.Dot) and isinstance(node.expression, exp.Func):
            # `dataset.fn(...)`, `KEYS.NEW_KEYSET(...)`: a routine outside BigQuery's functions.
            skip.add(id(node.expression))
            yield f"{node.this.sql(dialect='bigquery')}.{function_name(node.expression)}".upper()
        elif isinstance(node, exp.NetFunc):
            skip.add(id(node.this))  # HOST of NET.HOST is not a function of its own
            yield function_name(node)
        elif (
            isinstance(node, exp.Cast)
            and node.to.is_type(exp.DataType.Type.INTERVAL)
            and not isinstance(node.this, exp.Null | exp.Interval)  # NULL, a literal: as is
        ):
            yield TEXT_TO_INTERVAL  # SAFE_CAST too: NULL where BigQuery reads the text
        elif isinstance(node, exp.SafeFunc):
            yield "SAFE."  # the prefix; the function it wraps is checked on its own
        elif isinstance(node, exp.Func) and not isinstance(node, _NOT_CALLS):
            yield function_name(node)


# Nodes sqlglot models as functions that are operators or syntax in BigQuery, each handled
# by the transpiler as part of the expression language.
_NOT_CALLS: tuple[type[exp.Expr], ...] = (exp.Bracket, exp.Paren, exp.Connector)


def duckdb_refusals(tree: exp.Expr) -> list[str]:
    """The constructs in ``tree`` the DuckDB path cannot run (distinct, in tree order)."""
    refused: list[str] = []
    for name in constructs(tree):
        if name not in DUCKDB_FUNCTIONS and name not in DUCKDB_CONSTRUCTS and name not in refused:
            refused.append(name)
    return refused


def require_duckdb(tree: exp.Expr) -> None:
    """Raise :class:`UnsupportedOnEngine` for the first construct DuckDB cannot run.

    Args:
        tree: a BigQuery query as parsed by sqlglot (before any DuckDB rewrite).
    """
    refused = duckdb_refusals(tree)
    if refused:
        raise UnsupportedOnEngine(refused[0])
