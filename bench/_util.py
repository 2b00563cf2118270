"""Shared helpers of the scale and side-by-side benches: timing, peak RSS, tables.

Peak memory is measured two ways, both real kernel counters:

* of a whole child process: :func:`run_child` starts it from a tiny launcher that waits
  for it with ``os.wait4``, whose rusage is that one child's (``ru_maxrss``, KiB on
  Linux): children of earlier runs never leak into the figure (``RUSAGE_CHILDREN``
  would report their maximum), nor does the bench's own RSS (inherited at fork);
* of a step inside this process: :func:`reset_peak_rss` writes ``5`` to
  ``/proc/self/clear_refs`` (Linux >= 4.0 resets ``VmHWM``) and :func:`peak_rss_mb`
  reads ``VmHWM`` back.

Example:
    >>> median_ms(lambda: sum(range(10)), repeats=3) >= 0
    True
    >>> print(format_table(["a", "b"], [[1, 2.5]]))
    a     b
    -  ----
    1  2.50
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
#: Large, cached, gitignored bench data (exports, side venvs).
OUT = Path(os.environ.get("IDCBQ_BENCH_OUT", BENCH / "out"))


@dataclass
class ChildResult:
    """What one child process did: exit code, output, wall seconds and its own peak RSS."""

    returncode: int
    stdout: str
    stderr: str
    seconds: float
    peak_rss_mb: float

    def check(self, what: str) -> ChildResult:
        if self.returncode != 0:
            raise RuntimeError(
                f"{what} failed (exit {self.returncode}):\n{self.stderr[-3000:]}{self.stdout[-1000:]}"
            )
        return self


# A tiny launcher: Linux charges a child with the RSS of the process that forked it
# (``maxrss`` survives fork and exec), so a big parent would inflate every figure. This
# ~10 MB process forks the real child, times it and writes "<maxrss KiB> <seconds>".
_LAUNCHER = """
import os, sys, time
report, argv = sys.argv[1], sys.argv[2:]
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execvp(argv[0], argv)
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
seconds = time.perf_counter() - start
with open(report, "w") as fh:
    fh.write(f"{usage.ru_maxrss} {seconds}")
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run_child(
    args: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    timeout: float | None = None,
) -> ChildResult:
    """Run ``args``; return its output, wall time and peak RSS (that child only)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "usage"
        launcher = [sys.executable, "-S", "-c", _LAUNCHER, str(report), *args]
        done = subprocess.run(
            launcher, capture_output=True, text=True, env=env, cwd=cwd or REPO, timeout=timeout
        )
        try:
            rss_kb, seconds = report.read_text().split()
        except (OSError, ValueError):  # the launcher itself failed
            rss_kb, seconds = "0", "nan"
    return ChildResult(
        done.returncode, done.stdout, done.stderr, float(seconds), int(rss_kb) / 1024
    )


def python_child(module: str, *args: str, python: str = sys.executable, **kw: Any) -> ChildResult:
    """``python -m module args...`` in a fresh process (cwd: the repo)."""
    return run_child([python, "-m", module, *args], **kw)


def reset_peak_rss() -> bool:
    """Reset this process's peak RSS counter (``VmHWM``); False where unsupported."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def peak_rss_mb() -> float:
    """This process's peak RSS in MiB since start or the last :func:`reset_peak_rss`."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def median_ms(fn: Callable[[], Any], repeats: int = 3, warmup: bool = True) -> float:
    """Median wall milliseconds of ``fn()`` over ``repeats`` runs (after one warm-up run)."""
    if warmup:
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def _cell(value: Any) -> str:
    if isinstance(value, float):
        if value != value:  # NaN: not measured
            return "-"
        return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return "-" if value is None else str(value)


def format_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Plain aligned table: first column left-aligned, the others right-aligned."""
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]

    def line(values: Sequence[str]) -> str:
        parts = [v.ljust(widths[i]) if i == 0 else v.rjust(widths[i]) for i, v in enumerate(values)]
        return "  ".join(parts).rstrip()

    out = [line(headers), line(["-" * w for w in widths])]
    out += [line(r) for r in cells]
    return "\n".join(out)


def human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if abs(n) < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"


def dir_bytes(path: Path) -> int:
    """Bytes of the files under ``path`` (symlinks followed, each file once)."""
    seen: set[Path] = set()
    total = 0
    for p in path.rglob("*"):
        if p.is_file():
            real = p.resolve()
            if real not in seen:
                seen.add(real)
                total += real.stat().st_size
    return total


#: The last commit before issue 21's speed work: the baseline its benches compare against.
BASELINE_REV = "ee3fbc7"


def checkout(rev: str) -> Path:
    """The ``idcbq`` package at git revision ``rev``, extracted once under ``OUT``.

    Put the returned directory first on ``PYTHONPATH`` to run that revision's code in a
    child process (the baseline of a before/after comparison made in one run).
    """
    sha = subprocess.run(
        ["git", "rev-parse", "--short=12", f"{rev}^{{commit}}"],
        cwd=REPO, capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    target = OUT / f"rev-{sha}"
    if not (target / "idcbq" / "__init__.py").is_file():
        target.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(
            ["git", "archive", sha, "idcbq", "sql"], cwd=REPO, capture_output=True, check=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target
