"""Differential fuzzing of BigQuery's functions: idcbq on DuckDB against GoogleSQL.

Every function GoogleSQL's analyzer lists (:mod:`tests.fuzz.signatures`) is called with
edge values of its argument types (:mod:`tests.fuzz.values`); each query runs through
idcbq's DuckDB path (GoogleSQL analysis on, as users run it) and through the googlesql
engine, the judge. A run is reproducible from its seed.

Verdicts: ``equal``; ``both_error`` (GoogleSQL raises, idcbq raises an idcbq error);
``loud`` (idcbq refuses a query GoogleSQL answers); ``silent`` (different names, types
or values); ``error_answered`` (GoogleSQL raises, idcbq answers); ``crash`` (an error
that is not idcbq's); ``timeout``.

Run: ``python -m tests.fuzz --seed 1 --per-signature 4 [-k LEFT] [--out FILE]``.
"""

from __future__ import annotations

import argparse
import collections
import json
import multiprocessing as mp
import random
import sys
from pathlib import Path

from tests.fuzz.forms import all_forms
from tests.fuzz.signatures import Signature, load_or_discover
from tests.fuzz.values import POOL, TEMPLATE_CHOICES, supported, value

#: Every verdict, in the summary's order.
VERDICTS = (
    "equal",
    "both_error",
    "loud",
    "silent",
    "error_answered",
    "crash",
    "timeout",
    "oracle_crash",
    "worker_died",
)
#: GoogleSQL's signatures as discovered (regenerate: ``python -m tests.fuzz --discover``).
CACHE = Path(__file__).resolve().parent / "signatures.json"


def _bind(kind: str, binding: str) -> str:
    return kind.replace("T1", binding)


def queries(
    signatures: dict[str, list[Signature]],
    seed: int,
    per_signature: int,
    *,
    as_columns: bool = False,
) -> list[tuple[str, str]]:
    """``(function, sql)`` pairs, the same for the same seed and signatures.

    With ``as_columns`` the values are fields of an UNNESTed STRUCT row: typed columns,
    not constants DuckDB folds (its constant folding and its vectors differ).
    """
    rng = random.Random(seed)
    out = []
    for name in sorted(signatures):
        aggregate = _is_aggregate(name)
        for sig in signatures[name]:
            for _ in range(per_signature):
                binding = rng.choice(TEMPLATE_CHOICES)
                kinds = [_bind(k, binding) for k in sig.args]
                arity = rng.choice(list(sig.arities()))
                kinds = kinds[:arity]
                if not all(supported(k) for k in kinds):
                    continue
                args = [value(k, rng) for k in kinds]
                if aggregate and kinds:
                    rows = ", ".join(value(kinds[0], rng, 0.2) for _ in range(rng.randint(0, 4)))
                    args[0] = "x"
                    source = f"UNNEST(ARRAY<{kinds[0]}>[{rows}]) AS x"
                    out.append(
                        (name, f"SELECT {name.upper()}({', '.join(args)}) AS v FROM {source}")
                    )
                elif as_columns and args:
                    fields = ", ".join(f"{a} AS a{i}" for i, a in enumerate(args))
                    names = ", ".join(f"a{i}" for i in range(len(args)))
                    row = f"UNNEST([STRUCT({fields})])"
                    out.append((name, f"SELECT {name.upper()}({names}) AS v FROM {row}"))
                else:
                    out.append((name, f"SELECT {name.upper()}({', '.join(args)}) AS v"))
    return out


def wrong_type_queries(
    signatures: dict[str, list[Signature]], seed: int, per_signature: int
) -> list[tuple[str, str]]:
    """Calls with one argument of another type: mostly ones BigQuery rejects (the worker
    asks the analyzer which), for the strict layer that runs without it."""
    rng = random.Random(seed * 104729)
    kinds_pool = [k for k in POOL if k != "INTERVAL"] + ["ARRAY<INT64>", "ARRAY<STRING>"]
    out = []
    for name in sorted(signatures):
        for sig in signatures[name]:
            for _ in range(per_signature):
                binding = rng.choice(TEMPLATE_CHOICES)
                kinds = [_bind(k, binding) for k in sig.args][: rng.choice(list(sig.arities()))]
                if not kinds or not all(supported(k) for k in kinds):
                    continue
                spot = rng.randrange(len(kinds))
                kinds[spot] = rng.choice([k for k in kinds_pool if k != kinds[spot]])
                args = ", ".join(value(k, rng, null_rate=0.0) for k in kinds)
                out.append((name, f"SELECT {name.upper()}({args}) AS v"))
    return out


def _is_aggregate(name: str) -> bool:
    from tests.fuzz.signatures import FUNCTIONS

    table = json.loads(FUNCTIONS.read_text())["functions"]
    return table[name]["kind"] == "aggregate"


