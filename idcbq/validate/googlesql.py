"""GoogleSQL analysis of rendered BigQuery SQL: what BigQuery's own front end rejects.

The statement is analyzed by ZetaSQL (the analyzer that defines BigQuery's dialect)
against the IDC catalog: the engine's schema when there is one (the export's Parquet
footers), else idcbq's reference schema. Language options are BigQuery's (all released
features, PRODUCT_EXTERNAL, UTC). A rejection becomes a ValidationError at the
template's file:line:col with GoogleSQL's message, e.g. ``Aggregations of aggregations
are not allowed`` for ``SELECT MIN(x) AS x ... HAVING MIN(x) > 0``.

It runs on every query by default, from :mod:`idcbq.validate.gate` (after the strict
layer); ``IDCBQ_GOOGLESQL_ANALYSIS=0`` turns it off. Verdicts are cached
(:mod:`idcbq.engines.googlesql.verdicts`), and fresh CLI processes ask a warm helper
(:mod:`idcbq.engines.googlesql.helper`); ``python -m bench gate`` measures the costs.

A query that analyzes has its output columns' GoogleSQL types recorded
(:func:`idcbq.engines.conform.remember_types`): the DuckDB engine conforms its result
to them exactly (a value that cannot conform is an error). So is each resolved
expression's type by its span in the SQL text
(:func:`idcbq.engines.analyzed_spans.remember_spans`): the DuckDB translation's typed
rewrites read them where sqlglot cannot type a value.

If the ``zetasql`` package is not installed the analysis is skipped with a one-line
notice (logger ``idcbq``). Queries naming tables outside the IDC catalog (a user's
own project) are not analyzed: GoogleSQL cannot know their columns.

Example:
    >>> problems = analyze_sql("SELECT MIN(x) AS x FROM (SELECT 1 AS x) HAVING MIN(x) > 0")  # doctest: +SKIP
    >>> str(problems[0]).splitlines()[0]  # doctest: +SKIP
    '<sql>:1:52: GoogleSQL: Aggregations of aggregations are not allowed'
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from idcbq.errors import ValidationError
from idcbq.sources.releases import IDC_DATA_PROJECT, IdcVersion

if TYPE_CHECKING:
    from idcbq.params import BoundParameter
    from idcbq.sources.schema import Field
    from idcbq.templates.locations import LocationMap

log = logging.getLogger("idcbq")
_NOTICE_GIVEN = False
_IDC_DATASET = re.compile(r"^idc_(current|v\d+)(_clinical)?$", re.IGNORECASE)
_WORD = re.compile(r"[A-Za-z_0-9@`.]+")
_CATALOGS: Any = None

ENV = "IDCBQ_GOOGLESQL_ANALYSIS"


def enabled_by_env(environ: Any = None) -> bool:
    """True if ``IDCBQ_GOOGLESQL_ANALYSIS`` asks for the analysis (1/true/yes/on)."""
    value = (environ if environ is not None else os.environ).get(ENV, "")
    return value.strip().lower() in ("1", "true", "yes", "on")


def available() -> bool:
    """True if zetasql is installed; else log a one-line notice (once per process)."""
    global _NOTICE_GIVEN
    from idcbq.engines.googlesql.runtime import zetasql_available

    if zetasql_available():
        return True
    if not _NOTICE_GIVEN:
        _NOTICE_GIVEN = True
        log.warning(
            "GoogleSQL analysis skipped: zetasql is not installed (pip install 'idcbq[googlesql]')"
        )
    return False


def make_resolver(
    schema: Callable[[str, str], tuple[Field, ...] | None],
    idc_version: IdcVersion,
    data_project: str = IDC_DATA_PROJECT,
) -> Callable[[Sequence[str]], tuple[tuple[str, str], tuple[Field, ...]] | None]:
    """A table-path resolver over a schema lookup: path -> ((dataset, table), fields)."""

    def resolve(parts: Sequence[str]) -> tuple[tuple[str, str], tuple[Field, ...]] | None:
        parts = list(parts)
        if len(parts) == 3:
            if parts[0] != data_project:
                return None
            parts = parts[1:]
        if len(parts) == 1:
            key = (idc_version.dataset, parts[0])
        elif len(parts) == 2:
            dataset = idc_version.clinical_dataset if parts[0] == "clinical" else parts[0]
            if not _IDC_DATASET.match(dataset):
                return None
            key = (dataset, parts[1])
        else:
            return None
        fields = schema(*key)
        return (key, tuple(fields)) if fields else None

    return resolve


def analyze_sql(
    sql: str,
    *,
    params: Sequence[BoundParameter] = (),
    schema: Callable[[str, str], tuple[Field, ...] | None] | None = None,
    idc_version: IdcVersion | str | None = None,
    data_project: str = IDC_DATA_PROJECT,
    location_map: LocationMap | None = None,
    tree: Any = None,
    use_cache: bool = True,
) -> list[ValidationError]:
    """GoogleSQL's verdict on ``sql``: [] if it analyzes (or cannot be analyzed here).

    A verdict seen before (same SQL, parameter types, table schemas and analyzer
    version) comes from the verdict cache (:mod:`idcbq.engines.googlesql.verdicts`)
    without starting the analyzer.

    Args:
        sql: rendered BigQuery SQL (one statement).
        params: bound parameters (their declared types are declared to the analyzer).
        schema: ``(dataset, table) -> fields``; default the reference schema.
        idc_version: the version bare table names resolve to.
        location_map: maps rendered lines back to the template (file:line:col).
        tree: the statement parsed by sqlglot (parsed here if not given).
        use_cache: read and write the verdict cache.
    """
    from idcbq.engines.googlesql import verdicts
    from idcbq.templates.locations import LocationMap
    from idcbq.validate.columns import reference_schema

    version = IdcVersion.parse(idc_version)
    resolver = make_resolver(schema or reference_schema, version, data_project)
    lmap = location_map or LocationMap.identity("<sql>", sql)
    key = None
    if use_cache:
        tables = _named_tables(sql, tree, resolver)
        types = {p.name: str(p.type) for p in params}
        key = verdicts.verdict_key(sql, types, verdicts.schema_fingerprint(tables))
        hit = verdicts.lookup(key)
        if hit is not None:
            if hit["ok"]:
                _accept(hit, sql, params)
                return []
            return [_relocate(_from_verdict(hit), sql, lmap)]
    from idcbq.engines.googlesql import helper

    if key is not None and helper.enabled():  # a fresh CLI process: the warm helper
        request = helper.request_for(sql, params, tables, version, data_project)
        reply = helper.ask(request)
        if reply is not None:
            verdicts.store(key, reply)
            if reply["ok"]:
                _accept(reply, sql, params)
                return []
            return [_relocate(_from_verdict(reply), sql, lmap)]
        if available():
            helper.start_in_background()  # for the next process; this one analyzes itself
    if not available():
        return []
    problem, types, typed = run_analysis(sql, params, resolver)
    verdict = verdict_of(problem, types, typed)
    if key is not None:
        verdicts.store(key, verdict)
    if problem is None:
        _accept(verdict, sql, params)
    return [] if problem is None else [_relocate(problem, sql, lmap)]


def _named_tables(sql: str, tree: Any, resolver: Callable) -> dict[tuple[str, str], Any]:
    """``{(dataset, table): fields}`` of the tables ``sql`` names (sqlglot; no analyzer)."""
    from sqlglot import exp

    if tree is None:
        import sqlglot

        try:
            tree = sqlglot.parse_one(sql, read="bigquery")
        except Exception:
            return {}
    ctes = {c.alias_or_name.lower() for c in tree.find_all(exp.CTE)}
    found: dict[tuple[str, str], Any] = {}
    for table in tree.find_all(exp.Table):
        parts = [p for p in (table.catalog, table.db, table.name) if p]
        if not parts or (len(parts) == 1 and parts[0].lower() in ctes):
            continue
        hit = resolver(parts)
        found[tuple(hit[0]) if hit else (".".join(parts), "?")] = hit[1] if hit else None
    return found


def run_analysis(
    sql: str, params: Sequence[BoundParameter], resolver: Callable
) -> tuple[ValidationError | None, Any, Any]:
    """Run the analyzer: (refusal located in ``sql`` or None, output types or None,
    expression types by span in ``sql`` or None; see
    :func:`idcbq.engines.googlesql.expression_types.expression_types`)."""
    from idcbq.engines.googlesql import analysis, compat
    from idcbq.engines.googlesql.expression_types import expression_types
    from idcbq.engines.googlesql.output_types import output_types

    global _CATALOGS
    if _CATALOGS is None:
        _CATALOGS = analysis.CatalogCache()
    found: dict[tuple[str, ...], tuple[tuple[str, str], tuple[Field, ...]]] = {}

    def resolve(parts: Sequence[str]) -> tuple[str, str] | None:
        hit = resolver(parts)
        if hit is None:
            return None
        found[hit[0]] = hit
        return hit[0]

    fixed = compat.apply(sql)  # BigQuery this ZetaSQL build lacks (INT, MAX_BY, ...)
    try:
        rewritten, unknown = analysis.rewrite(fixed.sql, resolve)
        if unknown:  # a table outside the IDC catalog: GoogleSQL cannot know its columns
            return None, None, None
        tables = {analysis.flat_name(key): fields for key, (_k, fields) in found.items()}
        resolved, _ids, _tables = analysis.resolve_statement(
            rewritten, fixed.sql, tables, analysis.param_types(params), catalogs=_CATALOGS
        )
    except ValidationError as exc:
        return _uncompat(exc, fixed, sql), None, None
    types = output_types(resolved)
    typed = expression_types(resolved, rewritten.edits, fixed.sql, fixed.edits)
    return _duplicate_names(types), types, typed


def _duplicate_names(types: Any) -> ValidationError | None:
    """BigQuery refuses a result with two columns of one name; GoogleSQL's analyzer does not.

    Example:
        >>> _duplicate_names([("x", "INT64"), ("X", "INT64"), ("$col1", "INT64")]).message
        'Duplicate column names in the result are not supported. Found duplicate(s): X'
        >>> _duplicate_names([("$col1", "INT64"), ("$col2", "INT64")]) is None
        True
    """
    seen: set[str] = set()
    dups = sorted(
        {
            name
            for name, _spec in types or ()
            if not name.startswith("$") and (name.lower() in seen or seen.add(name.lower()))
        }
    )
    if not dups:
        return None
    from idcbq.errors import Location

    return ValidationError(
        f"Duplicate column names in the result are not supported. Found duplicate(s): "
        f"{', '.join(dups)}",
        location=Location("<sql>", 1, 1),  # the query's result: its start
        hint="BigQuery refuses it too: give the columns distinct aliases",
    )


def verdict_of(
    problem: ValidationError | None, types: Any = None, typed: Any = None
) -> dict[str, Any]:
    """A JSON-able verdict: ok (with GoogleSQL's output types and expression types by
    span) or the refusal."""
    if problem is None:
        return {"ok": True, "types": _jsonable(types), "expression_types": typed}
    loc = problem.location
    return {
        "ok": False,
        "message": problem.message,
        "line": loc.line if loc else None,
        "column": loc.column if loc else None,
        "hint": problem.hint,
    }


def _jsonable(spec: Any) -> Any:
    return [_jsonable(x) for x in spec] if isinstance(spec, (list, tuple)) else spec


def _spec(value: Any) -> Any:
    """Back from JSON lists to the tuples :mod:`idcbq.engines.conform` reads."""
    return tuple(_spec(x) for x in value) if isinstance(value, list) else value


def _accept(verdict: dict[str, Any], sql: str, params: Sequence[BoundParameter]) -> None:
    """Record an ok verdict's output types so the DuckDB result is conformed to them,
    and its expression types for the DuckDB translation's typed rewrites."""
    from idcbq.engines.analyzed_spans import remember_spans
    from idcbq.engines.conform import remember_types

    types = verdict.get("types")
    remember_types(sql, None if types is None else _spec(types), params)
    remember_spans(sql, verdict.get("expression_types"), params)


