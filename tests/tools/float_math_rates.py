"""How often FLOAT64 math functions differ, bitwise, between GoogleSQL and DuckDB.

For each function, a few thousand sampled arguments (wide ranges, special values,
domain edges) are evaluated by GoogleSQL's reference implementation, by idcbq's DuckDB
pipeline (``--pipeline``) or raw DuckDB, by Python's ``math`` (the C library's) and, where
``mpmath`` is installed, correctly rounded. Printed per function: arguments compared,
how many DuckDB answers differ from GoogleSQL's, and how many of each engine's answers
differ from the C library's and from the correctly rounded value.

Run from a worktree::

    PYTHONPATH=$PWD /work/main/.venv/bin/python -m tests.tools.float_math_rates \
        [--pipeline] [--n 2000] [FUNCTION ...]
"""

from __future__ import annotations

import argparse
import math
import os
import random
import struct
from pathlib import Path

SPECIAL = [0.0, -0.0, 5e-324, -5e-324, 2.2250738585072014e-308, 1e-310, math.inf, -math.inf]
SPECIAL += [math.nan, 1.0, -1.0, 0.5, -0.5, 2.0, 1e-8, 1e300, -1e300, 1.7976931348623157e308]
UNIT = [1.0, -1.0, 0.9999999999999999, -0.9999999999999999, 1.0000000000000002]


def _wide(rng: random.Random) -> float:
    return rng.choice([-1, 1]) * 10 ** rng.uniform(-20, 20)


def _unit(rng: random.Random) -> float:
    return (
        rng.uniform(-1, 1)
        if rng.random() < 0.8
        else rng.choice([-1, 1]) * 10 ** -rng.uniform(0, 16)
    )


def _small(rng: random.Random) -> float:
    return rng.uniform(-20, 20) if rng.random() < 0.7 else rng.uniform(-710, 710)


def _positive(rng: random.Random) -> float:
    return 10 ** rng.uniform(-300, 300) if rng.random() < 0.5 else rng.uniform(0, 10)


def _above_one(rng: random.Random) -> float:
    return 1 + 10 ** rng.uniform(-15, 1) if rng.random() < 0.6 else 10 ** rng.uniform(0, 300)


def _trig(rng: random.Random) -> float:
    r = rng.random()
    if r < 0.6:
        return rng.uniform(-10, 10)
    if r < 0.9:
        return rng.choice([-1, 1]) * 10 ** rng.uniform(-10, 6)
    return rng.choice([-1, 1]) * 10 ** rng.uniform(6, 308)  # huge: argument reduction


def _nonzero_trig(rng: random.Random) -> float:
    return _trig(rng) or 1.0


# name: (arity, sampler, Python's libm equivalent, mpmath name or None)
FUNCTIONS = {
    "SIN": (_trig, math.sin, "sin"),
    "COS": (_trig, math.cos, "cos"),
    "TAN": (_trig, math.tan, "tan"),
    "COT": (_nonzero_trig, lambda x: 1 / math.tan(x), "cot"),
    "CSC": (_nonzero_trig, lambda x: 1 / math.sin(x), "csc"),
    "SEC": (_trig, lambda x: 1 / math.cos(x), "sec"),
    "ASIN": (_unit, math.asin, "asin"),
    "ACOS": (_unit, math.acos, "acos"),
    "ATAN": (_wide, math.atan, "atan"),
    "SINH": (_small, math.sinh, "sinh"),
    "COSH": (_small, math.cosh, "cosh"),
    "TANH": (_small, math.tanh, "tanh"),
    "COTH": (_small, lambda x: 1 / math.tanh(x), "coth"),
    "CSCH": (_small, lambda x: 1 / math.sinh(x), "csch"),
    "SECH": (_small, lambda x: 1 / math.cosh(x), "sech"),
    "ASINH": (_wide, math.asinh, "asinh"),
    "ACOSH": (_above_one, math.acosh, "acosh"),
    "ATANH": (_unit, math.atanh, "atanh"),
    "EXP": (_small, math.exp, "exp"),
    "LN": (_positive, math.log, "ln"),
    "LOG10": (_positive, math.log10, "log10"),
    "SQRT": (_positive, math.sqrt, "sqrt"),
    "CBRT": (_wide, lambda x: math.copysign(abs(x) ** (1 / 3), x), "cbrt"),
}
BINARY = {
    "ATAN2": (lambda r: (_wide(r), _wide(r)), math.atan2, "atan2"),
    "POW": (lambda r: (_positive(r) % 100, r.uniform(-50, 50)), math.pow, "power"),
    "LOG": (lambda r: (_positive(r), _positive(r)), lambda x, b: math.log(x) / math.log(b), "log"),
}


def literal(x: float) -> str:
    if math.isnan(x):
        return "CAST('nan' AS FLOAT64)"
    if math.isinf(x):
        return f"CAST('{'-' if x < 0 else ''}inf' AS FLOAT64)"
    return repr(x) if "e" in repr(x) or "." in repr(x) else repr(x) + ".0"


def bits(x) -> int | None:
    if x is None:
        return None
    if isinstance(x, float) and math.isnan(x):
        return -1  # every NaN alike
    return struct.unpack("<q", struct.pack("<d", x))[0]


