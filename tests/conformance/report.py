"""Tables, the summary line and the known-gap check of a conformance run."""

from __future__ import annotations

import re
import tomllib
from collections import Counter, defaultdict
from pathlib import Path

from tests.conformance.runner import VERDICTS, Result

FAILING = ("silent", "invalid_accepted")


def table(results: list[Result]) -> str:
    """One row per file and a total row: cases and each verdict's count."""
    by_file: dict[str, Counter] = defaultdict(Counter)
    for r in results:
        by_file[r.file][r.verdict] += 1
    head = ["file", "cases", *VERDICTS]
    rows = []
    total: Counter = Counter()
    for name in sorted(by_file):
        c = by_file[name]
        total.update(c)
        rows.append([name, str(sum(c.values())), *(str(c[v]) for v in VERDICTS)])
    rows.append(["TOTAL", str(sum(total.values())), *(str(total[v]) for v in VERDICTS)])
    widths = [max(len(x) for x in col) for col in zip(head, *rows, strict=True)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True))]
    for row in rows:
        lines.append(
            "  ".join(
                x.ljust(w) if i == 0 else x.rjust(w)
                for i, (x, w) in enumerate(zip(row, widths, strict=True))
            )
        )
    return "\n".join(lines)


def summary_line(files: int, counts: Counter) -> str:
    """``files=N cases=N equal=N loud=N silent=N invalid_accepted=N out_of_scope=N``."""
    parts = [f"files={files}", f"cases={sum(counts.values())}"]
    parts += [f"{v}={counts[v]}" for v in VERDICTS]
    return " ".join(parts)


def load_gaps(path: Path) -> dict[str, dict]:
    """Known gaps: case id -> ``{"verdict": ..., "cause": ...}`` (every entry needs a cause)."""
    if not path.is_file():
        return {}
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    out: dict[str, dict] = {}
    for entry in data.get("gap", []):
        if not entry.get("cause"):
            raise ValueError(f"{path}: gap {entry.get('case')!r} has no cause")
        out[entry["case"]] = entry
    return out


def check_gaps(results: list[Result], gaps: dict[str, dict], *, verbose: bool = False) -> list[str]:
    """Lines naming each unlisted silent/invalid-accepted case and each listed gap that passed."""
    out: list[str] = []
    for r in results:
        gap = gaps.get(r.id)
        if r.verdict in FAILING and (gap is None or gap.get("verdict") != r.verdict):
            sql = " ".join(r.sql.split())[:160]
            out.append(f"{r.verdict.upper()} {r.id} (line {r.line}): {r.detail}\n    {sql}")
        elif gap is not None and r.verdict not in FAILING:
            out.append(
                f"FIXED {r.id}: listed as {gap.get('verdict')} ({gap['cause']}), now {r.verdict}"
            )
        elif verbose and r.verdict != "equal":
            out.append(f"{r.verdict} {r.id}: {r.detail}")
    return out


#: (pattern in a difference, cause): the first match names a gap's cause.
CAUSES = (
    ("expected JSON, got STRING", "JSON values come back as STRING (issue 18 §3: result types)"),
    ("expected NUMERIC, got FLOAT64", "NUMERIC computed as FLOAT64 (issue 18 §3/§5: NUMERIC)"),
    ("expected BIGNUMERIC", "BIGNUMERIC computed as FLOAT64/NUMERIC (issue 18 §5: BIGNUMERIC)"),
    ("type of", "result type differs from GoogleSQL's (issue 18 §3: result types)"),
    ("names:", "output column name differs (issue 18 §4: output names)"),
    (r"\bnan\b", "NaN semantics (issue 18 §5: NaN ordering, MIN/MAX/LEAST with NaN)"),
    (r"\binf\b", "infinity/overflow semantics of FLOAT64 arithmetic (issue 18 §1: runtime errors)"),
    (r"Decimal\(", "NUMERIC/BIGNUMERIC value differs (issue 18 §5: NUMERIC)"),
    (r"vs googlesql \(UTC\)", "value differs from the googlesql engine in UTC (time zone rules)"),
    ("comparison failed", "result idcbq cannot describe (nested duplicate field names)"),
)


def cause_of(result: Result) -> str:
    """A gap's cause: the class of the difference, then the difference itself."""
    if result.verdict == "invalid_accepted":
        head = "GoogleSQL raises, DuckDB answers (issue 18 §1: BigQuery's errors)"
    else:
        head = next((c for key, c in CAUSES if re.search(key, result.detail)), "value differs")
    return f"{head}: {result.detail}"[:300]


def write_gaps(results: list[Result], path: Path) -> int:
    """Write every silent / invalid-accepted case to ``path`` as a known gap; return how many."""
    lines = [
        "# Known gaps of `make conformance`: GoogleSQL compliance cases idcbq answers",
        "# differently (silent) or answers though GoogleSQL raises (invalid_accepted).",
        "# Each names its cause; a listed case that passes fails the run (strict xfail).",
        "# Regenerate: python -m tests.conformance CORPUS --write-gaps tests/conformance/known_gaps.toml",
        "",
    ]
    n = 0
    for r in sorted(results, key=lambda r: r.id):
        if r.verdict not in FAILING:
            continue
        n += 1
        lines += [
            "[[gap]]",
            f"case = {_toml(r.id)}",
            f'verdict = "{r.verdict}"',
            f"cause = {_toml(cause_of(r))}",
            "",
        ]
    path.write_text("\n".join(lines), encoding="utf-8")
    return n


def _toml(text: str) -> str:
    import json

    return json.dumps(text, ensure_ascii=False)
