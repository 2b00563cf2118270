"""Bind idcbq parameters as native BigQuery query parameters, with declared types.

Because every parameter carries its declared type, NULL scalars and empty arrays
bind fine (BigQuery cannot infer a type from ``None`` or ``[]``).

Example:
    >>> from idcbq.params import BoundParameter
    >>> p = to_query_parameter(BoundParameter.of("m", "ARRAY<STRING>", []))
    >>> p.name, p.array_type, p.values
    ('m', 'STRING', [])
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from idcbq.params import BoundParameter

# idcbq scalar names are BigQuery Standard SQL names already.
_BQ_TYPES = {
    "STRING": "STRING",
    "INT64": "INT64",
    "FLOAT64": "FLOAT64",
    "BOOL": "BOOL",
    "DATE": "DATE",
    "TIMESTAMP": "TIMESTAMP",
}


def to_query_parameter(param: BoundParameter) -> Any:
    """One ``ScalarQueryParameter`` or ``ArrayQueryParameter``."""
    from google.cloud import bigquery

    bq_type = _BQ_TYPES[param.type.scalar]
    if param.type.is_array:
        # A NULL array binds as an empty one: BigQuery has no NULL array parameter.
        return bigquery.ArrayQueryParameter(param.name, bq_type, list(param.value or []))
    return bigquery.ScalarQueryParameter(param.name, bq_type, param.value)


def to_query_parameters(params: Iterable[BoundParameter]) -> list[Any]:
    return [to_query_parameter(p) for p in params]
