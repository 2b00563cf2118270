"""BigQuery engine package: auth, table naming, parameters, cost guard, results.

``google.cloud.bigquery`` is imported only when an engine is built or used.
"""

from __future__ import annotations

from idcbq.engines.bigquery.cost import CostGuard, Estimate, billed_bytes, format_bytes, job_labels
from idcbq.engines.bigquery.engine import BigQueryEngine, JobStats, schema_field

__all__ = [
    "BigQueryEngine",
    "CostGuard",
    "Estimate",
    "JobStats",
    "billed_bytes",
    "format_bytes",
    "job_labels",
    "schema_field",
]