class _Judge:
    """Both engines on the sample (literal queries read no table)."""

    def __init__(self) -> None:
        from idcbq.api import Client
        from idcbq.engines.duckdb import DuckDBEngine
        from idcbq.engines.googlesql import GoogleSQLEngine

        root = _root()
        self.duck = Client(DuckDBEngine.from_options(source=root, idc_version="current"))
        self.duck.googlesql_analysis = True
        self.duck.explain_empty = False
        self.gsql = GoogleSQLEngine.from_options(source=root, idc_version="current")
        # the strict layer alone, as where zetasql is not installed
        self.strict = Client(DuckDBEngine.from_options(source=root, idc_version="current"))
        self.strict.googlesql_analysis = False
        self.strict.explain_empty = False

    def strict_verdict(self, sql: str) -> dict:
        """Whether the strict layer answers a call GoogleSQL's analyzer rejects."""
        from idcbq.errors import IdcbqError
        from idcbq.validate.googlesql import analyze_sql

        out: dict = {"sql": sql}
        problems = analyze_sql(sql, use_cache=False)
        if not problems:
            out["verdict"] = "valid"
            return out
        out["analyzer"] = _line(problems[0])
        try:
            prepared = self.strict.prepare_sql(sql)
        except IdcbqError as exc:
            out["verdict"], out["strict"] = "strict_refused", _line(exc)
            return out
        try:
            answer = self.strict.execute(prepared).table
        except IdcbqError as exc:
            out["verdict"], out["duck_error"] = "duckdb_refused", _line(exc)
            return out
        except Exception as exc:
            out["verdict"], out["duck_error"] = "crash", f"{type(exc).__name__}: {_line(exc)}"
            return out
        out["verdict"], out["duck"] = "invalid_answered", str(answer.to_pylist())[:200]
        return out

    def verdict(self, sql: str) -> dict:
        from idcbq.errors import IdcbqError
        from tests.cross_engine_support import compare

        out: dict = {"sql": sql}
        try:
            oracle = self.gsql.execute(self.gsql.prepare(sql, ()))
        except IdcbqError as exc:
            oracle, out["oracle_error"] = None, _line(exc)
        except Exception as exc:  # the judge could not read its own answer: no verdict
            out["verdict"], out["oracle_error"] = (
                "oracle_crash",
                f"{type(exc).__name__}: {_line(exc)}",
            )
            return out
        try:
            duck = self.duck.sql(sql).table
        except IdcbqError as exc:
            duck, out["duck_error"] = None, _line(exc)
        except Exception as exc:
            out["verdict"], out["duck_error"] = "crash", f"{type(exc).__name__}: {_line(exc)}"
            return out
        if oracle is None:
            out["verdict"] = "both_error" if duck is None else "error_answered"
            if duck is not None:
                out["duck"] = str(duck.to_pylist())[:300]
            return out
        if duck is None:
            out["verdict"] = "loud"
            return out
        try:
            compare(oracle, duck, ordered=_order_keys(sql), types=True)
            out["verdict"] = "equal"
        except AssertionError as exc:
            out["verdict"], out["diff"] = "silent", str(exc)[:500]
        return out


def _order_keys(sql: str) -> list[str]:
    """The output columns an outer ORDER BY sorts on ([] for the one-call queries)."""
    if "ORDER BY" not in sql:
        return []
    from tests.cross_engine_support import order_keys

    try:
        return order_keys(sql)
    except Exception:  # sqlglot cannot parse it: compare as multisets
        return []


def _root() -> Path:
    import os

    from idcbq.sources.sample import ensure_sample
    from tests.fixtures.sample import REPO, sample_code_hash

    root = Path(
        os.environ.get("IDCBQ_TEST_SAMPLE_ROOT", REPO / ".cache" / f"sample-{sample_code_hash()}")
    )
    os.environ["IDCBQ_SAMPLE_ROOT"] = str(root)
    return ensure_sample(root)


def _line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__


_STRICT = "--strict-- "  # a query for Judge.strict_verdict


def _worker(conn) -> None:
    judge = _Judge()
    conn.send("ready")
    while True:
        sql = conn.recv()
        if sql is None:
            return
        if sql.startswith(_STRICT):
            conn.send(judge.strict_verdict(sql[len(_STRICT) :]))
        else:
            conn.send(judge.verdict(sql))


