"""Which ZetaSQL language features BigQuery has: scope of the conformance run.

If ``idcbq/data/bigquery_features.json`` exists (a map ``{FEATURE: {"bigquery": bool,
"source": url}}``, or ``{FEATURE: bool}``; ``FEATURE_`` prefixes are ignored) it decides;
features it does not name fall back to :data:`BIGQUERY_HAS` below, a small list of the
features the corpus names, from BigQuery's public GoogleSQL reference
(https://cloud.google.com/bigquery/docs/reference/standard-sql/). A feature in neither
is taken as missing (the case is out of scope, named, never silently compared).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

MAP_FILE = Path(__file__).resolve().parents[2] / "idcbq" / "data" / "bigquery_features.json"

#: Features BigQuery has (True) or lacks (False), as documented for BigQuery.
BIGQUERY_HAS: dict[str, bool] = {
    "ANALYTIC_FUNCTIONS": True,
    "CIVIL_TIME": True,
    "NUMERIC_TYPE": True,
    "BIGNUMERIC_TYPE": True,
    "JSON_TYPE": True,
    "JSON_VALUE_EXTRACTION_FUNCTIONS": True,
    "JSON_CONSTRUCTOR_FUNCTIONS": True,
    "JSON_ARRAY_FUNCTIONS": True,
    "JSON_MUTATOR_FUNCTIONS": True,
    "JSON_KEYS_FUNCTION": True,
    "INTERVAL_TYPE": True,
    "RANGE_TYPE": True,
    "GEOGRAPHY": True,
    "SAFE_FUNCTION_CALL": True,
    "NULL_HANDLING_MODIFIER_IN_AGGREGATE": True,
    "NULL_HANDLING_MODIFIER_IN_ANALYTIC": True,
    "ORDER_BY_IN_AGGREGATE": True,
    "LIMIT_IN_AGGREGATE": True,
    "HAVING_IN_AGGREGATE": True,
    "NULLS_FIRST_LAST_IN_ORDER_BY": True,
    "QUALIFY": True,
    "PIVOT": True,
    "UNPIVOT": True,
    "WITH_RECURSIVE": True,
    "IS_DISTINCT": True,
    "GROUP_BY_STRUCT": True,
    "GROUPING_SETS": True,
    "GROUP_BY_ROLLUP": True,
    "GROUPING_BUILTIN": True,
    "FORMAT_IN_CAST": True,
    "NAMED_ARGUMENTS": True,
    "PARAMETERIZED_TYPES": True,
    "DATE_TIME_CONSTRUCTORS": True,
    "EXTENDED_DATE_TIME_SIGNATURES": True,
    "ADDITIONAL_STRING_FUNCTIONS": True,
    "LIKE_ANY_SOME_ALL": True,
    "COLLATION_SUPPORT": True,
    "ANNOTATION_FRAMEWORK": True,
    "CORRESPONDING": True,
    "CORRESPONDING_FULL": True,
    "BY_NAME": True,
    "PIPES": True,
    "TABLESAMPLE": True,
    "DISALLOW_GROUP_BY_FLOAT": False,
    "TIMESTAMP_NANOS": False,
    "UUID_TYPE": False,
    "AGGREGATE_FILTERING": False,
    "MULTILEVEL_AGGREGATION": False,
    "REPLACE_FIELDS": False,
    "PROTO_MAPS": False,
    "PROTO_EXTENSIONS_WITH_NEW": False,
    "LIMIT_OFFSET_EXPRESSIONS": False,
    "LIMIT_ALL": False,
    "ARRAY_EQUALITY": False,
    "GROUP_BY_ARRAY": False,
    "INLINE_LAMBDA_ARGUMENT": False,
    "WITH_EXPRESSION": False,
    "TEMPLATE_FUNCTIONS": False,
    "CREATE_TABLE_FUNCTION": False,
    "TABLE_VALUED_FUNCTIONS": False,
    "MATCH_RECOGNIZE": False,
}


def _key(name: str) -> str:
    return name.strip().upper().removeprefix("FEATURE_")


@cache
def feature_map() -> dict[str, bool]:
    """Feature -> BigQuery has it: the checked-in JSON map over the fallback list."""
    out = dict(BIGQUERY_HAS)
    try:
        raw = json.loads(MAP_FILE.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return out
    if isinstance(raw, dict) and isinstance(raw.get("features"), dict | list):
        raw = raw["features"]
    if isinstance(raw, list):  # [{"name": ..., "bigquery": ...}]
        raw = {e.get("name") or e.get("feature"): e for e in raw if isinstance(e, dict)}
    for name, entry in (raw or {}).items():
        if not isinstance(name, str):
            continue
        if isinstance(entry, bool):
            out[_key(name)] = entry
        elif isinstance(entry, dict):
            for field in ("bigquery", "supported", "in_bigquery"):
                if isinstance(entry.get(field), bool):
                    out[_key(name)] = entry[field]
                    break
    return out


def bigquery_has(feature: str) -> bool:
    """True if BigQuery has the ZetaSQL language feature (unknown: False)."""
    return feature_map().get(_key(feature), False)


def out_of_scope(required: list[str], forbidden: list[str]) -> str | None:
    """Why a case with these features does not apply to BigQuery, or None if it does."""
    missing = [f for f in required if not bigquery_has(f)]
    if missing:
        return f"needs {', '.join(missing)} (not in BigQuery)"
    present = [f for f in forbidden if bigquery_has(f)]
    if present:
        return f"assumes no {', '.join(present)} (BigQuery has it)"
    return None
