"""Tables, the summary line and the known-gap check of a conformance run."""

from __future__ import annotations

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