def run(items: list[tuple[str, str]], timeout: float) -> list[dict]:
    """Each query's verdict, in a worker restarted after a timeout."""
    ctx = mp.get_context("fork")  # the parent holds no engine or thread yet
    results, proc, conn = [], None, None
    for function, sql in items:
        if proc is None:
            conn, child = ctx.Pipe()
            proc = ctx.Process(target=_worker, args=(child,), daemon=True)
            proc.start()
            child.close()  # so a worker that dies is an EOFError here, not a hang
            conn.recv()
        conn.send(sql)
        if conn.poll(timeout):
            try:
                result = conn.recv()
            except EOFError:  # the worker died (a crash in an engine's native code)
                proc.join()
                proc, result = None, {"sql": sql, "verdict": "worker_died"}
        else:
            proc.kill()
            proc.join()
            proc = None
            result = {"sql": sql, "verdict": "timeout"}
        result["function"] = function
        results.append(result)
    if proc is not None:
        conn.send(None)
        proc.join(5)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.fuzz", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--per-signature", type=int, default=4)
    parser.add_argument("-k", dest="only", default=None, help="functions whose name contains this")
    parser.add_argument("--timeout", type=float, default=30.0)
    parser.add_argument("--out", type=Path, default=None, help="write every verdict as JSON")
    parser.add_argument(
        "--wrong-types",
        action="store_true",
        help="calls with a mistyped argument, through the strict layer alone (no analyzer)",
    )
    parser.add_argument("--columns", action="store_true", help="values as a row's fields")
    parser.add_argument("--forms-only", action="store_true", help="only tests.fuzz.forms' calls")
    parser.add_argument("--discover", action="store_true", help="rewrite the signatures file")
    parser.add_argument(
        "--compose",
        type=int,
        default=0,
        metavar="N",
        help="N composed queries (tests.fuzz.compose)",
    )
    parser.add_argument(
        "--discover-returns", action="store_true", help="rewrite compose's result types file"
    )
    args = parser.parse_args(argv)
    if args.discover:
        CACHE.unlink(missing_ok=True)
    signatures = load_or_discover(CACHE)
    if args.only:
        signatures = {k: v for k, v in signatures.items() if args.only.lower() in k}
    if args.compose:
        return _compose(signatures, args)
    if args.wrong_types:
        items = [
            (name, _STRICT + sql)
            for name, sql in wrong_type_queries(signatures, args.seed, args.per_signature)
        ]
        results = run(items, args.timeout)
        for r in results:
            r["sql"] = r["sql"].removeprefix(_STRICT)
            if r["verdict"] in ("invalid_answered", "crash"):
                print(f"{r['verdict']:>16}  {r['sql']}\n{'':>18}{r.get('analyzer', '')[:200]}")
        counts = collections.Counter(r["verdict"] for r in results)
        if args.out:
            args.out.write_text(json.dumps(results, indent=1))
        print(" ".join(f"{k}={v}" for k, v in sorted(counts.items())) + f" queries={len(results)}")
        return 1 if counts["invalid_answered"] or counts["crash"] else 0
    items = (
        []
        if args.forms_only
        else queries(signatures, args.seed, args.per_signature, as_columns=args.columns)
    )
    items += [
        item
        for item in all_forms(args.seed, args.per_signature * 2)
        if not args.only or args.only.lower() in item[0]
    ]
    results = run(items, args.timeout)
    counts = collections.Counter(r["verdict"] for r in results)
    for r in results:
        if r["verdict"] not in ("equal", "both_error", "loud"):
            detail = r.get("diff") or r.get("duck") or r.get("duck_error") or ""
            print(f"{r['verdict']:>14}  {r['sql']}\n{'':>16}{detail[:300]}")
    if args.out:
        args.out.write_text(json.dumps(results, indent=1))
    print(" ".join(f"{k}={counts.get(k, 0)}" for k in VERDICTS) + f" queries={len(results)}")
    return 1 if counts["silent"] or counts["error_answered"] or counts["crash"] else 0


def _compose(signatures: dict[str, list[Signature]], args: argparse.Namespace) -> int:
    """The composed mode: verdict counts per shape, every non-equal one printed."""
    from tests.fuzz import compose

    returns = compose.load_returns(signatures, rediscover=args.discover_returns)
    items = compose.queries(returns, args.seed, args.compose)
    results = run(items, args.timeout)
    for r in results:
        if r["verdict"] not in ("equal", "both_error", "loud"):
            detail = r.get("diff") or r.get("duck") or r.get("duck_error") or ""
            print(f"{r['verdict']:>14}  {r['sql']}\n{'':>16}{detail[:300]}")
    by_shape = collections.defaultdict(collections.Counter)
    for r in results:
        by_shape[r["function"]][r["verdict"]] += 1
    for shape, counts in sorted(by_shape.items()):
        print(f"{shape:>12}: " + " ".join(f"{k}={v}" for k, v in sorted(counts.items())))
    counts = collections.Counter(r["verdict"] for r in results)
    if args.out:
        args.out.write_text(json.dumps(results, indent=1))
    print(" ".join(f"{k}={counts.get(k, 0)}" for k in VERDICTS) + f" queries={len(results)}")
    return 1 if counts["silent"] or counts["error_answered"] or counts["crash"] else 0


if __name__ == "__main__":
    sys.exit(main())
