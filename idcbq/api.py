"""The Python API: ``idcbq.connect()`` returns a :class:`Client` bound to one engine.

Every query takes the same path, whatever its origin:
``render (templates only) -> validate -> engine.prepare -> engine.execute -> QueryResult``.

Example (not run as a doctest; it opens the embedded sample)::

    import idcbq
    client = idcbq.connect("duckdb")
    result = client.query("cohort.series_by_modality", modalities=["CT", "MR"], limit=5)
    result.to_pandas()
    client.sql(
        "SELECT Modality, COUNT(*) n FROM dicom_all WHERE collection_id = @c GROUP BY 1",
        params={"c": "nlst"},
    ).to_arrow()
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from idcbq.errors import ParameterError
from idcbq.params import BoundParameter, ParamType, infer_type

if TYPE_CHECKING:
    from idcbq.core.memo import Memo
    from idcbq.engines.base import Engine, PreparedQuery
    from idcbq.result import QueryResult
    from idcbq.sources.schema import Field
    from idcbq.templates import RenderedQuery, Template, TemplateCatalog


@dataclass(frozen=True)
class Rendered:
    """What a query becomes before it runs: BigQuery SQL, the engine's SQL, bound values."""

    template: str | None
    path: str | None
    bigquery_sql: str
    engine: str
    engine_sql: str
    params: tuple[BoundParameter, ...]

    def param_table(self) -> list[dict[str, Any]]:
        return [{"name": p.name, "type": str(p.type), "value": p.value} for p in self.params]


def connect(
    engine: str = "duckdb",
    *,
    source: str | os.PathLike[str] | None = None,
    idc_version: str | int | None = None,
    project: str | None = None,
    templates: Iterable[str | os.PathLike[str]] = (),
    allowed_tables: Iterable[str] = (),
    **engine_options: Any,
) -> Client:
    """Open a client on ``duckdb`` (Parquet exports; default: the embedded sample) or ``bigquery``.

    Args:
        engine: ``duckdb`` or ``bigquery``.
        source: DuckDB export root (local dir, ``s3://``, ``gs://``); default the sample.
        idc_version: ``vNN`` or ``current``; tables in templates resolve to this release.
        project: BigQuery billing project.
        templates: extra template directories (added after ``$IDCBQ_TEMPLATES``).
        allowed_tables: extra tables queries may read (``project.dataset.table``).
        **engine_options: passed to the engine's ``from_options`` (e.g. ``data_project``,
            ``api_endpoint``, ``key_file``, ``location``, ``max_bytes_billed``,
            ``use_bqstorage``); an engine ignores the ones it does not use.
    """
    from idcbq.engines import get_engine

    # Every engine gets every option and ignores what it does not use (DuckDB has no
    # billing project, BigQuery no export root); unset ones fall back to engine defaults.
    given = {"source": source, "project": project, "idc_version": idc_version, **engine_options}
    eng = get_engine(engine, **{k: v for k, v in given.items() if v is not None})
    return Client(eng, templates=templates, allowed_tables=allowed_tables, source=source)


def render_template(
    template: Template,
    params: Mapping[str, Any],
    *,
    idc_version: Any = None,
    data_project: str | None = None,
    schema: Any = "reference",
    allowed_tables: Iterable[str] = (),
    from_text: bool = False,
    source: str | None = None,
    googlesql: bool | None = None,
    kept: Memo | None = None,
) -> RenderedQuery:
    """Bind parameters, render and validate one template without any engine.

    ``schema`` is a ``(dataset, table) -> fields | None`` lookup; by default the
    reference schema shipped with idcbq. ``kept``: verdicts of earlier queries (a
    :class:`Client`'s; see :mod:`idcbq.validate.kept`).
    """
    from idcbq.sources.releases import IDC_DATA_PROJECT
    from idcbq.templates import bind_params, render
    from idcbq.validate import reference_schema
    from idcbq.validate.kept import validate_kept

    project = data_project or IDC_DATA_PROJECT
    bound = bind_params(template, params, from_text=from_text)
    rendered = render(template, bound, idc_version=idc_version, data_project=project, source=source)
    checked = validate_kept(
        kept,
        rendered.sql,
        params=rendered.params,
        schema=reference_schema if schema == "reference" else schema,
        allowed_tables=allowed_tables,
        idc_version=idc_version,
        data_project=project,
        location_map=rendered.location_map,
        googlesql=googlesql,
    )
    import dataclasses

    return dataclasses.replace(rendered, validated_by=checked.validated_by)


