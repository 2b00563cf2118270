"""Regenerate ``idcbq/data/bigquery_features.json``: ZetaSQL language features -> BigQuery.

Every ZetaSQL ``LanguageFeature`` the installed ``zetasql`` package knows gets an entry
``{"bigquery": true|false, "source": <BigQuery documentation URL>, "note": ...}``. The
decisions are the RULES below (first match wins), each citing the page of BigQuery's
public documentation that shows the feature (or its absence: the page that lists what
BigQuery has instead). Features ZetaSQL itself has not released (not in its maximum
feature set) are off. The analyzer's language options are built from the file
(:func:`idcbq.engines.googlesql.analysis.language_options`).

Usage:
    python -m idcbq.scripts.bigquery_features            # rewrite the JSON
    python -m idcbq.scripts.bigquery_features --check    # exit 1 if it is stale
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "data" / "bigquery_features.json"
DOC = "https://cloud.google.com/bigquery/docs/reference/standard-sql/"
QUERY = DOC + "query-syntax"
FUNCS = DOC + "functions-all"
TYPES = DOC + "data-types"
DDL = DOC + "data-definition-language"
DML = DOC + "dml-syntax"
SCRIPT = DOC + "procedural-language"
PIPE = DOC + "pipe-syntax"
OPS = DOC + "operators"
CONV = DOC + "conversion_functions"
JSONF = DOC + "json_functions"
ARRF = DOC + "array_functions"
MATH = DOC + "mathematical_functions"
LEXICAL = DOC + "lexical"
AGG = DOC + "aggregate-function-calls"
WIN = DOC + "window-function-calls"

#: (pattern on the feature name without FEATURE_/V_1_x_, BigQuery has it, source, note)
RULES: list[tuple[str, bool, str, str]] = [
    # Restrictions BigQuery applies (enabling the feature forbids something).
    (
        r"DISALLOW_GROUP_BY_FLOAT",
        True,
        TYPES + "#groupable_data_types",
        "FLOAT64 is not groupable in BigQuery",
    ),
    (
        r"DISALLOW_PIVOT_AND_UNPIVOT_ON_ARRAY_SCANS",
        True,
        QUERY + "#pivot_operator",
        "PIVOT input is a table expression",
    ),
    (
        r"ENFORCE_MICROS_MODE_IN_INTERVAL_TYPE",
        True,
        TYPES + "#interval_type",
        "INTERVAL has microsecond precision",
    ),
    (
        r"DISABLE_|DISALLOW_|TEST_|DEPRECATED_|STRICT_|ENFORCE_",
        False,
        QUERY,
        "test switch or restriction BigQuery does not document",
    ),
    # Types BigQuery lacks.
    (
        r"PROTO|ENUM_VALUE|ONEOF|FILTER_FIELDS|REPLACE_FIELDS",
        False,
        TYPES,
        "BigQuery has no PROTO or ENUM types",
    ),
    (
        r"EXTENDED_TYPES|UINT64|FLOAT32|UUID_TYPE|MAP_TYPE|ROW_TYPE",
        False,
        TYPES,
        "no INT32/UINT32/UINT64/FLOAT32/UUID/MAP types in BigQuery",
    ),
    (
        r"TIMESTAMP_NANOS|TIMESTAMP_PICOS|TIMESTAMP_PRECISION",
        False,
        TYPES + "#timestamp_type",
        "TIMESTAMP has microsecond precision",
    ),
    # Query syntax BigQuery lacks.
    (r"AGGREGATE_FILTERING", False, AGG, "no WHERE/FILTER inside aggregate calls"),
    (
        r"SQL_GRAPH|GRAPH_PATH|MATCH_MAKE_STRUCT|PROPERTY_GRAPH",
        False,
        QUERY,
        "GQL graph queries are not part of BigQuery's GoogleSQL query syntax",
    ),
    (r"MATCH_RECOGNIZE", False, QUERY, "MATCH_RECOGNIZE is not in the query syntax page"),
    (r"LATERAL", False, QUERY + "#join_types", "no LATERAL joins"),
    (
        r"MULTIWAY_UNNEST|UNNEST_AND_FLATTEN|SINGLE_TABLE_NAME_ARRAY_PATH",
        False,
        QUERY + "#unnest_operator",
        "UNNEST takes one array",
    ),
    (r"MULTILEVEL_AGGREGATION", False, AGG, "no GROUP BY inside aggregate calls"),
    (
        r"WITH_EXPRESSION|CHAINED_FUNCTION_CALLS|INLINE_LAMBDA|SAFE_FUNCTION_CALL_WITH_LAMBDA",
        False,
        FUNCS,
        "no WITH(...) expressions, chained calls or lambdas",
    ),
    (r"ENABLE_MEASURES|MEASURES_TVF", False, QUERY, "no measures"),
    (
        r"STRUCT_POSITIONAL_ACCESSOR|STRUCT_BRACED",
        False,
        OPS + "#field_access_operator",
        "struct fields are read by name",
    ),
    (r"ARRAY_EQUALITY", False, TYPES + "#array_type", "ARRAY values are not comparable"),
    (r"ARRAY_ORDERING", False, TYPES + "#orderable_data_types", "ARRAY is not orderable"),
    (r"JSON_TYPE_COMPARISON", False, TYPES + "#json_type", "JSON is not comparable"),
    (
        r"ARRAY_ZIP|ARRAY_FIND|ARRAY_GREATEST_LEAST|ARRAY_AGGREGATION_FUNCTIONS|FIRST_AND_LAST_N",
        False,
        ARRF,
        "not in BigQuery's array functions",
    ),
    (
        r"DOT_PRODUCT|L1_NORM|L2_NORM|MANHATTAN|FLOAT_DISTANCE",
        False,
        MATH,
        "not in BigQuery's mathematical functions",
    ),
    (
        r"PI_FUNCTIONS|TYPEOF|NULLIFZERO|KLL_WEIGHTS|RELATIVE_RANK|EDIT_DISTANCE_BYTES",
        False,
        FUNCS,
        "not in BigQuery's function list",
    ),
    (
        r"IMPLICIT_COERCION_STRING_LITERAL_TO_BYTES|LITERAL_CONCATENATION",
        False,
        CONV + "#coercion",
        "no implicit STRING literal to BYTES coercion",
    ),
    (
        r"ALLOW_SLASH_PATHS|ALLOW_CONSECUTIVE_ON|STRATIFIED_RESERVOIR|TABLESAMPLE_FROM_TABLE_VALUED",
        False,
        QUERY,
        "not in BigQuery's query syntax",
    ),
    (
        r"EXPERIMENTAL|MODULES|LEGACY_ROW_ACCESS|DIFFERENTIAL_PRIVACY_PER",
        False,
        QUERY,
        "not in BigQuery",
    ),
    (
        r"PIPE_(FORK|TEE|IF|CREATE_TABLE|INSERT|EXPORT_DATA|DESCRIBE|STATIC_DESCRIBE|ASSERT|"
        r"CALL_INPUT_TABLE|LOG|RECURSIVE_UNION|NAMED_WINDOWS)",
        False,
        PIPE,
        "pipe operator not in BigQuery's pipe syntax page",
    ),
    (
        r"DML_RETURNING|INSERT_ON_CONFLICT|FOR_UPDATE|CHECK_CONSTRAINT|IDENTITY_COLUMNS|"
        r"GENERATED_COLUMNS|GENERATED_BY_DEFAULT|ALTER_COLUMN_SET_GENERATED|ALTER_COLUMN_DROP_GENERATED"
        r"|NESTED_UPDATE_DELETE_WITH_OFFSET|CORRELATED_REFS_IN_NESTED_DML|TTL|ORDERED_PRIMARY_KEYS",
        False,
        DML,
        "statement feature BigQuery lacks (queries are read-only here anyway)",
    ),
    # What BigQuery has.
    (r"PIPES$", True, PIPE, "pipe syntax"),
    (r"PIPE_WITH", True, PIPE + "#with_pipe_operator", "|> WITH"),
    (r"QUALIFY", True, QUERY + "#qualify_clause", ""),
    (r"PIVOT|UNPIVOT", True, QUERY + "#pivot_operator", ""),
    (r"TABLESAMPLE", True, QUERY + "#tablesample_operator", ""),
    (r"WITH_RECURSIVE|WITH_ON_SUBQUERY", True, QUERY + "#with_clause", ""),
    (r"GROUP_BY|GROUPING", True, QUERY + "#group_by_clause", "ROLLUP, CUBE, GROUPING SETS, ALL"),
    (r"CORRESPONDING|BY_NAME", True, QUERY + "#set_operators", "set operations by name"),
    (r"SELECT_STAR_EXCEPT_REPLACE", True, QUERY + "#select_except", ""),
    (r"FOR_SYSTEM_TIME_AS_OF", True, QUERY + "#for_system_time_as_of", ""),
    (r"NULLS_FIRST_LAST|ORDER_BY_COLLATE", True, QUERY + "#order_by_clause", ""),
    (r"ANALYTIC|NULL_HANDLING_MODIFIER_IN_ANALYTIC", True, WIN, ""),
    (r"_IN_AGGREGATE", True, AGG, "DISTINCT, IGNORE NULLS, ORDER BY, LIMIT, HAVING MAX/MIN"),
    (r"LIMIT_OFFSET_EXPRESSIONS", True, QUERY + "#limit_and_offset_clause", ""),
    (r"LIKE_ANY_SOME_ALL|IS_DISTINCT|BETWEEN", True, OPS, ""),
    (
        r"NUMERIC|DECIMAL_ALIAS|PARAMETERIZED_TYPES|INTERVAL|RANGE_TYPE|GEOGRAPHY|JSON_TYPE$|"
        r"CIVIL_TIME|DATE_TIME_CONSTRUCTORS|EXTENDED_DATE_TIME|DATE_ARITHMETICS",
        True,
        TYPES,
        "",
    ),
    (r"JSON", True, JSONF, ""),
    (
        r"ARRAY_ELEMENTS|BARE_ARRAY_ACCESS|CAST_DIFFERENT_ARRAY",
        True,
        OPS + "#array_subscript_operator",
        "",
    ),
    (r"FORMAT_IN_CAST|CONCAT_MIXED", True, CONV, ""),
    (r"SAFE_FUNCTION_CALL", True, FUNCS + "#safe_prefix", "SAFE. prefix"),
    (
        r"NAMED_ARGUMENTS|FUNCTION_ARGUMENTS_WITH_DEFAULTS|TEMPLATE|TABLE_VALUED|REMOTE|"
        r"CREATE_AGGREGATE_FUNCTION|CREATE_TABLE_FUNCTION|CREATE_FUNCTION",
        True,
        DOC + "user-defined-functions",
        "",
    ),
    (r"ALLOW_DASHES_IN_TABLE_NAME", True, LEXICAL + "#table_names", "my-project.dataset.table"),
    (
        r"ALLOW_REGEXP_EXTRACT_OPTIONALS|ADDITIONAL_STRING|REPEAT$|CBRT|ROUND_WITH_ROUNDING_MODE|"
        r"TIME_BUCKET|TOKENIZED_SEARCH|KLL|TIMESTAMP_FROM_UNIX|PARSE_TIMESTAMP|WEEK_WITH_WEEKDAY|"
        r"ENCRYPTION",
        True,
        FUNCS,
        "",
    ),
    (
        r"AGGREGATION_THRESHOLD|DIFFERENTIAL_PRIVACY|ANONYMIZATION",
        True,
        QUERY + "#agg_threshold_clause",
        "",
    ),
    (r"CASE_STMT|FOR_IN|SCRIPT_LABEL|REPEAT", True, SCRIPT, ""),
    (
        r"ANNOTATION_FRAMEWORK|COLLATION|ARRAY_CONSTRUCTOR_EXPLICIT_TYPE",
        True,
        DOC + "collation-concepts",
        "",
    ),
    (r"ENABLE_CONSTANT_EXPRESSION_IN_JSON_PATH", True, JSONF + "#JSONPath_format", ""),
    (
        r"CREATE|ALTER|EXTERNAL|MATERIALIZED|SNAPSHOT|CLONE|COPY|FOREIGN_KEYS|UNENFORCED_PRIMARY|"
        r"COLUMN_DEFAULT|VIEW|DML_UPDATE_WITH_JOIN|OMIT_INSERT|LOAD_DATA|PARAMETERS_IN_GRANTEE|"
        r"ALLOW_MISSING_PATH_EXPRESSION|MODEL",
        True,
        DDL,
        "statement feature (queries are read-only here)",
    ),
]


#: Restrictions BigQuery applies that this ZetaSQL build has not released: on anyway.
FORCED: set[str] = set()


def _short(name: str) -> str:
    return re.sub(r"^FEATURE_(V_\d+_\d+_)?", "", name)


def build() -> dict[str, object]:
    """The map, from the installed zetasql's feature list and its maximum feature set."""
    from zetasql.wasi._pb2.zetasql.local_service import local_service_pb2 as ls
    from zetasql.wasi._pb2.zetasql.proto import options_pb2
    from zetasql.wasi._pb2.zetasql.public import options_pb2 as public

    from idcbq.engines.googlesql.runtime import runtime

    maximum = runtime().call(
        "GetLanguageOptions",
        ls.LanguageOptionsRequest(maximum_features=True),
        options_pb2.LanguageOptionsProto,
    )
    released = {public.LanguageFeature.Name(f) for f in maximum.enabled_language_features}
    features: dict[str, dict[str, object]] = {}
    for name in sorted(public.LanguageFeature.keys()):
        if not name.startswith("FEATURE_"):
            continue
        short = _short(name)
        has, source, note = next(
            ((h, src, n) for pattern, h, src, n in RULES if re.search(pattern, short)),
            (False, QUERY, "no BigQuery documentation found for it"),
        )
        on = name in released or name in FORCED
        entry: dict[str, object] = {"bigquery": bool(has) and on, "source": source}
        if not on:
            entry["note"] = "not released in this ZetaSQL build"
        elif note:
            entry["note"] = note
        features[name] = entry
    import importlib.metadata

    return {
        "zetasql": importlib.metadata.version("zetasql"),
        "generated_by": "python -m idcbq.scripts.bigquery_features",
        "features": features,
    }


def main(argv: list[str] | None = None) -> int:
    from idcbq.scripts.generated import write_or_check

    return write_or_check(OUT, build(), sys.argv[1:] if argv is None else argv, indent=1)


if __name__ == "__main__":
    raise SystemExit(main())
