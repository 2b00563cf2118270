"""A CLI query on the sample, against its baselines in the same run (issue 21 §3).

``idcbq sql --format json "SELECT COUNT(*) n FROM dicom_all WHERE Modality = @m" -p m=CT``
in a fresh process, GoogleSQL's check on (the default), and what it is measured against:

- ``python -c pass``: the interpreter's own start;
- DuckDB alone: a Python process that imports duckdb and pyarrow, counts the same rows
  straight from the sample's Parquet files and prints them as JSON (the floor of any
  CLI built on them);
- the CLI with the check off (``IDCBQ_GOOGLESQL_ANALYSIS=0``).

The CLI runs twice per round: a query seen before (its verdict cached) and a new one (a
fresh comment makes new SQL text; the warm GoogleSQL helper answers it, as in everyday
use). A query seen before (with the check on or off) is replayed from its prepared entry
(idcbq.cli.prepared: no sqlglot, pyarrow or engine import); a new one takes the full path
and keeps an entry. Rounds run every command once in turn, so a machine whose speed drifts moves all
of them alike; ratios are per round, then the median. Goals: seen <= 0.5 s, new <= 0.8 s.

Run: ``.venv/bin/python -m bench cli_query`` (``--quick``: 3 rounds; default 7).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
import uuid

from bench._util import REPO, format_table, run_child

QUICK = True
SQL = "SELECT COUNT(*) n FROM dicom_all WHERE Modality = @m"
GOALS = {"CLI, seen query": 0.5, "CLI, new query": 0.8}

_DUCKDB_ALONE = (
    "import json, sys, duckdb, pyarrow\n"
    "files = sys.argv[1:]\n"
    "sql = 'SELECT COUNT(*) n FROM read_parquet([' + ', '.join(repr(f) for f in files)"
    " + \"]) WHERE Modality = 'CT'\"\n"
    "print(json.dumps(duckdb.connect().execute(sql).to_arrow_table().to_pylist()))\n"
)


def _env(**extra: str) -> dict[str, str]:
    env = {**os.environ, **extra}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # users run from compiled bytecode
    return env


def _cli(sql: str, **extra: str) -> float:
    args = [sys.executable, "-m", "idcbq", "sql", "--format", "json", sql, "-p", "m=CT"]
    return run_child(args, env=_env(**extra)).check("idcbq sql").seconds


def _commands(files: list[str]) -> dict[str, object]:
    def new() -> float:
        return _cli(f"{SQL} -- {uuid.uuid4().hex}")

    return {
        "python -c pass": lambda: run_child([sys.executable, "-c", "pass"]).seconds,
        "DuckDB alone (import, count, JSON)": lambda: (
            run_child([sys.executable, "-c", _DUCKDB_ALONE, *files], env=_env())
            .check("duckdb alone")
            .seconds
        ),
        "CLI, GoogleSQL check off": lambda: _cli(SQL, IDCBQ_GOOGLESQL_ANALYSIS="0"),
        "CLI, seen query": lambda: _cli(SQL),
        "CLI, new query": new,
    }


def _sample_files() -> list[str]:
    import idcbq

    with idcbq.connect("duckdb") as client:
        engine = client.engine
        return list(engine.export.files(engine.idc_version.dataset, "dicom_all"))


def _warm_helper() -> None:
    """One new query starts the GoogleSQL helper; wait until it answers."""
    from idcbq.engines.googlesql import helper

    _cli(f"{SQL} -- {uuid.uuid4().hex}")
    for _ in range(600):
        if helper.ask({"sql": "SELECT 1", "params": [], "tables": {}}) is not None:
            return
        time.sleep(0.5)


def measure(rounds: int) -> tuple[list[list[object]], tuple[float, ...], tuple[float, ...]]:
    files = _sample_files()
    commands = _commands(files)
    load_before = os.getloadavg()
    _warm_helper()
    for run in commands.values():  # warm-up: the verdict of SQL cached, files in page cache
        run()  # type: ignore[operator]
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(rounds):
        for name, run in commands.items():
            times[name].append(run())  # type: ignore[operator]
    load_after = os.getloadavg()
    names = list(commands)
    duck, off = times[names[1]], times[names[2]]
    rows = []
    for name, runs in times.items():
        goal = GOALS.get(name)
        rows.append(
            [
                name,
                statistics.median(runs),
                statistics.median(r / d for r, d in zip(runs, duck, strict=True)),
                statistics.median(r / o for r, o in zip(runs, off, strict=True)),
                f"<= {goal} s" if goal else "",
            ]
        )
    return rows, load_before, load_after


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    rounds = 3 if "--quick" in argv else 7
    started = time.perf_counter()
    rows, before, after = measure(rounds)
    headers = ["fresh process (wall)", "median s", "/ DuckDB alone", "/ check off", "goal"]
    print(format_table(headers, rows))
    print(
        f"\nload average (1/5/15 min) before {before[0]:.2f}/{before[1]:.2f}/{before[2]:.2f},"
        f" after {after[0]:.2f}/{after[1]:.2f}/{after[2]:.2f}; {os.cpu_count()} cores;"
        f" {rounds} rounds in {time.perf_counter() - started:.0f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
