"""``idcbq googlesql``: GoogleSQL's analyzer (the gate's strongest local check)."""

from __future__ import annotations

import time

import click


@click.group()
def googlesql() -> None:
    """GoogleSQL's analyzer: compile it ahead, see where it is cached.

    Example: idcbq googlesql warm
    """


@googlesql.command("warm")
@click.option(
    "--templates/--no-templates",
    default=True,
    show_default=True,
    help="Also analyze every template's example renderings (fills the verdict cache).",
)
def warm_cmd(templates: bool) -> None:
    """Compile the analyzer once (a container image step) and warm the verdict cache.

    The compiled module and the verdicts live in $IDCBQ_GOOGLESQL_CACHE (or the config's
    googlesql_cache, else idcbq's cache folder): point it at persistent storage where
    sessions start fresh (Colab, batch containers).

    Example: IDCBQ_GOOGLESQL_CACHE=/opt/idcbq-gsql idcbq googlesql warm
    """
    from idcbq.engines.googlesql.runtime import module_cache_path, require_zetasql, runtime

    require_zetasql()
    started = time.perf_counter()
    rt = runtime()
    how = "compiled" if rt.compiled else "loaded from cache"
    click.echo(f"analyzer {how} in {time.perf_counter() - started:.1f} s: {module_cache_path()}")
    if not templates:
        return
    from idcbq.templates import TemplateCatalog
    from idcbq.validate.runner import check_template

    started = time.perf_counter()
    catalog = list(TemplateCatalog.discover(()))
    problems = sum(len(check_template(t)) for t in catalog)
    click.echo(
        f"analyzed {len(catalog)} template(s) in {time.perf_counter() - started:.1f} s"
        f" ({problems} problem(s); `idcbq templates check` lists them)"
    )
