"""``idcbq templates``: list, show, render and check named SQL templates."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from idcbq.cli.common import param_option, template_name_argument
from idcbq.cli.options import engine_options, split_params, templates_option


def _catalog(template_dirs: tuple[str, ...]) -> Any:
    from idcbq.templates import TemplateCatalog

    return TemplateCatalog.discover(template_dirs)


@click.group(
    epilog="\b\nExamples:\n  idcbq templates list\n  idcbq templates show cohort.series_by_modality\n"
    "  idcbq templates render cohort.series_by_modality -p modalities=CT,MR\n  idcbq templates check"
)
def templates() -> None:
    """List, show, render and check named SQL templates.

    Built-in templates ship with idcbq; add your own with --templates DIR or
    IDCBQ_TEMPLATES=DIR1:DIR2. A user template with a built-in's name replaces it
    (with a warning).
    """


@templates.command(
    "list",
    epilog="\b\nExamples:\n  idcbq templates list\n  idcbq templates list --search seg\n"
    "  idcbq templates list --search collection_id --json",
)
@templates_option
@click.option(
    "--search",
    "-s",
    metavar="TEXT",
    help="Only templates whose name, description, tables or parameters contain TEXT "
    "(case-insensitive; repeat words to require all).",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="JSON array of {name, description, tables, parameters, path, builtin}.",
)
def list_(template_dirs: tuple[str, ...], search: str | None, as_json: bool) -> None:
    """Names, descriptions, tables and parameters of the templates."""
    rows = [_summary(tpl) for tpl in _catalog(template_dirs)]
    if search:
        words = search.lower().split()
        rows = [r for r in rows if all(w in _haystack(r) for w in words)]
    if as_json:
        click.echo(json.dumps(rows, indent=1))
        return
    if not rows:
        click.echo(f"no template matches {search!r}", err=True)
        return
    width = max((len(r["name"]) for r in rows), default=0)
    for r in rows:
        click.echo(f"{r['name']:<{width}}  {r['description']}")
        extra = []
        if r["parameters"]:
            extra.append("-p " + ", ".join(r["parameters"]))
        if r["tables"]:
            extra.append("tables: " + ", ".join(r["tables"]))
        if extra:
            click.echo(f"{'':<{width}}  " + "; ".join(extra))
    if not search:
        click.echo("\n" + SOURCES_AND_PATHS)


#: Printed under ``templates list``: where queries read from, how files are fetched.
SOURCES_AND_PATHS = """\
Sources (--source / --engine) and access paths (idcbq download):
  embedded sample (default)   offline, instance level, derived from IDC v25: demos, tests, trying templates
  --engine bigquery           all of IDC, every release, billed to --project: the authoritative answer
  --source s3://idc-open-metadata (or a local mirror)  IDC's Parquet export on DuckDB: no billing
  --source idc-index          IDC's real series-level tables offline (table index, ...): fast cohorts, counts
  download from buckets       GCS/S3 objects by manifest, MD5-verified: the fastest way to get files
  download --transport dicomweb  WADO-RS from IDC's proxy or a DICOMweb store: viewers, no bucket access"""


def _summary(tpl: Any) -> dict[str, Any]:
    """One template as a row of ``templates list`` (a broken header says so)."""
    from idcbq.errors import TemplateError

    row: dict[str, Any] = {"name": tpl.path.name.removesuffix(".sql")}
    try:
        header = tpl.header
        row["description"] = header.description
        row["tables"] = list(header.tables) + (["index"] if header.idc_index else [])
        row["parameters"] = {n: str(spec.type) for n, spec in header.parameters.items()}
    except TemplateError as exc:
        row.update(description=f"(broken: {exc.message})", tables=[], parameters={})
    row.update(path=str(tpl.path), builtin=tpl.builtin)
    return row


def _haystack(row: dict[str, Any]) -> str:
    parts = [row["name"], row["description"], *row["tables"], *row["parameters"]]
    return " ".join(parts).lower()


@templates.command(epilog="\b\nExample:\n  idcbq templates show cohort.series_by_modality")
@templates_option
@template_name_argument
def show(template_dirs: tuple[str, ...], name: str) -> None:
    """Header, parameters and SQL of one template."""
    tpl = _catalog(template_dirs).get(name)
    header = tpl.header
    click.echo(f"{header.name}  ({tpl.path}{'' if tpl.builtin else ', user'})")
    click.echo(f"  {header.description}\n")
    if header.parameters:
        click.echo("parameters:")
        for pname, spec in header.parameters.items():
            flags = (
                "required" if spec.required else f"default {json.dumps(spec.default, default=str)}"
            )
            example = (
                f", e.g. {json.dumps(spec.example, default=str)}"
                if spec.example is not None
                else ""
            )
            desc = f" - {spec.description}" if spec.description else ""
            click.echo(f"  {pname}: {spec.type} ({flags}{example}){desc}")
    if header.tables:
        click.echo(f"tables: {', '.join(header.tables)}")
    if header.output:
        click.echo("output: " + ", ".join(f"{k} {v}" for k, v in header.output.items()))
    for ex_name, values in header.examples.items():
        click.echo(
            f"example {ex_name}: " + " ".join(f"-p {k}={_cli_value(v)}" for k, v in values.items())
        )
    click.echo("\nSQL:")
    click.echo(tpl.body.lstrip("\n").rstrip())


