"""Qualify IDC table names in BigQuery SQL with the data project and dataset.

Templates render fully qualified names already; ad-hoc SQL may say ``dicom_all``
or ``idc_current.dicom_all``. We find table references with sqlglot and splice the
qualified name into the original text at the token's position, so comments,
formatting and everything else stay exactly as written.

Example:
    >>> from idcbq.sources.releases import IdcVersion
    >>> qualify_tables("SELECT 1 FROM dicom_all", data_project="p", idc_version=IdcVersion(25))
    'SELECT 1 FROM `p.idc_v25.dicom_all`'
    >>> qualify_tables("SELECT * FROM idc_current_clinical.t  # x",
    ...                data_project="p", idc_version=IdcVersion(25))
    'SELECT * FROM `p.idc_current_clinical.t`  # x'
"""

from __future__ import annotations

import re

from idcbq.errors import ValidationError
from idcbq.sources.releases import IDC_DATA_PROJECT, IdcVersion

IDC_DATASET_RE = re.compile(r"^idc_(current|v\d+)(_clinical)?$", re.IGNORECASE)


def qualify_tables(sql: str, *, data_project: str, idc_version: IdcVersion) -> str:
    """Return ``sql`` with IDC table references written as `` `project.dataset.table` ``.

    - bare names (not CTEs) go to the engine's IDC dataset (``idc_vNN`` / ``idc_current``);
    - ``idc_*`` datasets without a project get ``data_project``;
    - ``bigquery-public-data.idc_*`` goes to ``data_project`` when that differs (mirrors, tests).
    Anything else (other projects, other datasets) is left alone.
    """
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import ParseError

    try:
        trees = sqlglot.parse(sql, read="bigquery")
    except ParseError as exc:
        err = exc.errors[0] if exc.errors else {}
        raise ValidationError(
            f"cannot parse SQL: {err.get('description', exc)}",
            hint=f"line {err.get('line')}, column {err.get('col')}",
        ) from exc
    edits: list[tuple[int, int, str]] = []
    for tree in trees:
        if tree is None:
            continue
        ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
        for table in tree.find_all(exp.Table):
            target = _target(table, ctes, data_project, idc_version)
            if target is None:
                continue
            span = _span(table)
            if span is None:
                continue
            edits.append((*span, target))
    for start, end, text in sorted(edits, reverse=True):
        sql = sql[:start] + text + sql[end + 1 :]
    return sql


def _target(table, ctes: set[str], data_project: str, idc_version: IdcVersion) -> str | None:
    name = table.name
    db = table.args.get("db")
    catalog = table.args.get("catalog")
    if not name or not isinstance(table.this, _identifier_type()):
        return None  # UNNEST(...), table functions
    if db is None:
        if name.lower() in ctes:
            return None
        return f"`{data_project}.{idc_version.dataset}.{name}`"
    dataset = db.name
    if not IDC_DATASET_RE.match(dataset):
        return None
    if catalog is None:
        return f"`{data_project}.{dataset}.{name}`"
    if catalog.name == IDC_DATA_PROJECT and data_project != IDC_DATA_PROJECT:
        return f"`{data_project}.{dataset}.{name}`"
    return None


def _identifier_type() -> type:
    from sqlglot import exp

    return exp.Identifier


def _span(table) -> tuple[int, int] | None:
    starts, ends = [], []
    for part in table.parts:
        meta = part.meta
        if "start" not in meta or "end" not in meta:
            return None
        starts.append(meta["start"])
        ends.append(meta["end"])
    return min(starts), max(ends)
