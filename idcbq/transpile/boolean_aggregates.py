"""COUNTIF, LOGICAL_OR and LOGICAL_AND as GoogleSQL defines them over NULLs and DISTINCT.

Probes: ``tests/probes/aggregates.yaml`` and ``tests/probes/loud29.yaml``.
"""

from __future__ import annotations

from sqlglot import exp

from idcbq.errors import TranspileError
from idcbq.transpile.rules import handles


@handles(exp.CountIf)
def countif_zero(tree: exp.Expr) -> exp.Expr:
    """``COUNTIF(cond)`` is 0 in BigQuery when no row's condition is TRUE (even all NULL);
    DuckDB's ``COUNT_IF`` gives NULL over all-NULL input. ``COUNT(CASE WHEN …)`` keeps 0 and
    still works as a window aggregate. ``COUNTIF(DISTINCT cond)`` counts the distinct TRUE
    values (0 or 1): ``COUNT(DISTINCT CASE WHEN cond THEN TRUE END)`` (DuckDB cannot parse
    ``COUNT_IF(DISTINCT …)``)."""
    for node in list(tree.find_all(exp.CountIf)):
        cond = node.this
        if isinstance(cond, exp.Distinct):
            if len(cond.expressions) != 1:
                raise TranspileError("unsupported on DuckDB: COUNTIF(DISTINCT) of several values")
            hit = exp.Case(ifs=[exp.If(this=cond.expressions[0].copy(), true=exp.true())])
            node.replace(exp.Count(this=exp.Distinct(expressions=[hit])))
            continue
        hit = exp.Case(ifs=[exp.If(this=cond.copy(), true=exp.Literal.number(1))])
        node.replace(exp.Count(this=hit))
    return tree


@handles(exp.LogicalOr, exp.LogicalAnd)
def logical_distinct(tree: exp.Expr) -> exp.Expr:
    """``LOGICAL_OR(DISTINCT b)`` / ``LOGICAL_AND(DISTINCT b)``: repeats change neither, so
    DISTINCT is dropped (DuckDB cannot parse ``BOOL_OR(DISTINCT …)``)."""
    for node in list(tree.find_all(exp.LogicalOr, exp.LogicalAnd)):
        arg = node.this
        if isinstance(arg, exp.Distinct) and len(arg.expressions) == 1:
            node.set("this", arg.expressions[0])
    return tree
