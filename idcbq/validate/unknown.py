"""Unknown names: one rule for tables, releases, collections and sources (issue 17 l).

- A name that is not an IDC table (``dicom_metadata_nope``) is a mistake in the query:
  exit 2, with the nearest IDC table names ("did you mean ...?").
- A real IDC table or release that the chosen source does not hold (``dicom_pivot`` on
  the embedded sample, ``idc_v99``) is a property of the source: exit 6
  (:class:`~idcbq.errors.SourceError`), naming what the source has and which sources
  have the rest.
- IDC's display forms (``QIN-LUNG-CT``) and near misses (``--source idc-indx``) get a
  did-you-mean to the form idcbq expects (``qin_lung_ct``, ``idc-index``).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from idcbq.errors import SourceError

if TYPE_CHECKING:
    from idcbq.sources.exports import ExportRoot
    from idcbq.validate.tables import TableAllowList, TableRef

#: Where every IDC release and table is (for "which sources have it").
EVERYWHERE = "--engine bigquery (every IDC release and table)"
#: Where IDC's full Parquet export is (every table IDC exports, recent releases).
FULL_EXPORT = "--source s3://idc-open-metadata (IDC's full Parquet export)"
#: Source names the CLI and API accept besides paths and URLs.
SOURCE_NAMES = ("idc", "idc-index", "sample")

_RELEASE = re.compile(r"^idc_(v\d+|current)(_clinical)?$", re.IGNORECASE)


def normal_name(text: str) -> str:
    """IDC's id form of a display name: ``QIN-LUNG-CT`` -> ``qin_lung_ct``."""
    return re.sub(r"[^a-z0-9]+", "_", text.strip().lower()).strip("_")


