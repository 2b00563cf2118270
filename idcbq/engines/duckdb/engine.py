"""DuckDB over an IDC Parquet export, addressed with BigQuery's table names.

Every dataset of the export is a DuckDB schema of views over its tables' Parquet
files, and the pinned IDC version's main tables are also unqualified views::

    dicom_all                                  -> <pinned>/dicom_all
    idc_current.dicom_all, idc_v25.dicom_all   -> that dataset's dicom_all
    idc_current_clinical.<table>               -> that clinical table
    clinical.<table>                           -> the pinned version's clinical table
    "bigquery-public-data".idc_v25.dicom_all   -> same (catalog = data project)

Clinical tables need their dataset (or ``clinical.``), as on BigQuery: none shadows a main one.

Views are created lazily: before a statement runs, its table names are read with
DuckDB's own parser (``get_table_names``) and a view is made for each one that names
an exported table. Opening an engine therefore lists (at most) the pinned version's
``dicom_all`` folder and reads no Parquet data; a table's footers are checked (readable,
same columns in every file) the first time it is used.

Example:
    >>> engine = DuckDBEngine.from_options(source=root)          # doctest: +SKIP
    >>> engine.sql("SELECT Modality, count(*) n FROM dicom_all GROUP BY 1")  # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from idcbq.engines.base import Engine, EngineOptions, PreparedQuery, default_endpoints
from idcbq.engines.duckdb.errors import mirror_error, translate, version_error
from idcbq.engines.duckdb.statements import (
    Memo,
    bind_params,
    duckdb_message,
    narrow_hugeints,
    one_statement,
    statement_shape,
    table_names,
    translation_key,
)
from idcbq.errors import SourceError, UsageError
from idcbq.sources.exports import ExportRoot, check_footers, sql_list
from idcbq.sources.releases import IDC_DATA_PROJECT, IdcVersion

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

    from idcbq.params import BoundParameter
    from idcbq.sources.schema import Field


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


#: Subclasses for special sources, ``(is the source theirs?, class)``, tried in order by
#: :meth:`DuckDBEngine.from_options`. Their modules register them; :mod:`idcbq.engines.duckdb`
#: imports those, so they are in place before any engine opens.
SOURCE_ENGINES: list[tuple[Callable[[object], bool], type[DuckDBEngine]]] = []


class DuckDBEngine(Engine):
    """Runs queries on DuckDB over an IDC Parquet export root (local, S3 or GCS)."""

    name: ClassVar[str] = "duckdb"
    dialect: ClassVar[str] = "duckdb"

    def __init__(
        self,
        options: EngineOptions | None = None,
        *,
        source: str | os.PathLike[str] | None = None,
        s3_endpoint: str | None = None,
        gcs_endpoint: str | None = None,
        anonymous: bool = True,
        check_schema: bool = True,
        config: Mapping[str, object] | None = None,
        footer_cache: bool = True,
    ):
        super().__init__(options)
        from idcbq.sources.connection import connect_for
        from idcbq.sources.location import ExportLocation

        if source is None:
            from idcbq.sources.sample import ensure_sample

            source = ensure_sample()
        self.source = str(source)
        location = ExportLocation.parse(source)
        self.con: duckdb.DuckDBPyConnection = connect_for(
            location,
            s3_endpoint=s3_endpoint,
            gcs_endpoint=gcs_endpoint,
            anonymous=anonymous,
            config=dict(config or {}),
        )
        self.export = ExportRoot(location, con=self.con)
        self.check_schema = check_schema
        # A local `idcbq mirror` copy: its manifest names the columns it holds.
        self._mirror = None
        if not location.is_remote and (Path(location.url) / "idcbq-mirror.json").is_file():
            self._mirror = Path(location.url)
        # Remote roots and mirrors (thousands of files): footers come from an on-disk
        # cache and prune files (sources/footers.py, pruning.py); `idcbq mirror` fills it for its copies.
        self._footers = None
        remote_or_mirror = location.is_remote or self._mirror is not None
        if remote_or_mirror and footer_cache and not os.environ.get("IDCBQ_NO_FOOTER_CACHE"):
            from idcbq.sources.footers import RemoteFooters

            self._footers = RemoteFooters(
                location, s3_endpoint=s3_endpoint, gcs_endpoint=gcs_endpoint, anonymous=anonymous
            )
        self._views: set[tuple[str, str, str]] = set()
        self._schemas: set[tuple[str, str]] = set()
        self._sources: dict[tuple[str, ...], tuple[str, Any]] = {}  # view -> source, columns
        # Kept per SQL text: this engine's tables never change under it (issue 21 §3).
        self._transpiled = Memo()  # translation_key -> DuckDB SQL
        self._shapes = Memo()  # DuckDB SQL -> (statement type, $names)
        self._names = Memo()  # DuckDB SQL -> tables it names
        self._fields = Memo()  # (dataset, table) -> its columns
        self._named = Memo()  # DuckDB SQL -> (columns it names or None,)
        self._view_sql = Memo()  # (view, source, columns named) -> CREATE VIEW text
        # Replayed by the CLI's prepared queries: the set-up in force (each schema's and
        # view's latest statement, so a long session keeps one per view), files read.
        self._setup_done: dict[str, str] = {}
        self._files_of: dict[str, tuple[str, ...]] = {}
        self.last_run: tuple[str, tuple[str, ...], tuple[str, ...]] | None = None
        self._check_pinned_version()

    @classmethod
    def from_options(
        cls,
        source: str | os.PathLike[str] | None = None,
        idc_version: str | int | IdcVersion | None = None,
        data_project: str = IDC_DATA_PROJECT,
        s3_endpoint: str | None = None,
        gcs_endpoint: str | None = None,
        anonymous: bool = True,
        check_schema: bool = True,
        threads: int | None = None,
        **extra: Any,
    ) -> DuckDBEngine:
        """Open an engine; unknown keyword options (other engines') are kept in ``options.extra``.

        Endpoints default to the standard variables ``AWS_ENDPOINT_URL_S3`` /
        ``AWS_ENDPOINT_URL`` and ``STORAGE_EMULATOR_HOST``.
        """
        options = EngineOptions.parse(idc_version, data_project, extra)
        s3_endpoint, gcs_endpoint = default_endpoints(s3_endpoint, gcs_endpoint)
        config: dict[str, object] = {}
        if threads:
            config["threads"] = int(threads)
        if cls is DuckDBEngine:  # a special source (--source idc-index) has its own class
            cls = next((c for owns, c in SOURCE_ENGINES if owns(source)), cls)
        return cls(
            options,
            source=source,
            s3_endpoint=s3_endpoint,
            gcs_endpoint=gcs_endpoint,
            anonymous=anonymous,
            check_schema=check_schema,
            config=config,
        )

    # -- open-time checks ------------------------------------------------------------

    def _check_pinned_version(self) -> None:
        if self.export.has_table(self.idc_version.dataset, "dicom_all"):
            return
        try:
            error = version_error(self.export, self.idc_version)
        finally:
            self.close()
        raise error

    # -- views -----------------------------------------------------------------------

    def _resolve(self, parts: list[str]) -> tuple[str, str, str, str, str] | None:
        """Map a referenced name to (catalog, schema, view, dataset, table), or None."""
        catalog = "memory"
        if len(parts) == 3:
            if parts[0] != self.data_project:
                return None
            catalog, parts = parts[0], parts[1:]
        if len(parts) == 1 or (len(parts) == 2 and parts[0] == "main"):
            table = parts[-1]
            dataset = self.idc_version.dataset
            return (catalog, "main", table, dataset, table) if catalog == "memory" else None
        if len(parts) == 2:
            schema, table = parts
            dataset = self.idc_version.clinical_dataset if schema == "clinical" else schema
            return catalog, schema, table, dataset, table
        return None

    def _ensure_views(self, sql: str, bind: Mapping[str, Any] | None = None) -> None:
        from idcbq.engines.duckdb.narrow import named_columns

        filters = {}
        if self._footers is not None:
            from idcbq.engines.duckdb.pruning import pruning_filters

            filters = pruning_filters(sql, dict(bind or {}))
        names = self._names.get(sql) or self._names.put(sql, table_names(self.con, sql))
        targets = [t for t in map(self._resolve, map(list, sorted(names))) if t is not None]
        targets = [t for t in targets if self.export.has_table(t[3], t[4])]
        # Views of only the columns the statement names bind in ms, not 0.1 s (narrow.py).
        named = None
        if targets:
            kept = self._named.get(sql) or self._named.put(sql, (named_columns(self.con, sql),))
            named = kept[0]
        for target in targets:
            if named is None and target[:3] in self._views:
                continue
            self._make_view(target, filters, named)

    def _make_view(self, target: tuple[str, ...], filters: dict, named: set[str] | None) -> None:
        """(Re)create one view: all columns (kept for later statements) or ``named`` ones."""
        import duckdb

        from idcbq.engines.duckdb.narrow import view_statement

        catalog, schema, view, dataset, table = target
        known = self._sources.get(target[:3])
        footers = self._footers is not None
        info = self.export.table(dataset, table, check=self.check_schema and not footers)
        files, pruned = info.files, False
        if footers:
            try:
                files, pruned = self._footer_files(dataset, table, filters.get(view))
            except SourceError:
                check_footers(self.con, info.files)  # DuckDB's own wording, if it fails too
                raise
        if catalog != "memory" and (catalog, "") not in self._schemas:
            self._setup(f"ATTACH IF NOT EXISTS ':memory:' AS {_q(catalog)}")
            self._schemas.add((catalog, ""))
        if (catalog, schema) not in self._schemas:
            self._setup(f"CREATE SCHEMA IF NOT EXISTS {_q(catalog)}.{_q(schema)}")
            self._schemas.add((catalog, schema))
        source = f"read_parquet({sql_list(files)}, hive_partitioning = false)"
        name = f"{_q(catalog)}.{_q(schema)}.{_q(view)}"
        try:
            if known is None or known[0] != source:  # columns as the files have them
                empty = self.con.execute(f"SELECT * FROM {source} LIMIT 0").to_arrow_table()
                known = self._sources[target[:3]] = (source, empty.schema)
            key = (name, source, None if named is None else frozenset(named))
            statement = self._view_sql.get(key) or self._view_sql.put(
                key, view_statement(name, source, known[1], named)
            )
            self._setup(statement, key=name)
        except duckdb.Error as exc:  # a file vanished or broke since it was listed
            raise SourceError(f"{info.url}: {duckdb_message(exc).splitlines()[0]}") from exc
        self._files_of[name] = tuple(files)
        if pruned or named is not None:  # it fits this statement only
            self._views.discard(target[:3])
        else:
            self._views.add(target[:3])

    def _setup(self, statement: str, key: str | None = None) -> None:
        """Run a set-up statement unless the same one is already in force for ``key``."""
        key = key or statement
        if self._setup_done.get(key) == statement:
            return
        self.con.execute(statement)
        self._setup_done[key] = statement

    @property
    def setup_log(self) -> list[str]:
        """The set-up statements in force, in the order they first ran."""
        return list(self._setup_done.values())

    @property
    def setup_is_static(self) -> bool:
        """True when a statement's views do not depend on the statement.

        Remote reads and mirrors prune files per statement, so their set-up is not.
        """
        return not self.export.location.is_remote and self._footers is None and not self._mirror

    @property
    def files_read(self) -> list[str]:
        """The files behind the views in force."""
        return [f for files in self._files_of.values() for f in files]

    def _footer_files(
        self, dataset: str, table: str, filters: dict[str, list[Any]] | None
    ) -> tuple[tuple[str, ...], bool]:
        """Files that can hold matching rows, from cached footers; ``(files, pruned)``."""
        assert self._footers is not None
        objects, _ = self._footers.table(dataset, table)
        if not filters:
            return tuple(o.url for o in objects), False
        kept = self._footers.files(dataset, table, filters)
        # No file can match: read one anyway so the result has the right columns.
        return tuple(kept or [objects[0].url]), True

    # -- Engine interface ------------------------------------------------------------

    def table_fields(self, dataset: str, table: str) -> tuple[Field, ...] | None:
        """Columns of an exported table, from its Parquet footers (None if absent)."""
        fields = self._fields.get((dataset, table))  # every query validates against them
        return fields or self._fields.put((dataset, table), self._table_fields(dataset, table))

    def _table_fields(self, dataset: str, table: str) -> tuple[Field, ...] | None:
        from idcbq.sources.schema import fields_from_arrow

        if dataset == "clinical":
            dataset = self.idc_version.clinical_dataset
        if not self.export.has_table(dataset, table):
            return None
        if self._mirror is not None:  # validate against the source's columns, not the copy's
            from idcbq.sources.mirror.state import source_schema

            full = source_schema(self._mirror, dataset, table)
            if full is not None:
                return fields_from_arrow(full)
        # With the footer cache, sources/footers.py checks every file's schema (from cached footers).
        check = self.check_schema and self._footers is None
        return fields_from_arrow(self.export.arrow_schema(dataset, table, check=check))

    def list_tables(self, dataset: str) -> list[str]:
        if dataset == "clinical":
            dataset = self.idc_version.clinical_dataset
        return self.export.tables(dataset)

    def datasets(self) -> list[str]:
        """Datasets present in the export root."""
        return self.export.datasets()

    def sqlglot_schema(self, bigquery_sql: str) -> dict[str, dict[str, dict[str, dict[str, str]]]]:
        """``{project: {dataset: {table: {column: type}}}}`` for the tables a query reads."""
        from sqlglot import exp

        from idcbq.sources.schema import sqlglot_columns

        tree = one_statement(bigquery_sql)  # shared with validation: read only
        if tree is None:  # no parse
            return {}
        from idcbq.transpile.known import bare_tables

        bare = {id(t) for t in bare_tables(tree)}  # in the version's dataset, as qualified
        out: dict[str, dict[str, dict[str, dict[str, str]]]] = {}
        for tab in tree.find_all(exp.Table):
            db = tab.db or (self.idc_version.dataset if id(tab) in bare else "")
            if not db or (tab.catalog and tab.catalog != self.data_project):
                continue
            fields = self.table_fields(db, tab.name)
            if fields is not None:
                datasets = out.setdefault(self.data_project, {})
                datasets.setdefault(db, {})[tab.name] = sqlglot_columns(fields)
        return out

    def prepare(
        self, sql: str, params: Sequence[BoundParameter], *, template: str | None = None
    ) -> PreparedQuery:
        """Transpile validated BigQuery SQL to DuckDB SQL (``$name`` parameters), once per key."""
        from idcbq.engines.analyzed_spans import spans_for
        from idcbq.transpile import to_duckdb

        spans = spans_for(sql, params)  # GoogleSQL's expression types, if the gate analyzed
        key = (
            translation_key(sql, params, self.data_project, self.idc_version.dataset),
            spans is not None,
        )
        duck_sql = self._transpiled.get(key) or self._transpiled.put(
            key,
            to_duckdb(
                sql,
                schema=self.sqlglot_schema(sql),
                data_project=self.data_project,
                params=params,
                dataset=self.idc_version.dataset,
                expression_types=spans,
                # no analysis: sqlglot alone leaves nodes of real queries unknown
                strict_types=spans is not None,
            ),
        )
        return PreparedQuery(
            engine=self.name, sql=duck_sql, source_sql=sql, params=tuple(params), template=template
        )

    def execute(self, query: PreparedQuery, *, limit: int | None = None) -> pa.Table:
        """Run one read-only statement with its parameters bound natively; return Arrow.

        ``limit`` wraps a SELECT as ``SELECT * FROM (<sql>) LIMIT n`` (the SQL text is
        only nested, never edited).
        """
        import duckdb

        if query.engine != self.name:
            raise UsageError(f"query was prepared for {query.engine!r}, not duckdb")
        # Parsed once per SQL text: a long translation takes DuckDB tens of ms to parse.
        kind, names = self._shapes.get(query.sql) or self._shapes.put(
            query.sql, statement_shape(query.sql, query.source_sql, query.template)
        )
        sql = query.sql
        if limit is not None:
            if limit < 0:
                raise UsageError(f"limit must be >= 0, got {limit}")
            if kind == "SELECT":
                body = query.sql.strip().rstrip(";").rstrip()
                sql = f"SELECT * FROM (\n{body}\n) AS _idcbq_limited LIMIT {int(limit)}"
        bind = bind_params(names, query.params)
        self._ensure_views(sql, bind)
        from idcbq.core.imports import pandas_held_off

        try:
            with pandas_held_off():  # DuckDB's binding would import pandas (~0.3 s)
                cursor = self.con.execute(sql, bind)
                duck_types = tuple(str(d[1]) for d in cursor.description or ())
                self.last_run = (sql, tuple(bind), duck_types)
                table = cursor.to_arrow_table()
        except duckdb.Error as exc:
            raise self._error(exc, query) from exc
        except UnicodeDecodeError as exc:
            # DuckDB quoted bad input in its message and cut it inside a UTF-8 sequence
            # (unhex of a non-ASCII digit): the message is unreadable, the query failed
            raise translate(
                f"Invalid Input Error: DuckDB's error message is not valid UTF-8 ({exc.reason})",
                user_sql=query.source_sql,
                template=query.template,
            ) from exc
        if limit is not None and kind != "SELECT":
            table = table.slice(0, limit)
        from idcbq.engines.conform import anonymous_fields, conform, json_columns, types_for
        from idcbq.transpile.results import check_result

        table = check_result(narrow_hugeints(table))
        types = types_for(query.source_sql, query.params)  # GoogleSQL's, if it analyzed
        if types is None:  # no analysis: what DuckDB itself says of JSON and struct fields
            return anonymous_fields(json_columns(table, duck_types))
        return conform(table, types)

    def sql(
        self, sql: str, params: Mapping[str, Any] | None = None, *, limit: int | None = None
    ) -> pa.Table:
        """Run DuckDB SQL directly (values bound as ``$name``; types inferred from Python)."""
        from idcbq.params import BoundParameter, ParamType

        bound = tuple(
            BoundParameter(name=k, type=ParamType.parse("STRING"), value=v)
            for k, v in (params or {}).items()
        )
        return self.execute(PreparedQuery(self.name, sql, sql, bound), limit=limit)

    def estimate_bytes(self, query: PreparedQuery) -> int | None:
        """Bytes the query would read, from Parquet footers (like BigQuery's dry run).

        Footers of the files that survive ``collection_id``/``Modality`` pruning, plus the
        compressed column chunks of the referenced columns in the row groups whose
        statistics admit the filters. ``SELECT *`` counts every column.
        """
        from idcbq.engines.duckdb.pruning import footer_estimate
        from idcbq.sources.footers import RemoteFooters

        if query.engine != self.name:
            return None
        footers = self._footers or RemoteFooters(self.export.location)
        return footer_estimate(self.con, query, footers, self._resolve, self.export)

    def explain(self, sql: str) -> str:
        """DuckDB's physical plan for a query (views created first)."""
        self._ensure_views(sql)
        rows = self.con.execute(f"EXPLAIN {sql}").fetchall()
        return "\n".join(str(r[-1]) for r in rows)

    def _error(self, exc: Exception, query: PreparedQuery) -> Exception:
        import duckdb

        text = duckdb_message(exc)
        missing = mirror_error(self._mirror, self.idc_version.dataset, exc, text)
        if missing is not None:
            return missing
        if isinstance(exc, duckdb.IOException | duckdb.InvalidInputException) and (
            ".parquet" in text or "://" in text
        ):
            return SourceError(f"reading the export failed: {text}")
        # DuckDB's text is about idcbq's translation: never quote it, nor its suggestions.
        error = translate(text, user_sql=query.source_sql, template=query.template)
        if isinstance(exc, duckdb.CatalogException) and error.hint is None:
            tables = self.export.tables(self.idc_version.dataset)
            error.hint = (
                f"tables of {self.idc_version.dataset}: {', '.join(tables)}; other datasets: "
                f"{', '.join(d for d in self.export.datasets() if d != self.idc_version.dataset)}"
            )
            error.args = (str(error),)
        return error

    def close(self) -> None:
        con = getattr(self, "con", None)
        if con is not None:
            con.close()
            self.con = None  # type: ignore[assignment]
        footers = getattr(self, "_footers", None)
        if footers is not None:  # its pyarrow S3/GCS client must not outlive the engine
            footers.close()
