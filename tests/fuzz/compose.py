"""Composed expressions in small query shapes, for the differential fuzzer.

:mod:`tests.fuzz.__main__` calls one function at a time; this module nests two or
three calls whose types line up (the inner call's GoogleSQL result type is an argument
type of the outer one, as the analyzer reports it: :data:`RETURNS`) and places the
expression in a query shape: SELECT list, WHERE, GROUP BY, HAVING, ORDER BY with
LIMIT, a window, DISTINCT, UNION, a subquery, a JOIN, an UNNEST, CASE/COALESCE/IF
branches of mixed numeric types. The rows are an UNNEST of typed STRUCTs (or a CTE
over one) with edge values. A run is reproducible from its seed.

Result types come from GoogleSQL's analyzer, never from a hand-written table; they are
cached in ``returns.json`` (regenerate: ``python -m tests.fuzz --compose 1 --discover-returns``).
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from tests.fuzz.signatures import Signature
from tests.fuzz.values import TEMPLATE_CHOICES, supported, value

#: ``[template, argument kinds, result kind, aggregate]`` rows, from the analyzer.
RETURNS = Path(__file__).resolve().parent / "returns.json"

#: The rows' typed columns (``id`` is unique, ``g`` a small group key).
COLUMNS = {
    "id": "INT64",
    "g": "INT64",
    "i": "INT64",
    "f": "FLOAT64",
    "n": "NUMERIC",
    "s": "STRING",
    "b": "BYTES",
    "d": "DATE",
    "ts": "TIMESTAMP",
    "ok": "BOOL",
}
BY_KIND: dict[str, list[str]] = {}
for _name, _kind in COLUMNS.items():
    if _name not in ("id", "g"):
        BY_KIND.setdefault(_kind, []).append(_name)

#: Operators and conditionals, typed by the analyzer like the functions.
OPERATORS = (
    [
        ("({0} + {1})", (a, b))
        for a in ("INT64", "FLOAT64", "NUMERIC")
        for b in ("INT64", "FLOAT64", "NUMERIC")
    ]
    + [
        ("({0} - {1})", ("INT64", "NUMERIC")),
        ("({0} * {1})", ("INT64", "FLOAT64")),
        ("({0} / {1})", ("INT64", "INT64")),
        ("({0} / {1})", ("NUMERIC", "INT64")),
        ("(-{0})", ("INT64",)),
        ("({0} || {1})", ("STRING", "STRING")),
        ("({0} || {1})", ("BYTES", "BYTES")),
        ("({0} < {1})", ("INT64", "FLOAT64")),
        ("({0} = {1})", ("NUMERIC", "FLOAT64")),
        ("({0} = {1})", ("STRING", "STRING")),
        ("({0} >= {1})", ("DATE", "DATE")),
        ("({0} IS NULL)", ("STRING",)),
        ("({0} IS NOT DISTINCT FROM {1})", ("FLOAT64", "FLOAT64")),
        ("({0} BETWEEN {1} AND {2})", ("INT64", "INT64", "FLOAT64")),
        ("({0} IN ({1}, {2}))", ("INT64", "NUMERIC", "FLOAT64")),
        ("({0} LIKE {1})", ("STRING", "STRING")),
        ("(NOT {0})", ("BOOL",)),
        ("({0} AND {1})", ("BOOL", "BOOL")),
        ("({0} OR {1})", ("BOOL", "BOOL")),
        ("{1}[SAFE_OFFSET({0})]", ("INT64", "ARRAY<STRING>")),
        ("ARRAY_LENGTH({0})", ("ARRAY<INT64>",)),
        ("({0} = '2020-02-29')", ("DATE",)),  # a string literal coerced to DATE
        ("({0} BETWEEN '2000-01-01' AND {1})", ("DATE", "DATE")),
        ("({0} < '2021-01-01 00:00:00+00')", ("TIMESTAMP",)),
        ("({0} IN (1, 2.5))", ("INT64",)),
        ("({0} DIV {1})", ("INT64", "INT64")),
        ("MOD({0}, {1})", ("INT64", "INT64")),
        ("(SELECT MAX(x) FROM UNNEST([{0}, {1}]) AS x)", ("INT64", "FLOAT64")),
        ("ARRAY(SELECT x FROM UNNEST([{0}, {1}]) AS x ORDER BY x)", ("STRING", "STRING")),
        ("EXISTS(SELECT 1 FROM UNNEST([{0}]) AS x WHERE x > {1})", ("NUMERIC", "INT64")),
    ]
    + [
        (tpl, kinds)
        for a, b in (
            ("INT64", "FLOAT64"),
            ("INT64", "NUMERIC"),
            ("NUMERIC", "FLOAT64"),
            ("STRING", "STRING"),
            ("DATE", "DATE"),
            ("INT64", "INT64"),
        )
        for tpl, kinds in (
            ("IF({0}, {1}, {2})", ("BOOL", a, b)),
            ("CASE WHEN {0} THEN {1} ELSE {2} END", ("BOOL", a, b)),
            ("CASE WHEN {0} THEN {1} END", ("BOOL", a)),
            ("COALESCE({0}, {1})", (a, b)),
            ("IFNULL({0}, {1})", (a, b)),
            ("NULLIF({0}, {1})", (a, b)),
            ("GREATEST({0}, {1})", (a, b)),
            ("CASE {0} WHEN {1} THEN 1 ELSE 2 END", (a, b)),
        )
    ]
)
#: Functions left out of composition (huge arrays, or no shape worth nesting).
LEFT_OUT = ("generate_", "grouping", "elementwise_")


def _call(name: str, arity: int) -> str:
    return f"{name.upper()}({', '.join('{' + str(i) + '}' for i in range(arity))})"


def candidates(signatures: dict[str, list[Signature]]) -> list[tuple[str, tuple[str, ...], bool]]:
    """Every ``(template, kinds, aggregate)`` the analyzer is asked to type."""
    from tests.fuzz.__main__ import _is_aggregate

    out = [(t, k, False) for t, k in OPERATORS]
    for name in sorted(signatures):
        if name.startswith(LEFT_OUT):
            continue
        aggregate = _is_aggregate(name)
        for sig in signatures[name]:
            bindings = TEMPLATE_CHOICES if any("T1" in a for a in sig.args) else ("",)
            for binding in bindings:
                kinds = [a.replace("T1", binding) for a in sig.args]
                for arity in sig.arities():
                    if arity == 0 or not all(supported(k) for k in kinds[:arity]):
                        continue
                    row = (_call(name, arity), tuple(kinds[:arity]), aggregate)
                    if row not in out:
                        out.append(row)
    return out


def discover_returns(signatures: dict[str, list[Signature]]) -> list[list]:
    """The analyzer's result type of each candidate called with typed NULLs."""
    from idcbq.sources.releases import IdcVersion
    from idcbq.validate.columns import reference_schema
    from idcbq.validate.googlesql import make_resolver, run_analysis

    resolver = make_resolver(reference_schema, IdcVersion.parse(None), "bigquery-public-data")
    rows = []
    for template, kinds, aggregate in candidates(signatures):
        args = [f"CAST(NULL AS {k})" for k in kinds]
        tail = " FROM UNNEST([1])" if aggregate else ""  # an aggregate needs a FROM clause
        sql = f"SELECT {template.format(*args)} AS v{tail}"
        problem, types, _ = run_analysis(sql, (), resolver)
        if problem is None and types and supported(str(types[0][1])):
            rows.append([template, list(kinds), str(types[0][1]), aggregate])
    return rows