def did_you_mean(name: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    """The candidates nearest to ``name``: same id form first, then close spellings."""
    pool = sorted(set(candidates))
    same = [c for c in pool if normal_name(c) == normal_name(name) and c != name]
    close = difflib.get_close_matches(name.lower(), [c.lower() for c in pool], n=n, cutoff=0.6)
    by_lower = {c.lower(): c for c in pool}
    out = same + [by_lower[c] for c in close if by_lower[c] not in same and by_lower[c] != name]
    return out[:n]


def suggestion(name: str, candidates: Iterable[str]) -> str | None:
    """``did you mean a, b?`` or None."""
    near = did_you_mean(name, candidates)
    return f"did you mean {', '.join(near)}?" if near else None


def unknown_table_hint(name: str, allow: TableAllowList) -> str:
    """The hint for a table that is not allowed: the nearest known names, then what is."""
    from idcbq.templates.render import IDC_TABLES

    known = set(allow.bare_tables or IDC_TABLES)
    near = suggestion(name.split(".")[-1], known)
    return "; ".join(p for p in (near, f"allowed: {allow.describe()}") if p)


def is_idc_table(name: str) -> bool:
    """True for a table of IDC's datasets or of idc-index (``index``, ...)."""
    from idcbq.sources.idc_index import INDEX_TABLES
    from idcbq.templates.render import IDC_TABLES

    return name.lower() in IDC_TABLES or name.lower() in INDEX_TABLES


def source_lacks(refs: Iterable[TableRef], export: ExportRoot, label: str) -> SourceError | None:
    """A SourceError for the first IDC release or table the export does not hold, or None.

    Only real IDC names count: releases ``idc_vNN``/``idc_current`` (and ``_clinical``),
    tables known to IDC (clinical tables: any name); anything else was reported as
    unknown by validation already.
    """
    idc_refs = [
        ref
        for ref in refs
        if _RELEASE.match(ref.dataset) and (ref.is_clinical or is_idc_table(ref.table))
    ]
    for ref in idc_refs:
        if export.has_table(ref.dataset, ref.table):
            continue
        absent = release_absent([ref], export, label)
        if absent is not None:
            return absent
        tables = export.tables(ref.dataset)
        return SourceError(
            f"table {ref.dataset}.{ref.table} is not in {label}",
            hint=f"tables there: {', '.join(tables) or 'none'}; "
            f"other sources: {EVERYWHERE}; {FULL_EXPORT}",
        )
    return None


def release_absent(refs: Iterable[TableRef], export: ExportRoot, label: str) -> SourceError | None:
    """A SourceError for the first IDC release named in ``refs`` that ``export`` neither
    holds nor can derive, or None; lists folders only, so it builds nothing.

    The sample derives a release on first use: a script naming 25 releases fails on the
    one it lacks before building the other 24.
    """
    names = [ref.dataset for ref in refs if _RELEASE.match(ref.dataset)]
    if not names:
        return None
    datasets = export.datasets()
    absent = next((name for name in names if name not in datasets), None)
    return None if absent is None else _release_missing(absent, datasets, export, label)


def _release_missing(
    dataset: str, datasets: list[str], export: ExportRoot, label: str
) -> SourceError:
    from idcbq.sources.catalog import sort_datasets

    releases = [
        d.removeprefix("idc_")
        for d in sort_datasets(datasets)
        if _RELEASE.match(d) and not d.endswith("_clinical")
    ]
    reason = export.missing_reason(dataset)
    near = None if reason else suggestion(dataset, datasets)
    return SourceError(
        f"IDC release {dataset} is not in {label}",
        hint="; ".join(
            p
            for p in (
                reason,
                near,
                f"releases there: {', '.join(releases) or 'none'}",
                f"other sources: {EVERYWHERE}; {FULL_EXPORT}",
            )
            if p
        ),
    )


def refs_in_sql(sql: str, allow: TableAllowList) -> list[TableRef]:
    """The allowed table references of a BigQuery statement (best effort: [] if unparsable)."""
    import sqlglot
    from sqlglot import exp

    from idcbq.validate.tables import cte_in_scope

    try:
        tree = sqlglot.parse_one(sql, read="bigquery")
    except sqlglot.errors.SqlglotError:
        return []
    out = []
    for table in tree.find_all(exp.Table):
        if not isinstance(table.this, exp.Identifier) or cte_in_scope(table):
            continue
        ref = allow.resolve(table.catalog, table.db, table.name)
        if ref is not None:
            out.append(ref)
    return out


def source_name_hint(text: str) -> str | None:
    """``did you mean --source idc-index?`` for a near miss of a named source."""
    name = str(text).rstrip("/").rsplit("/", 1)[-1]
    near = did_you_mean(name, SOURCE_NAMES, n=1)
    return f"did you mean --source {near[0]}?" if near else None


def describe_source(engine: Any) -> str:
    """How errors name an engine's source."""
    export = getattr(engine, "export", None)
    return str(export.location.url) if export is not None else str(getattr(engine, "source", ""))


def release_column_hint(message: str, refs: Iterable[TableRef], pinned: str) -> str | None:
    """For "unknown column X": which referenced release lacks X and why (IDC added or
    removed it), e.g. ``idc_v15.dicom_all has no Versioned_Source_DOI: IDC added it to
    dicom_all in v20``; None if no release explains it."""
    from idcbq.sources.sample.history import column_note

    match = re.match(r"unknown column ([A-Za-z_][A-Za-z0-9_]*)", message.split(": ", 1)[-1])
    if match is None:
        return None
    column = match.group(1)
    for ref in refs:
        dataset = pinned if ref.dataset == "idc_current" and pinned else ref.dataset
        number = re.match(r"^idc_v(\d+)$", dataset)
        if number is None:
            continue
        note = column_note(ref.table, column, int(number.group(1)))
        if note:
            return f"{dataset}.{ref.table} has no {column}: {note}"
    return None


@lru_cache(maxsize=256)  # a pure function of its text, asked after every query
def datasets_read(sql: str, pinned: str) -> tuple[str, ...]:
    """The IDC release datasets a BigQuery statement reads (bare tables: ``pinned``), sorted.

    Example:
        >>> datasets_read("SELECT 1 FROM `bigquery-public-data.idc_v15.dicom_all` JOIN x", "idc_v25")
        ('idc_v15',)
        >>> datasets_read("SELECT 1 FROM dicom_all", "idc_v14")
        ('idc_v14',)
    """
    import sqlglot
    from sqlglot import exp

    from idcbq.sources.catalog import sort_datasets
    from idcbq.templates.render import IDC_TABLES
    from idcbq.validate.tables import cte_in_scope

    try:
        trees = sqlglot.parse(sql, read="bigquery")
    except sqlglot.errors.SqlglotError:
        return ()
    found: set[str] = set()
    for tree in trees:
        if tree is None:
            continue
        for table in tree.find_all(exp.Table):
            if cte_in_scope(table):
                continue
            if table.db and _RELEASE.match(table.db):
                found.add(table.db)
            elif not table.db and table.name.lower() in IDC_TABLES:
                found.add(pinned)
    return tuple(sort_datasets(found))