def libm(fn, *args) -> float | None:
    try:
        return fn(*args)
    except (ValueError, OverflowError, ZeroDivisionError):
        return None


def correct(name: str, *args) -> float | None:
    try:
        import mpmath
    except ImportError:
        return None
    if any(math.isnan(a) or math.isinf(a) for a in args):
        return None
    mpmath.mp.prec = 300
    try:
        value = getattr(mpmath, name)(*[mpmath.mpf(a) for a in args])
    except (ValueError, ZeroDivisionError):
        return None
    if isinstance(value, mpmath.mpc) or not mpmath.isfinite(value):
        return None
    with mpmath.workprec(53):
        return float(mpmath.mpf(value))  # correctly rounded (subnormals aside)


def samples(arity_sampler, n: int, seed: int, binary: bool) -> list:
    rng = random.Random(seed)
    if binary:
        out = [(a, b) for a in SPECIAL[:10] for b in [0.0, -0.0, 1.0, -1.0, math.inf, 0.5]]
        return out + [arity_sampler(rng) for _ in range(n)]
    return SPECIAL + UNIT + [arity_sampler(rng) for _ in range(n)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("functions", nargs="*")
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--pipeline", action="store_true", help="DuckDB through idcbq, not raw")
    parser.add_argument("--show", type=int, default=0, help="print this many differing inputs")
    opts = parser.parse_args()

    from idcbq.engines.duckdb import DuckDBEngine
    from idcbq.engines.googlesql import GoogleSQLEngine
    from idcbq.errors import IdcbqError
    from tests.fixtures.sample import REPO, sample_code_hash

    root = Path(
        os.environ.get("IDCBQ_TEST_SAMPLE_ROOT", REPO / ".cache" / f"sample-{sample_code_hash()}")
    )
    if not root.exists():
        root = Path("/work/main/.cache") / f"sample-{sample_code_hash()}"
    gsql = GoogleSQLEngine.from_options(source=root, idc_version="current")
    duck = DuckDBEngine.from_options(source=root, idc_version="current")
    import duckdb

    raw = duckdb.connect()
    names = opts.functions or [*FUNCTIONS, *BINARY]
    print(
        f"{'fn':7} {'n':>5} {'duck!=gsql':>10} {'gsql!=libm':>10} {'duck!=libm':>10}"
        f" {'gsql!=CR':>9} {'duck!=CR':>9}"
    )
    for seed, name in enumerate(names):
        binary = name in BINARY
        sampler, pyfn, mpname = (BINARY if binary else FUNCTIONS)[name]
        args = samples(sampler, opts.n, seed, binary)
        rows = [a if binary else (a,) for a in args]
        fields = "ab"[: len(rows[0])]
        structs = ", ".join(
            "STRUCT("
            + ", ".join(f"{literal(v)} AS {f}" for v, f in zip(row, fields, strict=True))
            + ")"
            for row in rows
        )
        cols = ", ".join(f"s.{f}" for f in fields)
        gsql_sql = f"SELECT i, SAFE.{name}({cols}) AS y FROM UNNEST([{structs}]) AS s WITH OFFSET i"
        table = gsql.execute(gsql.prepare(gsql_sql, ()))
        g = dict(zip(table.column("i").to_pylist(), table.column("y").to_pylist(), strict=True))
        if opts.pipeline:
            try:
                table = duck.execute(duck.prepare(gsql_sql, ()))
            except IdcbqError as exc:
                print(f"{name:7} {len(rows):5} refused: {exc.message.splitlines()[0][:70]}")
                continue
            d = dict(zip(table.column("i").to_pylist(), table.column("y").to_pylist(), strict=True))
        else:
            fn = {"LN": "ln", "POW": "pow"}.get(name, name.lower())
            dcols = ", ".join(f"c{i}" for i in range(len(rows[0])))
            values = ", ".join(
                "(" + str(i) + ", " + ", ".join(f"'{v!r}'::DOUBLE" for v in row) + ")"
                for i, row in enumerate(rows)
            )
            d = dict(
                raw.sql(
                    f"SELECT i, try({fn}({dcols})) FROM (VALUES {values}) t(i, {dcols})"
                ).fetchall()
            )
        counts = [0] * 5
        shown = 0
        for i, row in enumerate(rows):
            gi, di = g.get(i), d.get(i)
            lib = libm(pyfn, *row)
            cr = correct(mpname, *row)
            if gi is None:  # an error in GoogleSQL: compare answers only
                continue
            diff = bits(gi) != bits(di)
            counts[0] += diff
            counts[1] += lib is not None and bits(gi) != bits(lib)
            counts[2] += lib is not None and bits(di) != bits(lib)
            counts[3] += cr is not None and bits(gi) != bits(cr)
            counts[4] += cr is not None and bits(di) != bits(cr)
            if diff and shown < opts.show:
                shown += 1
                print(f"   {name}{row}: gsql={gi!r} duck={di!r} libm={lib!r} cr={cr!r}")
        print(f"{name:7} {len(rows):5} " + " ".join(f"{c:>10}" for c in counts))


if __name__ == "__main__":
    main()
