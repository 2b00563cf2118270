"""Why a query returned no rows: a filter value that is not in the source at all.

After a 0-row result on a local DuckDB source, each bound parameter that names a
``dicom_all`` column (``collection_id``, ``modalities`` -> ``Modality``, ...), and each
``column = 'value'`` / ``column IN (...)`` / ``column = @param`` filter of ad-hoc SQL on
such a column, is checked against the distinct values of that column, by a query with the values bound as
parameters. A value the source does not hold gives one line such as::

    no rows: collection_id 'nlst' is not in this source (the embedded sample holds
    12 collection_id values; use --source s3://idc-open-metadata or --engine bigquery
    for all of IDC)

BigQuery and remote exports are not checked (the check would scan and bill data).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from idcbq.engines.base import PreparedQuery


class Client(Protocol):
    """What is used here of :class:`idcbq.api.Client` (the API sits above; never imported)."""

    engine: Any
    source: Any

    def prepare_sql(
        self,
        sql: str,
        *,
        params: Mapping[str, Any] | None = None,
        types: Mapping[str, str] | None = None,
    ) -> PreparedQuery: ...

    def _schema(self, dataset: str, table: str) -> Any: ...


log = logging.getLogger("idcbq")

#: Parameter names (lower case) of the built-in templates -> the dicom_all column they filter.
PARAM_COLUMNS = {
    "collection_id": "collection_id",
    "collection_ids": "collection_id",
    "collections": "collection_id",
    "modality": "Modality",
    "modalities": "Modality",
    "patient_id": "PatientID",
    "patient_ids": "PatientID",
    "body_part": "BodyPartExamined",
    "body_parts": "BodyPartExamined",
    "series_uids": "SeriesInstanceUID",
    "study_uids": "StudyInstanceUID",
    "sop_class_uids": "SOPClassUID",
    "license_short_name": "license_short_name",
}

#: Distinct values fetched per column at most (more: only presence is checked).
MAX_DISTINCT = 5000


class NoRowsWarning(UserWarning):
    """A query returned no rows because a filter value is not in the source."""


def explain_empty(client: Client, prepared: PreparedQuery) -> str | None:
    """One line naming the filter values the source does not hold, or None."""
    engine = client.engine
    if engine.name != "duckdb" or _is_remote(client.source):
        return None
    try:
        columns = {
            f.name.lower(): f.name
            for f in client._schema(engine.idc_version.dataset, "dicom_all") or ()
        }
    except Exception:  # no dicom_all: nothing to compare with
        return None
    problems = []
    checks: dict[tuple[str, str], list[str]] = {}
    for param in prepared.params:
        column = PARAM_COLUMNS.get(param.name.lower()) or columns.get(param.name.lower())
        if column is None or column.lower() not in columns:
            continue
        values = param.value if isinstance(param.value, list) else [param.value]
        values = [v for v in values if isinstance(v, str)]
        if values:
            checks.setdefault((param.name, columns[column.lower()]), []).extend(values)
    # Ad-hoc SQL: ``column = 'x'``, ``column IN ('x', @p)``, ``column = @p`` in the SQL.
    for column, values in _sql_filters(prepared, columns):
        if not any(col == column for _name, col in checks):
            checks.setdefault((column, column), []).extend(values)
    for (name, column), values in checks.items():
        try:
            missing, total, near = _missing(client, column, values)
        except Exception as exc:  # the hint is a courtesy; never fail the query for it
            log.debug("no-rows check of %s failed: %s", column, exc)
            continue
        if missing:
            problems.append((name, column, missing, total, near))
    if not problems:
        return None
    where = _describe_source(client)
    parts = []
    for name, column, missing, total, near in problems:
        shown = ", ".join(repr(v) for v in missing[:5]) + (" ..." if len(missing) > 5 else "")
        verb = "is" if len(missing) == 1 else "are"
        label = name if name.lower() == column.lower() else f"{name} ({column})"
        text = f"{label} {shown} {verb} not in this source ({where} holds {total} {column} values"
        if near:
            text += f"; did you mean {', '.join(repr(v) for v in near[:5])}?"
        parts.append(text + ")")
    return (
        "no rows: "
        + "; ".join(parts)
        + ("; use --source s3://idc-open-metadata or --engine bigquery for all of IDC")
    )


def _sql_filters(prepared: PreparedQuery, columns: dict[str, str]) -> list[tuple[str, list[str]]]:
    """(dicom_all column, string values) of the equality and IN filters in the SQL."""
    try:
        import sqlglot
        from sqlglot import exp

        tree = sqlglot.parse_one(prepared.source_sql, read="bigquery")
    except Exception:  # the hint is a courtesy; an unparsable SQL gets none
        return []
    bound = {p.name.lower(): p.value for p in prepared.params}

    def values_of(node: exp.Expression) -> list[str]:
        if isinstance(node, exp.Literal) and node.is_string:
            return [node.this]
        if isinstance(node, exp.Parameter):
            value = bound.get(node.name.lower())
            value = value if isinstance(value, list) else [value]
            return [v for v in value if isinstance(v, str)]
        return []

    found: list[tuple[str, list[str]]] = []
    for node in tree.find_all(exp.EQ, exp.In):
        if isinstance(node, exp.EQ):
            sides = [(node.this, [node.expression]), (node.expression, [node.this])]
        else:
            unnest = node.args.get("unnest")
            others = list(unnest.expressions) if unnest is not None else node.expressions
            sides = [(node.this, others)]
        for col, others in sides:
            if not isinstance(col, exp.Column) or col.name.lower() not in columns:
                continue
            values = [v for other in others for v in values_of(other)]
            if values:
                found.append((columns[col.name.lower()], values))
    return found


def _missing(client: Client, column: str, values: list[str]) -> tuple[list[str], int, list[str]]:
    """(values not in the column, number of distinct values, case-insensitive near matches)."""
    col = f"`{column}`"
    prepared = client.prepare_sql(
        f"SELECT DISTINCT {col} AS v FROM dicom_all WHERE {col} IN UNNEST(@values)",
        params={"values": values},
        types={"values": "ARRAY<STRING>"},
    )
    found = {r["v"] for r in client.engine.execute(prepared).to_pylist()}
    missing = [v for v in dict.fromkeys(values) if v not in found]
    if not missing:
        return [], 0, []
    counted = client.prepare_sql(f"SELECT COUNT(DISTINCT {col}) AS n FROM dicom_all")
    total = int(client.engine.execute(counted).column("n")[0].as_py())
    near: list[str] = []
    if total <= MAX_DISTINCT:
        from idcbq.validate.unknown import normal_name

        # Same value but for case, or IDC's display form (QIN-LUNG-CT for qin_lung_ct).
        lowered = {v.lower() for v in missing} | {normal_name(v) for v in missing}
        listed = client.prepare_sql(
            f"SELECT DISTINCT {col} AS v FROM dicom_all WHERE LOWER({col}) IN UNNEST(@lowered)",
            params={"lowered": sorted(lowered)},
            types={"lowered": "ARRAY<STRING>"},
        )
        near = sorted(r["v"] for r in client.engine.execute(listed).to_pylist() if r["v"])
    return missing, total, near


def _is_remote(source: Any) -> bool:
    return bool(source) and "://" in str(source)


def _describe_source(client: Client) -> str:
    from pathlib import Path

    source = client.source
    if source and (Path(source) / "idcbq_sample.json").exists():
        return "the embedded sample"
    return f"the export at {source}" if source else "this source"