def load_returns(signatures: dict[str, list[Signature]], *, rediscover: bool = False) -> list:
    """The cached result types (discovered and written when missing)."""
    if RETURNS.exists() and not rediscover:
        return json.loads(RETURNS.read_text())
    rows = discover_returns(signatures)
    RETURNS.write_text("[\n" + ",\n".join(json.dumps(r) for r in rows) + "\n]\n")
    return rows


def _duckdb_runs(template: str) -> bool:
    """Whether idcbq lists the call's function for DuckDB (others are always loud)."""
    from idcbq.transpile.capability import DUCKDB_FUNCTIONS

    head = template.split("(", 1)[0]
    return (
        not head
        or not head.isidentifier()
        or head in DUCKDB_FUNCTIONS
        or head in ("IF", "CASE", "COALESCE", "IFNULL", "NULLIF", "MOD", "ARRAY", "EXISTS")
    )


class Composer:
    """Seeded expressions of a wanted type and query shapes around them."""

    def __init__(self, returns: list, seed: int) -> None:
        self.rng = random.Random(seed)
        self.scalar: dict[str, list[tuple[str, list[str]]]] = {}
        self.aggregate: dict[str, list[tuple[str, list[str], str]]] = {}
        for template, kinds, result, aggregate in returns:
            if not _duckdb_runs(template):
                continue
            if aggregate:
                self.aggregate.setdefault(kinds[0], []).append((template, kinds, result))
            else:
                self.scalar.setdefault(result, []).append((template, kinds))

    def leaf(self, kind: str) -> str:
        if kind in BY_KIND and self.rng.random() < 0.55:
            return self.rng.choice(BY_KIND[kind])
        return value(kind, self.rng, null_rate=0.05)

    def expr(self, kind: str, depth: int) -> str:
        """An expression of GoogleSQL type ``kind`` nesting up to ``depth`` calls."""
        calls = self.scalar.get(kind)
        if depth > 0 and calls and self.rng.random() < 0.8:
            template, kinds = self.rng.choice(calls)
            # one argument nests deeper, the others are leaves or shallow calls
            deep = self.rng.randrange(len(kinds))
            args = [
                self.expr(
                    k, depth - 1 if i == deep else self.rng.choice((0, 0, 1)) if depth > 1 else 0
                )
                for i, k in enumerate(kinds)
            ]
            return template.format(*args)
        return self.leaf(kind)

    def typed_expr(self, depth: int) -> tuple[str, str]:
        """``(sql, kind)`` of an expression of any column kind."""
        kind = self.rng.choice(
            ("INT64", "FLOAT64", "NUMERIC", "STRING", "BYTES", "DATE", "TIMESTAMP", "BOOL")
        )
        return self.expr(kind, depth), kind

    def source(self) -> tuple[str, str]:
        """``(WITH prefix, FROM item)``: typed STRUCT rows, unnested or through a CTE."""
        fields = ", ".join(f"{n} {k}" for n, k in COLUMNS.items())
        rows = []
        for row_id in range(1, self.rng.randint(2, 6) + 1):
            cells = [str(row_id), self.rng.choice(("1", "2", "NULL"))]
            cells += [
                value(k, self.rng, null_rate=0.2)
                for n, k in COLUMNS.items()
                if n not in ("id", "g")
            ]
            rows.append(f"({', '.join(cells)})")
        unnest = f"UNNEST(ARRAY<STRUCT<{fields}>>[{', '.join(rows)}])"
        self.rows = unnest  # a second FROM item over the same rows
        if self.rng.random() < 0.5:
            self.rows = "src"
            return f"WITH src AS (SELECT * FROM {unnest}) ", "src"
        return "", f"{unnest} AS src"

    def query(self) -> tuple[str, str]:
        """``(shape, sql)``: one composed expression in one query shape."""
        shape = self.rng.choice(SHAPES)
        with_, src = self.source()
        depth = self.rng.randint(2, 3)
        return shape, with_ + getattr(self, "_" + shape)(src, depth)

    # --- shapes -------------------------------------------------------------------

    def _select(self, src: str, depth: int) -> str:
        e, _ = self.typed_expr(depth)
        alias = self.rng.choice((" AS v", ""))  # no alias: BigQuery's f0_ name
        named = self.rng.choice(("", ", src.i", ", (s)", ", i AS I2, n", ", ok AND TRUE"))
        return f"SELECT id, {e}{alias}{named} FROM {src}"

    def _where(self, src: str, depth: int) -> str:
        return f"SELECT id FROM {src} WHERE {self.expr('BOOL', depth)}"

    def _group_by(self, src: str, depth: int) -> str:
        e, _ = self.typed_expr(depth)
        key = self.rng.choice(("k", "1", e))
        return f"SELECT {e} AS k, COUNT(*) AS c FROM {src} GROUP BY {key}"

    def _aggregate(self, src: str, depth: int) -> str:
        kind = self.rng.choice([k for k in self.aggregate if k in self.scalar or k in BY_KIND])
        template, kinds, _ = self.rng.choice(self.aggregate[kind])
        args = [self.expr(kinds[0], depth - 1)] + [value(k, self.rng, 0.0) for k in kinds[1:]]
        call = template.format(*args)
        having = self.rng.choice(("", " HAVING COUNT(*) > 1", f" HAVING {call} IS NOT NULL"))
        return f"SELECT g, {call} AS a FROM {src} GROUP BY g{having}"

    def _order_limit(self, src: str, depth: int) -> str:
        e, _ = self.typed_expr(depth)
        direction = self.rng.choice(
            ("", " DESC", " ASC NULLS LAST", " DESC NULLS FIRST", " NULLS LAST", " DESC NULLS LAST")
        )
        limit = self.rng.choice(("", " LIMIT 2", " LIMIT 3 OFFSET 1"))
        return f"SELECT {e} AS v, id FROM {src} ORDER BY v{direction}, id{limit}"

    def _window(self, src: str, depth: int) -> str:
        e, kind = self.typed_expr(depth)
        fn = self.rng.choice(
            (
                "ROW_NUMBER()",
                "RANK()",
                "DENSE_RANK()",
                f"COUNT({e})",
                f"MAX({e})",
                f"FIRST_VALUE({e})",
                f"LAG({e})",
                f"LEAD({e}, 1)",
            )
        )
        order = self.rng.choice((f"{e}, id", "id", f"{e} DESC, id"))
        if kind in ("BOOL",) and fn.startswith("MAX"):
            fn = "ROW_NUMBER()"
        return f"SELECT id, {fn} OVER (PARTITION BY g ORDER BY {order}) AS w FROM {src}"

    def _distinct(self, src: str, depth: int) -> str:
        e, _ = self.typed_expr(depth)
        return f"SELECT DISTINCT {e} AS v FROM {src}"

    def _union(self, src: str, depth: int) -> str:
        a = self.rng.choice(("INT64", "FLOAT64", "NUMERIC"))
        b = self.rng.choice(("INT64", "FLOAT64", "NUMERIC"))
        how = self.rng.choice(("UNION ALL", "UNION DISTINCT"))
        return (
            f"SELECT {self.expr(a, depth)} AS v FROM {src} {how} "
            f"SELECT {self.expr(b, depth - 1)} FROM {src}"
        )

    def _subquery(self, src: str, depth: int) -> str:
        e, _ = self.typed_expr(depth)
        if self.rng.random() < 0.5:
            return (
                f"SELECT id, (SELECT MAX(x) FROM UNNEST([{e}]) AS x) AS v FROM {src} "
                f"WHERE id IN (SELECT id FROM {src} WHERE {self.expr('BOOL', 1)})"
            )
        return f"SELECT v, id FROM (SELECT id, {e} AS v FROM {src}) WHERE id > 1"

    def _join(self, src: str, depth: int) -> str:
        e, _ = self.typed_expr(depth)
        how = self.rng.choice(("JOIN", "LEFT JOIN"))
        return (
            f"SELECT id, id2, {e} AS v FROM {src} {how} "
            f"(SELECT id AS id2, g FROM {self.rows}) USING (g)"
        )

    def _unnest(self, src: str, depth: int) -> str:
        kind = self.rng.choice(
            [k for k in self.scalar if k.startswith("ARRAY<")] or ["ARRAY<INT64>"]
        )
        e = self.expr(kind, depth)
        return f"SELECT id, x, o FROM {src}, UNNEST({e}) AS x WITH OFFSET AS o"

    def _mixed(self, src: str, depth: int) -> str:
        a = self.rng.choice(("INT64", "FLOAT64", "NUMERIC"))
        b = self.rng.choice(("INT64", "FLOAT64", "NUMERIC"))
        x, y, c = self.expr(a, depth - 1), self.expr(b, depth - 1), self.expr("BOOL", 1)
        form = self.rng.choice(
            (
                f"CASE WHEN {c} THEN {x} ELSE {y} END",
                f"COALESCE({x}, {y})",
                f"IF({c}, {x}, {y})",
                f"CAST({x} AS STRING)",
                f"FORMAT('%t', {x})",
                f"TO_JSON_STRING(STRUCT({x} AS a, {y}))",
            )
        )
        return f"SELECT id, {form} AS v FROM {src}"


SHAPES = (
    "select",
    "where",
    "group_by",
    "aggregate",
    "order_limit",
    "window",
    "distinct",
    "union",
    "subquery",
    "join",
    "unnest",
    "mixed",
)


def queries(returns: list, seed: int, count: int) -> list[tuple[str, str]]:
    """``count`` ``(shape, sql)`` pairs, the same for the same seed."""
    composer = Composer(returns, seed)
    return [composer.query() for _ in range(count)]
