"""GoogleSQL analysis of rendered BigQuery SQL: what BigQuery's own front end rejects.

The statement is analyzed by ZetaSQL (the analyzer that defines BigQuery's dialect)
against the IDC catalog: the engine's schema when there is one (the export's Parquet
footers), else idcbq's reference schema. Language options are BigQuery's (all released
features, PRODUCT_EXTERNAL, UTC). A rejection becomes a ValidationError at the
template's file:line:col with GoogleSQL's message, e.g. ``Aggregations of aggregations
are not allowed`` for ``SELECT MIN(x) AS x ... HAVING MIN(x) > 0``.

Cost (measured by ``python -m bench googlesql``): the first analysis in a process
starts the module (~1.5-3 s with the compiled-module cache); a warm analysis of a
query on ``dicom_all`` (181 nested columns) takes ~40-100 ms on a loaded 2-core box.
(~100 ms CPU; about 10 ms for a table of 10 columns: the cost grows with the
table's nested columns). That is above the ~50 ms budget for every query, so the
analysis is ON in ``idcbq templates check`` and the magic's dry run (and the googlesql
engine, the tests' oracle, always analyzes), and opt-in elsewhere: ``idcbq.connect(..., googlesql_analysis=True)`` or env
``IDCBQ_GOOGLESQL_ANALYSIS=1``. The googlesql engine always analyzes.

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
) -> list[ValidationError]:
    """GoogleSQL's verdict on ``sql``: [] if it analyzes (or cannot be analyzed here).

    Args:
        sql: rendered BigQuery SQL (one statement).
        params: bound parameters (their declared types are declared to the analyzer).
        schema: ``(dataset, table) -> fields``; default the reference schema.
        idc_version: the version bare table names resolve to.
        location_map: maps rendered lines back to the template (file:line:col).
    """
    if not available():
        return []
    from idcbq.engines.googlesql import analysis
    from idcbq.templates.locations import LocationMap
    from idcbq.validate.columns import reference_schema

    global _CATALOGS
    if _CATALOGS is None:
        _CATALOGS = analysis.CatalogCache()
    version = IdcVersion.parse(idc_version)
    resolver = make_resolver(schema or reference_schema, version, data_project)
    found: dict[tuple[str, ...], tuple[tuple[str, str], tuple[Field, ...]]] = {}

    def resolve(parts: Sequence[str]) -> tuple[str, str] | None:
        hit = resolver(parts)
        if hit is None:
            return None
        found[hit[0]] = hit
        return hit[0]

    lmap = location_map or LocationMap.identity("<sql>", sql)
    try:
        rewritten, unknown = analysis.rewrite(sql, resolve)
        if unknown:  # a table outside the IDC catalog: GoogleSQL cannot know its columns
            return []
        tables = {analysis.flat_name(key): fields for key, (_k, fields) in found.items()}
        analysis.analyze(rewritten, sql, tables, analysis.param_types(params), catalogs=_CATALOGS)
    except ValidationError as exc:
        return [_relocate(exc, sql, lmap)]
    return []


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