def _cli_value(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return (
        "NULL" if value is None else str(value).lower() if isinstance(value, bool) else str(value)
    )


@templates.command(
    epilog="\b\nExample:\n  idcbq templates render cohort.series_by_modality -p modalities=CT --engine duckdb"
)
@templates_option
@param_option
@engine_options
@click.option(
    "--example", "use_example", is_flag=True, help="Use the template's example parameters."
)
@template_name_argument
def render(
    template_dirs: tuple[str, ...],
    params: tuple[str, ...],
    engine: str,
    source: str | None,
    idc_version: str | None,
    project: str | None,
    use_example: bool,
    name: str,
) -> None:
    """Print the final SQL of a template and its bound parameters (does not run it).

    With --engine bigquery (the default here) no engine is contacted; --engine duckdb
    prints the transpiled DuckDB SQL.
    """
    from idcbq.api import render_template

    values, _types = split_params(params)
    catalog = _catalog(template_dirs)
    tpl = catalog.get(name)
    if use_example:
        values = {**tpl.header.example_params(), **values}
    if engine == "duckdb" and not _explicit(("engine",)):
        engine = "bigquery"
    if engine == "bigquery":
        rendered = render_template(tpl, values, idc_version=idc_version, from_text=True)
        sql, bound = rendered.sql, rendered.params
    else:
        from idcbq.api import connect

        with connect(
            "duckdb", source=source, idc_version=idc_version, templates=template_dirs
        ) as client:
            rendered = client.render_template(name, values, from_text=True)
            prepared = client.engine.prepare(rendered.sql, rendered.params, template=name)
        sql, bound = prepared.sql, prepared.params
    click.echo(sql.rstrip())
    click.echo("")
    marker = "@" if engine == "bigquery" else "$"
    for p in bound:
        click.echo(f"-- {marker}{p.name} {p.type} = {json.dumps(p.value, default=str)}")


def _explicit(names: tuple[str, ...]) -> bool:
    ctx = click.get_current_context()
    return any(
        ctx.get_parameter_source(n) not in (None, click.core.ParameterSource.DEFAULT) for n in names
    )


@templates.command(
    epilog="\b\nExamples:\n  idcbq templates check sql/ my_templates/\n"
    "  idcbq templates check --engine duckdb\n  idcbq templates check --json"
)
@templates_option
@click.option("--idc-version", envvar="IDCBQ_IDC_VERSION", metavar="vNN|current")
@click.option(
    "--engine",
    "engines",
    multiple=True,
    type=click.Choice(("bigquery", "googlesql", "duckdb")),
    help="Check only for this engine (repeatable); default all three.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON report on stdout.")
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
def check(
    template_dirs: tuple[str, ...],
    idc_version: str | None,
    engines: tuple[str, ...],
    as_json: bool,
    paths: tuple[str, ...],
) -> None:
    """Validate templates without running them, and say which engines can run each.

    Checks every template (or the given files/directories) against the reference
    schema, rendered with each of its example parameter sets: header, Jinja, SQL,
    tables, columns, GoogleSQL's analysis (BigQuery, googlesql), and for DuckDB also
    idcbq's translation (a function or construct DuckDB cannot run is named). Prints
    one line per template with each engine's verdict. Exits 1 on any problem for the
    checked engines, listing each, so it can run in CI.
    """
    from idcbq.templates import Template
    from idcbq.validate.runner import CHECK_ENGINES, check_template_engines

    wanted = tuple(e for e in CHECK_ENGINES if e in engines) if engines else CHECK_ENGINES
    if paths:
        files: list[Path] = []
        for raw in paths:
            p = Path(raw)
            files.extend(sorted(p.glob("*.sql")) if p.is_dir() else [p])
        items = [Template.from_path(f) for f in files]
    else:
        items = list(_catalog(template_dirs))
    problems = 0
    report = []
    for tpl in items:
        common, only = check_template_engines(tpl, engines=wanted, idc_version=idc_version)
        found = [*common, *(p for e in wanted for p in only[e])]
        problems += len(found)
        verdicts = {e: {"ok": not common and not only[e], "problems": []} for e in wanted}
        for engine in wanted:
            verdicts[engine]["problems"] = [str(p) for p in (*common, *only[engine])]
        report.append({"name": _name_of(tpl), "path": str(tpl.path), "engines": verdicts})
        if as_json:
            continue
        for problem in common:
            click.echo(f"error: {problem}", err=True)
        for problem in (p for e in wanted for p in only[e]):
            click.echo(f"error: {tpl.path}: {problem}", err=True)
        words = ", ".join(f"{e} {'ok' if v['ok'] else 'no'}" for e, v in verdicts.items())
        click.echo(f"{_name_of(tpl)}: {words}")
    summary = f"checked {len(items)} template(s): {problems} problem(s)"
    if as_json:
        out = {"templates": report, "checked": len(items), "problems": problems}
        click.echo(json.dumps(out, indent=2))
    if problems:
        from idcbq.errors import IdcbqError

        raise IdcbqError(summary)  # exit code 1: "check found problems"
    if not as_json:
        click.echo(summary)


def _name_of(tpl: Any) -> str:
    """The template's name, or its file name when its header cannot be read."""
    from idcbq.errors import IdcbqError

    try:
        return tpl.name
    except IdcbqError:
        return Path(tpl.path).stem
