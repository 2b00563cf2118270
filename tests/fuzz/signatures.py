"""GoogleSQL's own function signatures, read from its analyzer.

A call with too many arguments makes ZetaSQL list every signature of the function
("Signature: LEFT(STRING, INT64)"), so one analysis per function gives its argument
types. The function names come from ``idcbq/data/bigquery_functions.json`` (BigQuery's
functions); nothing here is written by hand but the families left out.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

FUNCTIONS = Path(__file__).resolve().parents[2] / "idcbq" / "data" / "bigquery_functions.json"

#: Families out of scope for the DuckDB path (no IDC use, or no deterministic answer).
SKIPPED_PREFIXES = (
    "aead.",
    "keys.",
    "net.",
    "hll_",
    "kll_",
    "st_",
    "s2_",
    "obj.",
    "dlp_",
    "deterministic_",
    "range",
    "current_",
    "generate_uuid",
    "rand",
    "session_user",
    "error",
    "search",
    "vector_search",
    "zstd_",
    "apply",
    "gap_fill",
    "iferror",
    "iserror",
    "nulliferror",
    "contains_substr",
    "collate",
    "normalize",  # gate rewrites / no ICU in this build
    "approx_",  # the gate passes them on; the reference implementation lacks them
    "float32",
    "lax_float32",  # FLOAT32 is not a BigQuery type
)

_SIGNATURE = re.compile(r"^\s*Signature: ([A-Z0-9_.]+)\((.*)\)\s*$")


@dataclass(frozen=True)
class Signature:
    """One signature: the argument types in order; ``optional`` counts trailing ones."""

    function: str
    args: tuple[str, ...]
    optional: int

    def arities(self) -> range:
        return range(len(self.args) - self.optional, len(self.args) + 1)


def split_args(text: str) -> list[str]:
    """Split ``STRING, [INT64], ARRAY<STRUCT<a INT64, b STRING>>`` at top-level commas."""
    out, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "<([":
            depth += 1
        elif ch in ">)]":
            depth -= 1
        elif ch == "," and depth == 0:
            out.append(text[start:i].strip())
            start = i + 1
    tail = text[start:].strip()
    if tail:
        out.append(tail)
    return out


def parse_signature(function: str, text: str) -> Signature | None:
    """A signature's argument list, or None for shapes the fuzzer does not generate
    (repeated arguments, named arguments, lambdas)."""
    args, optional = [], 0
    for part in split_args(text):
        if "..." in part or "=>" in part or "FUNCTION<" in part or " " in part.strip("[]"):
            return None
        if part.startswith("[") and part.endswith("]"):
            optional += 1
            part = part[1:-1]
        elif optional:
            return None  # a required argument after an optional one
        args.append(part)
    return Signature(function, tuple(args), optional)


def function_names() -> list[str]:
    """BigQuery's scalar and aggregate functions, less the skipped families."""
    table = json.loads(FUNCTIONS.read_text())["functions"]
    return sorted(
        name
        for name, entry in table.items()
        if entry["kind"] in ("scalar", "aggregate")
        and entry["source"] == "zetasql"
        and not name.startswith(SKIPPED_PREFIXES)
    )


def discover(names: list[str] | None = None) -> dict[str, list[Signature]]:
    """``{function: signatures}`` as GoogleSQL's analyzer lists them."""
    from idcbq.validate.googlesql import analyze_sql

    out: dict[str, list[Signature]] = {}
    for name in names or function_names():
        nulls = ", ".join(["NULL"] * 12)
        problems = analyze_sql(f"SELECT {name.upper()}({nulls})", use_cache=False)
        found = []
        for problem in problems:
            for line in str(problem).splitlines():
                match = _SIGNATURE.match(line)
                if match:
                    sig = parse_signature(name, match.group(2))
                    if sig is not None and sig not in found:
                        found.append(sig)
        if found:
            out[name] = found
    return out


def load_or_discover(cache: Path) -> dict[str, list[Signature]]:
    """Signatures from ``cache`` (JSON) or discovered and written there."""
    if cache.exists():
        raw = json.loads(cache.read_text())
        return {k: [Signature(k, tuple(a), o) for a, o in v] for k, v in raw.items()}
    found = discover()
    cache.parent.mkdir(parents=True, exist_ok=True)
    rows = {k: [[list(s.args), s.optional] for s in v] for k, v in sorted(found.items())}
    lines = ",\n".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in rows.items())
    cache.write_text("{\n" + lines + "\n}\n")
    return found
