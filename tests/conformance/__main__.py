"""``python -m tests.conformance [CORPUS] [--subset FILE] [--jobs N] [-v]``.

Prints a table per file and in total; the last line is
``files=N cases=N equal=N loud=N silent=N invalid_accepted=N out_of_scope=N``.
Exit 1 if a silent difference or an invalid query answered is not in
``known_gaps.toml``, or a listed gap no longer happens (strict-xfail discipline);
exit 2 if the corpus folder is missing.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from tests.conformance.report import check_gaps, load_gaps, summary_line, table, write_gaps
from tests.conformance.runner import Result, run_file

HERE = Path(__file__).parent
DEFAULT_CORPUS = HERE.parents[1].parent / "shared" / "zetasql-compliance"


def _subset(path: Path | None) -> dict[str, set[str]] | None:
    """``file.test`` -> case ids (a line ``file.test`` alone selects the whole file)."""
    if path is None:
        return None
    out: dict[str, set[str]] = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        name, _, case = line.partition(":")
        ids = out.setdefault(name, set())
        ids.add(line if case else "*")
    return out


def _run(args: tuple[Path, set[str] | None]) -> list[Result]:
    path, only = args
    return run_file(path, only)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.conformance", description=__doc__)
    ap.add_argument("corpus", nargs="?", default=str(DEFAULT_CORPUS), help="folder of .test files")
    ap.add_argument("--subset", type=Path, help="file of case ids / file names to run")
    ap.add_argument("--gaps", type=Path, default=HERE / "known_gaps.toml")
    ap.add_argument("--jobs", type=int, default=1, help="files run in parallel")
    ap.add_argument("--file", action="append", default=[], help="only these .test file names")
    ap.add_argument("--write-gaps", type=Path, help="write the silent/invalid cases as known gaps")
    ap.add_argument("-v", "--verbose", action="store_true", help="list every non-equal case")
    args = ap.parse_args(argv)
    corpus = Path(args.corpus)
    files = sorted(corpus.glob("*.test"))
    if not files:
        print(f"conformance: no .test files in {corpus}", file=sys.stderr)
        return 2
    subset = _subset(args.subset)
    work: list[tuple[Path, set[str] | None]] = []
    for f in files:
        if args.file and f.name not in args.file:
            continue
        if subset is not None:
            if f.name not in subset:
                continue
            ids = subset[f.name]
            work.append((f, None if "*" in ids else ids))
        else:
            work.append((f, None))
    results: list[Result] = []
    if args.jobs > 1:
        with ProcessPoolExecutor(args.jobs) as pool:
            for rs in pool.map(_run, work):
                results.extend(rs)
    else:
        for item in work:
            results.extend(_run(item))
    print(table(results))
    if args.write_gaps:
        n = write_gaps(results, args.write_gaps)
        print(f"wrote {n} known gaps to {args.write_gaps}")
    gaps = load_gaps(args.write_gaps or args.gaps)
    problems = check_gaps(results, gaps, verbose=args.verbose)
    for line in problems:
        print(line)
    counts = Counter(r.verdict for r in results)
    print(summary_line(len(work), counts))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