def _from_verdict(verdict: dict[str, Any]) -> ValidationError:
    from idcbq.errors import Location

    return ValidationError(
        verdict["message"],
        location=Location("<sql>", verdict.get("line"), verdict.get("column")),
        hint=verdict.get("hint"),
    )


def _uncompat(exc: ValidationError, fixed: Any, sql: str) -> ValidationError:
    """Move an error located in the compat-rewritten text to the original text."""
    from idcbq.engines.googlesql.compat import original_line_col
    from idcbq.errors import Location

    loc = exc.location
    if not fixed.changed or loc is None or loc.line is None or loc.column is None:
        return exc
    line, col = original_line_col(fixed, sql, loc.line, loc.column)
    return ValidationError(exc.message, location=Location(loc.path, line, col), hint=exc.hint)


def _relocate(exc: ValidationError, sql: str, lmap: LocationMap) -> ValidationError:
    """Map an error located in the rendered SQL to the template's file:line:col."""
    loc = exc.location
    if loc is None or loc.line is None:
        return ValidationError(exc.message, location=lmap.locate(None), hint=exc.hint)
    token = None
    lines = sql.splitlines()
    if loc.column and 0 < loc.line <= len(lines):
        m = _WORD.match(lines[loc.line - 1], loc.column - 1)
        token = m.group(0) if m else None
    return ValidationError(
        exc.message, location=lmap.locate(loc.line, loc.column, token=token), hint=exc.hint
    )