class Client:
    """Runs named templates and ad-hoc BigQuery SQL on one engine, always validated first."""

    def __init__(
        self,
        engine: Engine,
        *,
        templates: Iterable[str | os.PathLike[str]] = (),
        allowed_tables: Iterable[str] = (),
        source: str | os.PathLike[str] | None = None,
        catalog: TemplateCatalog | None = None,
    ):
        self.engine = engine
        self._template_dirs = tuple(templates)
        self._catalog = catalog
        self.allowed_tables = tuple(allowed_tables)
        self.source = str(getattr(engine, "source", None) or source or "") or None
        #: After 0 rows, check filter values against the source and warn (DuckDB only).
        self.explain_empty = True
        #: Analyze with GoogleSQL before running (on by default where zetasql is
        #: installed; env IDCBQ_GOOGLESQL_ANALYSIS=0 turns it off). See validate.gate.
        from idcbq.validate.gate import analysis_wanted

        self.googlesql_analysis = analysis_wanted()
        #: Progress bar for scans of a remote export (DuckDB): None = when stderr is a tty.
        self.progress: bool | None = None
        from idcbq.core.memo import Memo

        #: Queries that passed validation, by SQL, parameter types and settings.
        self._kept = Memo()

    # -- templates ---------------------------------------------------------------------

    @property
    def templates(self) -> TemplateCatalog:
        """The template catalog (built-ins, ``$IDCBQ_TEMPLATES``, ``templates=`` dirs)."""
        if self._catalog is None:
            from idcbq.templates import TemplateCatalog

            self._catalog = TemplateCatalog.discover(self._template_dirs)
        return self._catalog

    def template(self, name: str) -> Template:
        return self.templates.get(name)

    def render_template(
        self, name: str, params: Mapping[str, Any], *, from_text: bool = False
    ) -> RenderedQuery:
        """Bind, render and validate a template (no engine involved)."""
        return render_template(
            self.template(name),
            params,
            idc_version=self.engine.idc_version,
            data_project=self.engine.data_project,
            schema=self._schema,
            allowed_tables=self.allowed_tables,
            from_text=from_text,
            source=getattr(self.engine, "source", None),
            googlesql=self.googlesql_analysis or self.engine.name == "googlesql",
            kept=self._kept,
        )

    def prepare_template(
        self, name: str, params: Mapping[str, Any], *, from_text: bool = False
    ) -> PreparedQuery:
        """Bind, render, validate and prepare a template for this client's engine."""
        rendered = self.render_template(name, params, from_text=from_text)
        prepared = self.engine.prepare(rendered.sql, rendered.params, template=rendered.template)
        return self._checked(prepared, rendered.validated_by)

    def render(self, name: str, /, **params: Any) -> Rendered:
        """The final BigQuery SQL, the engine's SQL and the bound parameters of a template."""
        rendered = self.render_template(name, params)
        prepared = self.engine.prepare(rendered.sql, rendered.params, template=rendered.template)
        return _rendered(rendered.template, rendered.path, prepared)

    def query(self, name: str, /, *, limit: int | None = None, **params: Any) -> QueryResult:
        """Run a named template; parameters as keyword arguments, typed by its header."""
        return self.run_template(name, params, limit=limit)

    def run_template(
        self,
        name: str,
        params: Mapping[str, Any],
        *,
        limit: int | None = None,
        from_text: bool = False,
    ) -> QueryResult:
        prepared = self.prepare_template(name, params, from_text=from_text)
        return self._execute(prepared, limit=limit)

    # -- ad-hoc SQL --------------------------------------------------------------------

    def prepare_sql(
        self,
        sql: str,
        *,
        params: Mapping[str, Any] | None = None,
        types: Mapping[str, str] | None = None,
        from_text: bool = False,
    ) -> PreparedQuery:
        """Bind, validate and prepare ad-hoc BigQuery SQL.

        Parameter types come from ``types``; otherwise STRING for CLI text and the
        natural type of a Python value (int -> INT64, list of str -> ARRAY<STRING>, ...).
        A leading ``DECLARE name TYPE DEFAULT literal;`` block becomes typed parameters.
        """
        from idcbq.templates.locations import LocationMap

        params = dict(params or {})
        types = dict(types or {})
        declared: dict[str, BoundParameter] = {}
        from idcbq.transpile.scripts import starts_with_declare
        from idcbq.validate.script import is_script

        if is_script(sql) and not _declare_block(sql):
            from idcbq.engines.script_hooks import prepare_script

            return prepare_script(self, sql, params, types, from_text=from_text)
        if starts_with_declare(sql):  # comments may come first (idc-index-data's scripts)
            from idcbq.transpile import split_declare_script

            sql, decl = split_declare_script(sql)
            declared = {p.name: p for p in decl}
        bound: dict[str, BoundParameter] = dict(declared)
        for name, value in params.items():
            type_text = types.get(name)
            if type_text is None and name in declared:
                ptype = declared[name].type
            elif type_text is not None:
                try:
                    ptype = ParamType.parse(type_text)
                except ParameterError as exc:  # name the parameter, not only the bad type
                    raise ParameterError(
                        f"parameter {name!r}: {exc.message}", hint=exc.hint
                    ) from None
            else:
                ptype = ParamType.parse("STRING") if from_text else infer_type(value, name=name)
            if from_text and isinstance(value, str):
                value = ptype.parse_text(value, name=name)
            else:
                from idcbq.templates.header import coerce_yaml_value

                value = coerce_yaml_value(ptype, value, name=name)
            bound[name] = BoundParameter(name=name, type=ptype, value=value)
        unused_types = set(types) - set(params)
        if unused_types:
            raise ParameterError(
                f"type given for parameter(s) without a value: {sorted(unused_types)}"
            )
        ordered = tuple(bound.values())
        from idcbq.transpile.metadata import mentions_metadata

        if mentions_metadata(sql):  # INFORMATION_SCHEMA views, wildcard tables
            from idcbq.engines.script_hooks import expand_sql

            sql = expand_sql(self, sql)
        validated_by = self._validate(sql, ordered, LocationMap.identity("<sql>", sql))
        return self._checked(self.engine.prepare(sql, ordered), validated_by)

    def sql(
        self,
        sql: str,
        /,
        *,
        params: Mapping[str, Any] | None = None,
        types: Mapping[str, str] | None = None,
        limit: int | None = None,
    ) -> QueryResult:
        """Run ad-hoc BigQuery SQL (``@name`` parameters) through the same checks."""
        prepared = self.prepare_sql(sql, params=params, types=types)
        return self.execute(prepared, limit=limit)

    def estimate(self, name_or_sql: str, /, **params: Any) -> int | None:
        """Bytes the engine would scan (BigQuery dry run), or None if it cannot tell."""
        if name_or_sql in self.templates:
            prepared = self.prepare_template(name_or_sql, params)
        else:
            prepared = self.prepare_sql(name_or_sql, params=params)
        return self.engine.estimate_bytes(prepared)

    # -- plumbing ----------------------------------------------------------------------

    def _schema(self, dataset: str, table: str) -> tuple[Field, ...] | None:
        from idcbq.validate import reference_schema

        if self.engine.name in ("duckdb", "googlesql"):  # the export's Parquet schema rules
            try:
                fields = self.engine.table_fields(dataset, table)
            except Exception:  # a broken source is reported when the query runs
                fields = None
            if fields:
                return fields
        return reference_schema(dataset, table)

    def _checked(self, prepared: PreparedQuery, validated_by: str | None) -> PreparedQuery:
        """``prepared`` saying which check validated it (BigQuery adds its dry run)."""
        import dataclasses

        from idcbq.validate.gate import with_engine

        return dataclasses.replace(prepared, validated_by=with_engine(validated_by, self.engine))

    def _validate(self, sql: str, params: tuple[BoundParameter, ...], lmap: Any) -> str | None:
        from idcbq.errors import ValidationError
        from idcbq.validate.kept import validate_kept
        from idcbq.validate.tables import TableAllowList
        from idcbq.validate.unknown import (
            refs_in_sql,
            release_absent,
            release_column_hint,
            source_lacks,
        )

        bare = getattr(self.engine, "bare_tables", None)  # e.g. idc-index's `index`
        allow = TableAllowList(
            data_project=self.engine.data_project,
            idc_version=self.engine.idc_version,
            extra=self.allowed_tables,
            bare_tables=bare,
        )
        export = None if bare else getattr(self.engine, "export", None)
        label = str(export.location.url) if export is not None else ""
        if export is not None and export.derivable():  # before validation builds any release
            absent = release_absent(refs_in_sql(sql, allow), export, label)
            if absent is not None:
                raise absent
        try:
            validated = validate_kept(
                self._kept,
                sql,
                params=params,
                schema=self._schema,
                allowed=allow if bare else None,
                allowed_tables=self.allowed_tables,
                idc_version=self.engine.idc_version,
                data_project=self.engine.data_project,
                location_map=lmap,
                googlesql=self.googlesql_analysis or self.engine.name == "googlesql",
            )
        except ValidationError as exc:
            # A real IDC table or release the source lacks is the source's, not the query's.
            refs = refs_in_sql(sql, allow)
            lacking = source_lacks(refs, export, label) if export else None
            if lacking is not None:
                raise lacking from exc
            # A column IDC added (or removed) in another release: name the release.
            why = release_column_hint(exc.message, refs, self.engine.idc_version.dataset)
            if why is not None:
                exc.hint = "; ".join(h for h in (why, exc.hint) if h)
                exc.args = (str(exc),)
            raise
        lacking = source_lacks(validated.tables, export, label) if export else None
        if lacking is not None:
            raise lacking
        return validated.validated_by

    def execute(self, prepared: PreparedQuery, *, limit: int | None = None) -> QueryResult:
        """Run a query from :meth:`prepare_template` / :meth:`prepare_sql` (already validated)."""
        return self._execute(prepared, limit=limit)

    def _execute(self, prepared: PreparedQuery, *, limit: int | None) -> QueryResult:
        from idcbq.engines.cancel import (
            QueryInterrupted,
            ScanProgress,
            arm,
            cancel_engine,
            run_cancellable,
            wants_progress,
        )
        from idcbq.result import QueryResult
        from idcbq.validate.unknown import datasets_read

        start = time.perf_counter()
        logging.getLogger("idcbq").debug("query running on %s", self.engine.name)
        # In a worker thread, so Ctrl-C interrupts DuckDB / cancels the BigQuery job.
        arm(self.engine)
        bar = (
            ScanProgress(self.engine, prepared)
            if wants_progress(self.engine, self.progress)
            else None
        )
        try:
            table = run_cancellable(
                lambda: self.engine.execute(prepared, limit=limit),
                lambda: cancel_engine(self.engine),
                tick=bar.tick if bar is not None else None,
            )
        except QueryInterrupted as exc:
            # An engine still busy cannot be closed without waiting for it: leave it.
            self._busy = not exc.finished
            raise
        finally:
            if bar is not None:  # a busy connection is left alone (see close())
                bar.close(reset=not getattr(self, "_busy", False))
        elapsed = time.perf_counter() - start
        result = QueryResult(
            table=table,
            engine=self.engine.name,
            idc_version=self.engine.idc_version.label,
            sql=prepared.sql,
            source_sql=prepared.source_sql,
            params=prepared.params,
            template=prepared.template,
            source=self.source,
            elapsed_s=elapsed,
            validated_by=prepared.validated_by,
            idc_datasets=datasets_read(prepared.source_sql, self.engine.idc_version.dataset),
            bytes_processed=getattr(
                getattr(self.engine, "last_job", None), "bytes_processed", None
            ),
        )
        if table.num_rows == 0 and self.explain_empty:
            from idcbq.engines.empty import explain_empty

            result.empty_hint = explain_empty(self, prepared)
            if result.empty_hint:
                import warnings

                from idcbq.engines.empty import NoRowsWarning

                warnings.warn(result.empty_hint, NoRowsWarning, stacklevel=4)
        return result

    def close(self) -> None:
        if getattr(self, "_busy", False):  # an interrupted query has not wound down
            return
        self.engine.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Client(engine={self.engine.name!r}, idc_version={self.engine.idc_version.label!r})"


def _declare_block(sql: str) -> bool:
    """True for ``DECLARE name TYPE DEFAULT literal; ... <one query>`` (typed parameters)."""
    from idcbq.errors import TranspileError
    from idcbq.transpile.scripts import split_script

    try:
        split_script(sql)
    except TranspileError:
        return False
    return True


def _rendered(template: str | None, path: str | None, prepared: PreparedQuery) -> Rendered:
    return Rendered(
        template=template,
        path=path,
        bigquery_sql=prepared.source_sql,
        engine=prepared.engine,
        engine_sql=prepared.sql,
        params=prepared.params,
    )
