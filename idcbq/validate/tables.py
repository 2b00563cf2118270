"""Which tables a query may read: CTEs in scope, IDC datasets, user-declared tables."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from idcbq.sources.releases import IDC_DATA_PROJECT, IdcVersion

if TYPE_CHECKING:
    from sqlglot import exp


_IDC_DATASET = re.compile(r"^idc_(v\d+|current)(_clinical)?$", re.IGNORECASE)
_PLAIN_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class TableRef:
    """A resolved reference to a real table: BigQuery dataset and table name."""

    project: str | None
    dataset: str
    table: str

    @property
    def is_clinical(self) -> bool:
        return self.dataset.lower().endswith("_clinical")


@dataclass
class TableAllowList:
    """IDC datasets in the data project, bare IDC table names, plus declared extras.

    Example:
        >>> allow = TableAllowList(extra=["my-proj.cohorts.selected"])
        >>> allow.resolve("bigquery-public-data", "idc_v25", "dicom_all")
        TableRef(project='bigquery-public-data', dataset='idc_v25', table='dicom_all')
        >>> allow.resolve("", "", "dicom_all").dataset
        'idc_current'
        >>> allow.resolve("evil-proj", "idc_v25", "dicom_all") is None
        True
    """

    data_project: str = IDC_DATA_PROJECT
    idc_version: IdcVersion = field(default_factory=lambda: IdcVersion(None))
    extra: Iterable[str] = ()
    bare_tables: Iterable[str] | None = None

    def __post_init__(self) -> None:
        from idcbq.templates.render import IDC_TABLES

        self._bare = {t.lower() for t in (self.bare_tables or IDC_TABLES)}
        self._extra = {e.replace("`", "").lower() for e in self.extra}

    def resolve(self, catalog: str, db: str, name: str) -> TableRef | None:
        """The reference if allowed, else None."""
        full = ".".join(p for p in (catalog, db, name) if p).lower()
        if full in self._extra or any(full.endswith("." + e) for e in self._extra if "." in e):
            return TableRef(catalog or None, db, name)
        if not _PLAIN_NAME.match(name):
            return None
        if not db:
            if catalog or name.lower() not in self._bare:
                return None
            return TableRef(None, self.idc_version.dataset, name)
        if not _IDC_DATASET.match(db):
            return None
        if catalog and catalog.lower() != self.data_project.lower():
            return None
        return TableRef(catalog or None, db, name)

    def unknown_idc_table(self, ref: TableRef) -> bool:
        """True for a table of an IDC (non-clinical) dataset that IDC does not have."""
        full = ".".join(p for p in (ref.project, ref.dataset, ref.table) if p).lower()
        if self.bare_tables is not None or ref.is_clinical or full in self._extra:
            return False
        if not _IDC_DATASET.match(ref.dataset):
            return False
        from idcbq.sources.idc_index import INDEX_TABLES

        name = ref.table.lower()
        return name not in self._bare and name not in INDEX_TABLES  # idc-index's `index`, ...

    def describe(self) -> str:
        extra = f", or declared: {', '.join(sorted(self._extra))}" if self._extra else ""
        if self.bare_tables is not None:  # a source with its own tables (idc-index)
            return f"tables {', '.join(sorted(self._bare))}{extra}"
        return (
            f"IDC datasets idc_vNN / idc_current (and their _clinical datasets) in "
            f"{self.data_project}{extra}"
        )


def cte_in_scope(table: exp.Table) -> bool:
    """True if an unqualified table name refers to a CTE visible at that point."""
    from sqlglot import exp

    if table.args.get("db") or table.args.get("catalog"):
        return False
    name = table.name.lower()
    node: exp.Expression | None = table.parent
    while node is not None:
        with_ = node.args.get("with_") or node.args.get("with")
        if isinstance(with_, exp.With) and any(
            cte.alias_or_name.lower() == name for cte in with_.expressions
        ):
            return True
        node = node.parent
    return False
