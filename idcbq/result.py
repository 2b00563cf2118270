"""Query results: an Arrow table plus where it came from (for manifests and run records)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from idcbq.params import BoundParameter


@dataclass
class QueryResult:
    """Rows from one query, with provenance.

    ``source_sql`` is the BigQuery SQL that was validated; ``sql`` what the engine ran.
    """

    table: pa.Table
    engine: str
    idc_version: str
    sql: str
    source_sql: str
    params: tuple[BoundParameter, ...] = ()
    template: str | None = None
    source: str | None = None
    elapsed_s: float = 0.0
    bytes_processed: int | None = None
    created: datetime = field(default_factory=lambda: datetime.now(UTC))
    #: Why a query returned no rows, when a filter value is not in the source (or None).
    empty_hint: str | None = None
    #: Which check validated the query: ``googlesql-analyzer`` or ``strict``, plus
    #: ``+bigquery-dry-run`` on BigQuery (see :mod:`idcbq.validate.gate`).
    validated_by: str | None = None
    #: The IDC release datasets the query read (``idc_v15``, ``idc_current_clinical``...).
    idc_datasets: tuple[str, ...] = ()

    def to_arrow(self) -> pa.Table:
        return self.table

    def to_pandas(self) -> pd.DataFrame:
        """A DataFrame; Arrow-backed dtypes keep nested and nullable columns intact."""
        from idcbq.core.compat import to_pandas  # a clear error in a half-upgraded session

        return to_pandas(self.table)

    def __len__(self) -> int:
        return self.table.num_rows

    @property
    def columns(self) -> list[str]:
        return list(self.table.column_names)

    @property
    def sql_hash(self) -> str:
        return hashlib.sha256(self.source_sql.encode()).hexdigest()[:16]

    def provenance(self) -> dict[str, Any]:
        """What a manifest or run record states about how these rows were chosen."""
        from idcbq.core.version import __version__

        return {
            "tool": "idcbq",
            "tool_version": __version__,
            "engine": self.engine,
            "idc_version": self.idc_version,
            "idc_datasets": list(self.idc_datasets),
            "source": self.source,
            "template": self.template,
            "parameters": {p.name: _jsonable(p.value) for p in self.params},
            "parameter_types": {p.name: str(p.type) for p in self.params},
            "sql_sha256": self.sql_hash,
            "validated_by": self.validated_by,
            "created": self.created.isoformat(),
            "rows": self.table.num_rows,
        }


def _jsonable(value: Any) -> Any:
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
