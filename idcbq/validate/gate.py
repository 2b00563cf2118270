"""The gate every query passes before any engine runs it (CLI, API, magic, jobs).

Two layers, the strongest available:

1. the strict BigQuery layer (:mod:`idcbq.validate.strict`): needs nothing beyond
   sqlglot; refuses syntax and functions BigQuery does not have, checks arity; when
   the analyzer does not run, also what is certainly badly typed
   (:mod:`idcbq.validate.strict_types`);
2. GoogleSQL's analyzer (:mod:`idcbq.validate.googlesql`) when the ``zetasql`` package
   is importable: BigQuery's own front end, with BigQuery's language features.

The analyzer is on by default; ``IDCBQ_GOOGLESQL_ANALYSIS=0`` (or ``false``/``no``/
``off``) turns it off. Without zetasql the strict layer runs alone and one notice per
session says the check is partial and how to get the full one.

A result says which check validated it (:attr:`QueryResult.validated_by`, the
provenance file, a line of ``--dry-run``): ``googlesql-analyzer`` or ``strict``
(BigQuery results add ``+bigquery-dry-run``).

Example:
    >>> analysis_wanted({"IDCBQ_GOOGLESQL_ANALYSIS": "0"})
    False
    >>> analysis_wanted({})
    True
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from idcbq.errors import ValidationError

if TYPE_CHECKING:
    from sqlglot import exp

    from idcbq.params import BoundParameter
    from idcbq.sources.releases import IdcVersion
    from idcbq.sources.schema import Field
    from idcbq.templates.locations import LocationMap

ENV = "IDCBQ_GOOGLESQL_ANALYSIS"
ANALYZER = "googlesql-analyzer"
STRICT = "strict"
BIGQUERY_DRY_RUN = "bigquery-dry-run"
PARTIAL_NOTICE = (
    "idcbq: the query check is partial (strict BigQuery layer only): the zetasql package "
    "is not installed. For BigQuery's own front end on every query: "
    "pip install 'idcbq[googlesql]' (then `idcbq googlesql warm` to compile it once)"
)
_OFF = ("0", "false", "no", "off")
_notice_given = False
log = logging.getLogger("idcbq")


def analysis_wanted(environ: Mapping[str, str] | None = None) -> bool:
    """False only if ``IDCBQ_GOOGLESQL_ANALYSIS`` says off; on by default."""
    value = (environ if environ is not None else os.environ).get(ENV, "")
    return value.strip().lower() not in _OFF


def analyzer_available() -> bool:
    """True if zetasql and wasmtime are installed (found, not imported: importing
    wasmtime alone costs ~0.4 s, which a cached verdict does not need)."""
    try:
        return all(_found(m) for m in ("zetasql.wasi", "wasmtime"))
    except (ImportError, ValueError):  # a module set to None in sys.modules, a broken package
        return False


def _found(name: str) -> bool:
    """``importlib.util.find_spec(name) is not None``; the search of the path (a few
    stat calls per query) once per process, unless ``sys.modules`` has a say (the
    module or its package imported, or set to None)."""
    import importlib.util
    import sys

    parent = name.rpartition(".")[0]
    if name in sys.modules or (parent and sys.modules.get(parent, False) is None):
        return importlib.util.find_spec(name) is not None
    return _found_on_path(name)


@functools.lru_cache(maxsize=8)
def _found_on_path(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


def notice_partial() -> None:
    """Say once per session that the check is partial and how to get the full one."""
    global _notice_given
    if not _notice_given:
        _notice_given = True
        log.warning(PARTIAL_NOTICE)


def run_gate(
    tree: exp.Expression,
    sql: str,
    lmap: LocationMap,
    add: Callable[[ValidationError], None],
    *,
    params: Sequence[BoundParameter] = (),
    schema: Callable[[str, str], tuple[Field, ...] | None] | None = None,
    idc_version: IdcVersion | None = None,
    data_project: str | None = None,
    analyze: bool | None = None,
) -> str:
    """Run the strict layer, then (if wanted and installed) the analyzer; return validated_by.

    Args:
        tree: the parsed statement (sqlglot, BigQuery dialect).
        sql: rendered BigQuery SQL.
        lmap: maps rendered positions to the template's file:line:col.
        add: receives each problem.
        analyze: True/False force the analyzer on/off; None reads the environment.
    """
    from idcbq.validate.strict import check_strict

    found: list[ValidationError] = []
    check_strict(tree, sql, lmap, found.append)
    wanted = analysis_wanted() if analyze is None else analyze
    alone = not wanted or not analyzer_available()
    if alone and not found:  # the analyzer types better; without it, the strict types
        from idcbq.validate.strict_types import check_types

        check_types(
            tree,
            sql,
            lmap,
            found.append,
            params=params,
            schema=schema,
            idc_version=idc_version,
            data_project=data_project,
        )
    for problem in found:
        add(problem)
    if not wanted:
        return STRICT
    if alone:
        notice_partial()
        return STRICT
    if found:  # the analyzer would only repeat the refusal, less precisely
        return ANALYZER
    from idcbq.sources.releases import IDC_DATA_PROJECT
    from idcbq.validate.googlesql import analyze_sql

    for problem in analyze_sql(
        sql,
        tree=tree,
        params=params,
        schema=schema,
        idc_version=idc_version,
        data_project=data_project or IDC_DATA_PROJECT,
        location_map=lmap,
    ):
        add(problem)
    return ANALYZER


def describe(validated_by: str | None) -> str:
    """One line for ``--dry-run``: which check validated the query."""
    if not validated_by:
        return "Validated by: not checked"
    parts = {
        ANALYZER: "GoogleSQL analyzer (BigQuery's front end)",
        STRICT: "strict BigQuery layer only (partial: GoogleSQL analysis off or not installed)",
        BIGQUERY_DRY_RUN: "BigQuery dry run",
    }
    return "Validated by: " + " + ".join(parts.get(p, p) for p in validated_by.split("+"))


def with_engine(validated_by: str | None, engine: Any) -> str | None:
    """Add the BigQuery dry run for the BigQuery engine (it dry-runs before running)."""
    dry_runs = getattr(engine, "name", None) == "bigquery" and getattr(
        engine, "dry_run_first", True
    )
    if dry_runs and validated_by:
        return f"{validated_by}+{BIGQUERY_DRY_RUN}"
    return validated_by
