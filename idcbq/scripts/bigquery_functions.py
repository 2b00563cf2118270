"""Regenerate ``idcbq/data/bigquery_functions.json``: BigQuery's functions and their arity.

The table is GoogleSQL's builtin function catalog (the ``zetasql`` package's
``GetBuiltinFunctions``, with BigQuery's language features from
``idcbq/data/bigquery_features.json``) plus an OVERLAY of BigQuery functions this
catalog lacks or names differently. Operators (``$add``, ...) and internal names are
left out. Each function keeps the (min, max) argument counts of its signatures
(``max`` null: repeated arguments) and, where every argument of every signature has a
fixed type, the conversion families its arguments accept (``accepts``), and each
signature's argument types by position (``signatures``: ``"STRING,INT64?"``). The
strict layer (:mod:`idcbq.validate.strict`) reads the JSON; it needs nothing installed.

Usage:
    python -m idcbq.scripts.bigquery_functions            # rewrite the JSON
    python -m idcbq.scripts.bigquery_functions --check    # exit 1 if it is stale
"""

from __future__ import annotations

import importlib.metadata
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "data" / "bigquery_functions.json"
DOC = "https://cloud.google.com/bigquery/docs/reference/standard-sql/"

#: BigQuery functions the catalog lacks: name -> (arities, kind, source page).
OVERLAY: dict[str, tuple[list[list[int | None]], str, str]] = {
    "contains_substr": ([[2, 3]], "scalar", "string_functions#contains_substr"),
    "max_by": ([[2, 2]], "aggregate", "aggregate_functions#max_by"),
    "min_by": ([[2, 2]], "aggregate", "aggregate_functions#min_by"),
    "collate": ([[2, 2]], "scalar", "string_functions#collate"),
    "approx_count_distinct": ([[1, 1]], "aggregate", "approximate_aggregate_functions"),
    "approx_quantiles": ([[2, 2]], "aggregate", "approximate_aggregate_functions"),
    "approx_top_count": ([[2, 2]], "aggregate", "approximate_aggregate_functions"),
    "approx_top_sum": ([[3, 3]], "aggregate", "approximate_aggregate_functions"),
    "normalize": ([[1, 2]], "scalar", "string_functions#normalize"),
    "normalize_and_casefold": ([[1, 2]], "scalar", "string_functions#normalize_and_casefold"),
    "to_json_string": ([[1, 2]], "scalar", "json_functions#to_json_string"),
    "to_json": ([[1, 2]], "scalar", "json_functions#to_json"),
    "json_extract_string_array": ([[1, 2]], "scalar", "json_functions"),
    "st_regionstats": ([[2, 4]], "scalar", "geography_functions"),
    "range_sessionize": ([[3, 4]], "table", "range-functions#range_sessionize"),
    "gap_fill": ([[1, None]], "table", "time-series-functions#gap_fill"),
    "timestamp_bucket": ([[2, 3]], "scalar", "time-series-functions#timestamp_bucket"),
    "date_bucket": ([[2, 3]], "scalar", "time-series-functions#date_bucket"),
    "datetime_bucket": ([[2, 3]], "scalar", "time-series-functions#datetime_bucket"),
    "dlp_deterministic_encrypt": ([[3, 4]], "scalar", "dlp_functions"),
    "dlp_deterministic_decrypt": ([[3, 4]], "scalar", "dlp_functions"),
    "dlp_key_chain": ([[2, 2]], "scalar", "dlp_functions"),
    "current_user": ([[0, 0]], "scalar", "security_functions"),
    "obj.fetch_metadata": ([[1, 1]], "scalar", "objectref_functions"),
    "obj.get_access_url": ([[2, 2]], "scalar", "objectref_functions"),
    "obj.make_ref": ([[1, 2]], "scalar", "objectref_functions"),
    "search": ([[2, None]], "scalar", "search_functions#search"),
    "vector_search": ([[3, None]], "table", "search_functions#vector_search"),
    "unnest": ([[1, 1]], "table", "query-syntax#unnest_operator"),
}

#: Catalog names that are not callable by that name in BigQuery SQL (syntax forms).
_SKIP_PREFIXES = ("$", "_")


def _arity(sig: object) -> list[int | None]:
    lo, hi = 0, 0
    repeated = False
    for arg in sig.argument:  # type: ignore[attr-defined]
        card = arg.options.cardinality
        if card == 1:  # REPEATED
            repeated = True
        elif card == 2:  # OPTIONAL
            hi += 1
        else:
            lo += 1
            hi += 1
    return [lo, None if repeated else hi]


#: GoogleSQL type kinds (``zetasql.TypeKind``) by the strict layer's conversion families
#: (:mod:`idcbq.validate.type_rules`); a kind not listed accepts any argument there.
_FAMILY_OF_KIND = {
    **dict.fromkeys((1, 2, 3, 4, 6, 7, 23, 24), "NUM"),
    5: "BOOL",
    8: "STRING",
    9: "BYTES",
    **dict.fromkeys((10, 19, 21), "CIVIL"),
    20: "TIME",
    16: "ARRAY",
    17: "STRUCT",
    22: "GEOGRAPHY",
    26: "JSON",
}
_FIXED, _ARRAY_OF_ANY = 0, (2, 3, 14)  # ARG_TYPE_FIXED; ARG_ARRAY_TYPE_ANY_1/2/3


