"""Group the loud cases of a verbose conformance run by their refusal message.

``python -m tests.conformance CORPUS --jobs 1 -v > run.txt`` then
``python -m tests.conformance.loud_groups run.txt [--examples N]``: one line per group
(count, the message with quoted SQL, numbers and names masked), largest first.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import defaultdict
from pathlib import Path

_LOUD = re.compile(r"^loud (\S+): (.*)$")
#: Case-specific parts of a message (backquoted SQL, quoted text, numbers) are masked.
_MASKS = (
    (re.compile(r"`[^`]*`"), "`…`"),
    (re.compile(r"'[^']*'"), "'…'"),
    (re.compile(r"\d+"), "N"),
)


def group_key(message: str) -> str:
    """The message with its case-specific parts masked."""
    for pattern, mask in _MASKS:
        message = pattern.sub(mask, message)
    return message[:160]


def groups(lines: list[str]) -> dict[str, list[tuple[str, str]]]:
    """Masked message -> ``(case id, message)`` of each loud case."""
    out: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for line in lines:
        m = _LOUD.match(line)
        if m:
            out[group_key(m.group(2))].append((m.group(1), m.group(2)))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.conformance.loud_groups")
    ap.add_argument("run", type=Path, help="output of a -v conformance run")
    ap.add_argument("--examples", type=int, default=0, help="case ids shown per group")
    args = ap.parse_args(argv)
    found = groups(args.run.read_text(encoding="utf-8").splitlines())
    for key, cases in sorted(found.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        print(f"{len(cases):5d}  {key}")
        for case_id, message in cases[: args.examples]:
            print(f"         {case_id}: {message[:200]}")
    print(f"{sum(map(len, found.values()))} loud cases in {len(found)} groups", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
