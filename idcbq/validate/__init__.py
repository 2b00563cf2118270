"""Checks on rendered BigQuery SQL before any engine sees it.

``validate`` parses with sqlglot (BigQuery dialect) and rejects, each with the template
file, line, column and snippet: syntax errors, more than one statement, anything not a
read-only query (DML, DDL, ``EXPORT DATA``, ``MERGE``, scripting), functions that reach
outside IDC data, tables outside the allow-list (in CTEs, subqueries and joins too),
undeclared ``@parameters``, badly typed values and unknown columns ("did you mean").

The checks read the parsed tree only; nothing is rewritten (sqlglot's ``qualify`` would
lowercase identifiers), so the SQL that runs is exactly the SQL that was checked.

Example:
    >>> from idcbq.params import BoundParameter
    >>> sql = "SELECT SeriesInstanceUID FROM dicom_all WHERE Modality = @m"
    >>> _ = validate(sql, params=[BoundParameter.of("m", "STRING", "CT")])
    >>> validate("SELECT Modalty FROM dicom_all")
    Traceback (most recent call last):
    ...
    idcbq.errors.ValidationError: <sql>:1:8: unknown column Modalty
        SELECT Modalty FROM dicom_all
               ^
      hint: did you mean Modality?
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from idcbq.core.gcpause import pausing_gc
from idcbq.errors import ValidationError
from idcbq.sources.releases import IDC_DATA_PROJECT, IdcVersion
from idcbq.templates.locations import LocationMap
from idcbq.validate.columns import SchemaLookup, check_columns, reference_schema
from idcbq.validate.params import check_parameters, used_parameters
from idcbq.validate.statements import (
    check_functions,
    check_names,
    check_read_only,
    parse_statements,
)
from idcbq.validate.table_check import check_tables
from idcbq.validate.tables import TableAllowList, TableRef

if TYPE_CHECKING:
    from sqlglot import exp

    from idcbq.params import BoundParameter

__all__ = [
    "TableAllowList",
    "TableRef",
    "ValidatedQuery",
    "check",
    "reference_schema",
    "used_parameters",
    "validate",
]


@dataclass
class ValidatedQuery:
    """The checked SQL, its parsed tree and the IDC tables it reads."""

    sql: str
    tree: exp.Expression
    tables: list[TableRef] = field(default_factory=list)
    #: Which check validated it: ``googlesql-analyzer`` or ``strict`` (see validate.gate).
    validated_by: str | None = None
    #: ``[(name, type)]`` GoogleSQL gave the output columns (when its analysis ran).
    output_types: tuple | None = None


@pausing_gc  # sqlglot's trees are cycles: see idcbq.core.gcpause
def check(
    sql: str,
    *,
    params: Sequence[BoundParameter] = (),
    schema: SchemaLookup | None = reference_schema,
    allowed: TableAllowList | None = None,
    allowed_tables: Iterable[str] = (),
    idc_version: IdcVersion | str | None = None,
    data_project: str = IDC_DATA_PROJECT,
    location_map: LocationMap | None = None,
    googlesql: bool | None = None,
) -> tuple[ValidatedQuery | None, list[ValidationError]]:
    """Run every check; return the validated query (if parsable) and all problems found.

    ``googlesql``: True/False force GoogleSQL's analyzer on/off; None (default) runs it
    unless ``IDCBQ_GOOGLESQL_ANALYSIS=0`` (see :mod:`idcbq.validate.gate`).
    """
    problems: list[ValidationError] = []
    lmap = location_map or LocationMap.identity("<sql>", sql)
    allow = allowed or TableAllowList(
        data_project=data_project, idc_version=IdcVersion.parse(idc_version), extra=allowed_tables
    )
    tree = parse_statements(sql, lmap, problems.append)
    if tree is None:
        return None, problems
    if not check_read_only(tree, sql, lmap, problems.append):
        return None, problems
    check_functions(tree, sql, lmap, problems.append)
    check_names(tree, sql, lmap, problems.append)
    refs = check_tables(tree, sql, lmap, allow, problems.append)
    check_parameters(tree, sql, lmap, params, problems.append)
    if schema is not None and not problems:
        check_columns(tree, sql, lmap, refs, schema, problems.append)
    validated_by = None
    if not problems:  # the gate: strict BigQuery layer, then GoogleSQL's analyzer
        from idcbq.validate.gate import run_gate

        validated_by = run_gate(
            tree,
            sql,
            lmap,
            problems.append,
            params=params,
            schema=schema,
            idc_version=allow.idc_version,
            data_project=allow.data_project,
            analyze=googlesql,
        )
    unique = list(dict.fromkeys(refs.values()))
    result = ValidatedQuery(sql=sql, tree=tree, tables=unique, validated_by=validated_by)
    if validated_by and "googlesql" in validated_by and not problems:
        from idcbq.engines.conform import types_for

        result.output_types = types_for(sql, params)
    return result, problems


def validate(sql: str, **kwargs: object) -> ValidatedQuery:
    """Like :func:`check`, but raise the first problem as a ValidationError."""
    result, problems = check(sql, **kwargs)  # type: ignore[arg-type]
    if problems:
        first = problems[0]
        if len(problems) > 1:
            first.message += f" (and {len(problems) - 1} more problem(s))"
            first.args = (str(first),)
        raise first
    assert result is not None
    return result