def _families(sig: object) -> set[str] | None:
    """The families a signature's arguments accept (None: some argument accepts any)."""
    out: set[str] = set()
    for arg in sig.argument:  # type: ignore[attr-defined]
        if arg.kind in _ARRAY_OF_ANY:
            out.add("ARRAY")
            continue
        family = _FAMILY_OF_KIND.get(arg.type.type_kind) if arg.kind == _FIXED else None
        if family is None:
            return None
        out.add(family)
    return out


#: GoogleSQL type kinds by BigQuery's name, for the per-position signatures (``signatures``);
#: any other kind (a template, ARRAY, STRUCT, INTERVAL, ...) is stored as ``ANY``.
_NAME_OF_KIND = {
    2: "INT64",
    5: "BOOL",
    7: "FLOAT64",
    8: "STRING",
    9: "BYTES",
    10: "DATE",
    19: "TIMESTAMP",
    20: "TIME",
    21: "DATETIME",
    22: "GEOGRAPHY",
    23: "NUMERIC",
    24: "BIGNUMERIC",
    26: "JSON",
}


def _positions(sig: object) -> str:
    """A signature's argument types, ``"STRING,INT64?,ANY*"`` (``?`` optional, ``*``
    repeated; ``ANY`` a type the strict layer does not compare)."""
    out = []
    for arg in sig.argument:  # type: ignore[attr-defined]
        name = _NAME_OF_KIND.get(arg.type.type_kind, "ANY") if arg.kind == _FIXED else "ANY"
        out.append(name + {1: "*", 2: "?"}.get(arg.options.cardinality, ""))
    return ",".join(out)


def build() -> dict[str, object]:
    """The table from the installed zetasql's catalog (BigQuery's features) and the overlay."""
    from zetasql.wasi._pb2.zetasql.local_service import local_service_pb2 as ls
    from zetasql.wasi._pb2.zetasql.proto import options_pb2

    from idcbq.engines.googlesql.analysis import language_options
    from idcbq.engines.googlesql.runtime import runtime

    req = options_pb2.ZetaSQLBuiltinFunctionOptionsProto(language_options=language_options())
    resp = runtime().call("GetBuiltinFunctions", req, ls.GetBuiltinFunctionsResponse)
    modes = {1: "scalar", 2: "aggregate", 3: "analytic"}
    functions: dict[str, dict[str, object]] = {}
    for fn in resp.function:
        name = ".".join(fn.name_path).lower()
        if name.startswith(_SKIP_PREFIXES) or not name.replace(".", "").replace("_", "").isalnum():
            continue
        if fn.options.HasField("allow_external_usage") and not fn.options.allow_external_usage:
            continue  # not callable in PRODUCT_EXTERNAL (BigQuery's mode)
        names = [name]
        if fn.options.alias_name:
            names.append(fn.options.alias_name.lower())
        for each in names:
            entry = functions.setdefault(
                each, {"arity": [], "kind": modes.get(fn.mode, "scalar"), "source": "zetasql"}
            )
            for sig in fn.signature:
                ar = _arity(sig)
                if ar not in entry["arity"]:  # type: ignore[operator]
                    entry["arity"].append(ar)  # type: ignore[union-attr]
                families = _families(sig)
                positions = entry.setdefault("signatures", [])
                if _positions(sig) not in positions:  # type: ignore[operator]
                    positions.append(_positions(sig))  # type: ignore[union-attr]
                accepts = entry.get("accepts", set())
                entry["accepts"] = (
                    None if families is None or accepts is None else accepts | families
                )
    for name, (arity, kind, page) in OVERLAY.items():
        if name not in functions:
            functions[name] = {"arity": arity, "kind": kind, "source": DOC + page}
    for entry in functions.values():
        entry["arity"] = sorted(entry["arity"], key=lambda a: (a[0], a[1] is None, a[1] or 0))
        kept = entry.pop("signatures", [])
        if any(t.rstrip("?*") != "ANY" for sig in kept for t in sig.split(",") if t):
            entry["signatures"] = sorted(kept)  # per position, where some type is fixed
        if entry.get("accepts") is not None:  # the families some argument of it accepts
            entry["accepts"] = sorted(entry["accepts"])
        else:
            entry.pop("accepts", None)
    return {
        "zetasql": importlib.metadata.version("zetasql"),
        "generated_by": "python -m idcbq.scripts.bigquery_functions",
        "functions": dict(sorted(functions.items())),
    }


def main(argv: list[str] | None = None) -> int:
    from idcbq.scripts.generated import write_or_check

    return write_or_check(OUT, build(), sys.argv[1:] if argv is None else argv, indent=0)


if __name__ == "__main__":
    raise SystemExit(main())
