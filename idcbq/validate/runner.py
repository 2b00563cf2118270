"""``templates check``: every problem of one template, without running it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from idcbq.errors import IdcbqError, ValidationError

if TYPE_CHECKING:
    from idcbq.templates import Template


def check_template(
    template: Template, *, idc_version: Any = None, schema: Any = None
) -> list[IdcbqError]:
    """Header, parameters, Jinja and SQL problems of ``template`` (empty list: fine).

    The template is rendered with each named example set (or the example values of
    its parameters) and each rendering is validated against the reference schema.
    """
    from idcbq.templates import bind_params, render
    from idcbq.validate import check, reference_schema

    try:
        header = template.header
        sets = (
            [dict(v) for v in header.examples.values()]
            if header.examples
            else [header.example_params()]
        )
    except IdcbqError as exc:
        return [exc]
    problems: list[IdcbqError] = []
    seen: set[str] = set()
    # A template that also runs on --source idc-index is checked on those tables too.
    sources = [None, "idc-index"] if header.idc_index else [None]
    for values, source in [(v, s) for v in sets for s in sources]:
        try:
            bound = bind_params(template, values)
            rendered = render(template, bound, idc_version=idc_version, source=source)
        except IdcbqError as exc:
            problems.append(exc)
            continue
        if source:
            from idcbq.sources.idc_index import schema_lookup as source_schema
        else:
            source_schema = schema or reference_schema
        result, found = check(
            rendered.sql,
            params=rendered.params,
            schema=source_schema,
            idc_version=idc_version,
            location_map=rendered.location_map,
            googlesql=True,
        )
        if result is not None and not found:
            found.extend(_output_mismatch(template, result.tree, rendered))
        for problem in found:
            if str(problem) not in seen:  # several example sets often hit the same line
                seen.add(str(problem))
                problems.append(problem)
    return problems


def _output_mismatch(template: Template, tree: Any, rendered: Any) -> list[IdcbqError]:
    """The header's ``output`` must name the query's result columns, in order."""
    from sqlglot import exp

    declared = list(template.header.output)
    if not declared:
        return []
    query = tree
    while isinstance(query, exp.SetOperation):
        query = query.left
    if not isinstance(query, exp.Select) or any(
        isinstance(s, exp.Star) or (isinstance(s, exp.Column) and isinstance(s.this, exp.Star))
        for s in query.expressions
    ):
        return []
    actual = query.named_selects
    if [c.lower() for c in actual] == [c.lower() for c in declared]:
        return []
    line = template.header_line_of("output")
    return [
        ValidationError(
            f"header output {declared} does not match the query's columns {actual}",
            location=template.location(line),
        )
    ]
