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


#: The engines ``templates check`` reports on, in the order it lists them.
CHECK_ENGINES: tuple[str, ...] = ("bigquery", "googlesql", "duckdb")


def check_template_engines(
    template: Template,
    *,
    engines: tuple[str, ...] = CHECK_ENGINES,
    idc_version: Any = None,
    schema: Any = None,
) -> tuple[list[IdcbqError], dict[str, list[IdcbqError]]]:
    """``(problems on every engine, {engine: problems of that engine only})``.

    BigQuery and GoogleSQL run the validated SQL as written (the check includes GoogleSQL's
    analysis); DuckDB also needs idcbq's translation, so each rendering is transpiled too
    and what DuckDB cannot run (:mod:`idcbq.transpile.capability`) is a DuckDB problem.
    """
    common = check_template(template, idc_version=idc_version, schema=schema)
    only: dict[str, list[IdcbqError]] = {engine: [] for engine in engines}
    if "duckdb" in only and not common:
        only["duckdb"] = _duckdb_problems(template, idc_version=idc_version, schema=schema)
    return common, only


def _duckdb_problems(template: Template, *, idc_version: Any, schema: Any) -> list[IdcbqError]:
    """What idcbq's DuckDB translation refuses in each example rendering of ``template``."""
    from idcbq.engines.analyzed_spans import spans_for
    from idcbq.templates import bind_params, render
    from idcbq.transpile import to_duckdb
    from idcbq.transpile.known import UnknownType
    from idcbq.validate import reference_schema

    header = template.header
    sets = (
        [dict(v) for v in header.examples.values()]
        if header.examples
        else [header.example_params()]
    )
    sources = [None, "idc-index"] if header.idc_index else [None]
    problems: list[IdcbqError] = []
    seen: set[str] = set()
    for values, source in [(v, s) for v in sets for s in sources]:
        try:
            rendered = render(
                template, bind_params(template, values), idc_version=idc_version, source=source
            )
            if source:
                from idcbq.sources.idc_index import schema_lookup as lookup
            else:
                lookup = schema or reference_schema
            # as the DuckDB engine translates it: GoogleSQL's types if the analysis ran
            typed = spans_for(rendered.sql, rendered.params)
            to_duckdb(rendered.sql, schema=_sqlglot_schema(rendered.sql, lookup),
                      params=rendered.params, expression_types=typed,
                      strict_types=typed is not None)  # fmt: skip
        except UnknownType:
            # A table only the source describes (a clinical table): its types are known, and
            # checked, when the query runs against that source.
            continue
        except IdcbqError as exc:
            if str(exc) not in seen:
                seen.add(str(exc))
                problems.append(exc)
    return problems


def _sqlglot_schema(sql: str, lookup: Any) -> dict[str, Any]:
    """``{project: {dataset: {table: {column: type}}}}`` of the tables ``sql`` reads."""
    import sqlglot
    from sqlglot import exp

    from idcbq.sources.schema import sqlglot_columns

    out: dict[str, Any] = {}
    try:
        tree = sqlglot.parse_one(sql, read="bigquery")
    except sqlglot.errors.SqlglotError:
        return out
    for table in tree.find_all(exp.Table):
        if not table.db:
            continue
        fields = lookup(table.db, table.name)
        if fields:
            project = table.catalog or "bigquery-public-data"
            columns = sqlglot_columns(fields)
            out.setdefault(project, {}).setdefault(table.db, {})[table.name] = columns
    return out
