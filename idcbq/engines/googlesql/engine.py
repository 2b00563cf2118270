"""GoogleSQL (ZetaSQL reference implementation) over an IDC Parquet export.

Runs BigQuery SQL as written, with GoogleSQL's own analyzer and evaluator, locally:
exact BigQuery semantics for small data (the embedded sample, a filtered export,
unit tests of a user's templates). Each query:

1. is parsed by GoogleSQL; IDC table paths are spliced to flat root tables
   (see :mod:`.analysis`);
2. is analyzed against those tables' full schemas with unused columns pruned: this
   yields the columns it reads, and analysis errors become located ValidationErrors;
3. the read columns are loaded (pyarrow, cached per column for the engine's life),
   encoded as ZetaSQL values (NULL lists become empty arrays) and the query is
   evaluated with its parameters bound with their declared types;
4. the result becomes Arrow with BigQuery's column names (anonymous columns ``f0_``,
   ``f1_``...). A result array holding NULL raises QueryError, as on BigQuery.

This ZetaSQL build's ``ANY_VALUE`` keeps NULLs where BigQuery skips them: a plain
``ANY_VALUE(x)`` aggregate is run as ``ARRAY_AGG(x IGNORE NULLS LIMIT 1)[SAFE_OFFSET(0)]``
and its window form as ``ARRAY_AGG(x IGNORE NULLS) OVER (...)[SAFE_OFFSET(0)]`` (answers
BigQuery may give; an ARRAY ``x``, which ARRAY_AGG cannot collect, keeps the build's behaviour). Its evaluator also re-runs an uncorrelated ``IN (subquery)`` for
every outer row: correct, but slow on large inputs.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from idcbq.engines.base import Engine, EngineOptions, PreparedQuery, default_endpoints
from idcbq.errors import QueryError, SourceError, UsageError, ValidationError
from idcbq.sources.releases import IDC_DATA_PROJECT, IdcVersion

if TYPE_CHECKING:
    import pyarrow as pa

    from idcbq.params import BoundParameter
    from idcbq.sources.schema import Field

#: Default refusal thresholds (rows loaded per query, encoded table bytes per query).
DEFAULT_MAX_ROWS = 2_000_000
DEFAULT_MAX_BYTES = 1 << 30
#: Encoded columns kept for the whole process (shared by engines on the same files).
_CELL_CACHE_BYTES = 1 << 30

_SHARED: dict[str, Any] = {"cells": {}, "sizes": {}, "bytes": 0, "catalogs": None}


def _shared_catalogs() -> Any:
    """One catalog cache per process: registered catalogs outlive a single engine."""
    if _SHARED["catalogs"] is None:
        from idcbq.engines.googlesql.analysis import CatalogCache

        _SHARED["catalogs"] = CatalogCache(max_content=32)
    return _SHARED["catalogs"]


class GoogleSQLEngine(Engine):
    """BigQuery SQL on GoogleSQL's reference implementation, over an export root."""

    name: ClassVar[str] = "googlesql"
    dialect: ClassVar[str] = "bigquery"

    def __init__(
        self,
        options: EngineOptions | None = None,
        *,
        source: str | os.PathLike[str] | None = None,
        max_rows: int = DEFAULT_MAX_ROWS,
        max_bytes: int = DEFAULT_MAX_BYTES,
        check_schema: bool = True,
        s3_endpoint: str | None = None,
        gcs_endpoint: str | None = None,
        anonymous: bool = True,
    ):
        super().__init__(options)
        from idcbq.engines.googlesql.runtime import require_zetasql, runtime
        from idcbq.sources.exports import ExportRoot
        from idcbq.sources.location import ExportLocation

        require_zetasql()
        from idcbq.sources.idc_index import INDEX_TABLES, ensure_root, is_idc_index

        from_index = is_idc_index(source)  # --source idc-index: the idc-index-data tables
        if from_index:
            source = ensure_root()
            self.bare_tables = INDEX_TABLES
        if source is None:
            from idcbq.sources.sample import ensure_sample

            source = ensure_sample()
        self.source = "idc-index" if from_index else str(source)
        location = ExportLocation.parse(source)
        con = None
        if location.is_remote:
            from idcbq.sources.connection import connect_for

            con = connect_for(
                location, s3_endpoint=s3_endpoint, gcs_endpoint=gcs_endpoint, anonymous=anonymous
            )
        self.export = ExportRoot(location, con=con)
        self.max_rows = int(max_rows)
        self.max_bytes = int(max_bytes)
        self.check_schema = check_schema
        self._cells: dict[tuple[str, str, str], list[bytes]] = {}
        self._rows: dict[tuple[str, str], int] = {}
        self._fields: dict[tuple[str, str], tuple[Field, ...]] = {}
        self._analyzed: dict[tuple[Any, ...], tuple[Any, dict[str, set[str]]]] = {}
        if not self.export.has_table(
            self.idc_version.dataset, "index" if from_index else "dicom_all"
        ):
            raise SourceError(
                f"IDC version {self.idc_version.label} ({self.idc_version.dataset}) "
                f"is not in {location.export_url}",
                hint="; ".join(
                    h
                    for h in (
                        self.export.missing_reason(self.idc_version.dataset),
                        _missing_source_hint(location, self.export.datasets()),
                    )
                    if h
                ),
            )
        self.runtime = runtime()
        self.catalogs = _shared_catalogs()
        self._signatures: dict[tuple[str, str], tuple[Any, ...]] = {}

    @classmethod
    def from_options(
        cls,
        source: str | os.PathLike[str] | None = None,
        idc_version: str | int | IdcVersion | None = None,
        data_project: str = IDC_DATA_PROJECT,
        max_rows: int | None = None,
        max_bytes: int | None = None,
        check_schema: bool = True,
        s3_endpoint: str | None = None,
        gcs_endpoint: str | None = None,
        anonymous: bool = True,
        **extra: Any,
    ) -> GoogleSQLEngine:
        """Open an engine; unknown keyword options (other engines') go to ``options.extra``."""
        options = EngineOptions.parse(idc_version, data_project, extra)
        s3_endpoint, gcs_endpoint = default_endpoints(s3_endpoint, gcs_endpoint)
        return cls(
            options,
            source=source,
            max_rows=max_rows or DEFAULT_MAX_ROWS,
            max_bytes=max_bytes or DEFAULT_MAX_BYTES,
            check_schema=check_schema,
            s3_endpoint=s3_endpoint,
            gcs_endpoint=gcs_endpoint,
            anonymous=anonymous,
        )

    # -- catalog -----------------------------------------------------------------------

    def resolve(self, parts: Sequence[str]) -> tuple[str, str] | None:
        """Map a table path to an exported (dataset, table), or None."""
        parts = list(parts)
        if len(parts) == 3:
            if parts[0] != self.data_project:
                return None
            parts = parts[1:]
        if len(parts) == 1:
            key = (self.idc_version.dataset, parts[0])
        elif len(parts) == 2:
            dataset = self.idc_version.clinical_dataset if parts[0] == "clinical" else parts[0]
            key = (dataset, parts[1])
        else:
            return None
        return key if self.export.has_table(*key) else None

    def fields(self, dataset: str, table: str) -> tuple[Field, ...]:
        """Columns of an exported table (Parquet footers), cached."""
        from idcbq.sources.schema import fields_from_arrow

        key = (dataset, table)
        if key not in self._fields:
            schema = self.export.arrow_schema(dataset, table, check=self.check_schema)
            self._fields[key] = fields_from_arrow(schema)
        return self._fields[key]

    def table_fields(self, dataset: str, table: str) -> tuple[Field, ...] | None:
        if dataset == "clinical":
            dataset = self.idc_version.clinical_dataset
        if not self.export.has_table(dataset, table):
            return None
        return self.fields(dataset, table)

    def list_tables(self, dataset: str) -> list[str]:
        if dataset == "clinical":
            dataset = self.idc_version.clinical_dataset
        return self.export.tables(dataset)

    # -- data --------------------------------------------------------------------------

    def num_rows(self, dataset: str, table: str) -> int:
        key = (dataset, table)
        if key not in self._rows:
            info = self.export.table(dataset, table, check=self.check_schema)
            if self.export.location.is_remote:
                n = self.export.con.execute(
                    "SELECT COALESCE(SUM(num_rows), 0) FROM parquet_file_metadata($f)",
                    {"f": list(info.files)},
                ).fetchone()[0]
            else:
                import pyarrow.parquet as pq

                n = sum(pq.ParquetFile(f).metadata.num_rows for f in info.files)
            self._rows[key] = int(n)
        return self._rows[key]

    def _read(self, dataset: str, table: str, columns: list[str]) -> pa.Table:
        info = self.export.table(dataset, table, check=self.check_schema)
        try:
            if self.export.location.is_remote:
                cols = ", ".join('"' + c.replace('"', '""') + '"' for c in columns)
                return self.export.con.execute(
                    f"SELECT {cols} FROM read_parquet($f)", {"f": list(info.files)}
                ).to_arrow_table()
            import pyarrow.parquet as pq

            return pq.read_table(list(info.files), columns=columns)
        except Exception as exc:  # any reader failure is a source problem
            raise SourceError(f"{info.url}: reading columns failed: {exc}") from exc

    def signature(self, dataset: str, table: str) -> tuple[Any, ...]:
        """What identifies a table's data: its files (local: with size and mtime)."""
        key = (dataset, table)
        if key not in self._signatures:
            files = self.export.table(dataset, table, check=self.check_schema).files
            if self.export.location.is_remote:
                self._signatures[key] = tuple(files)
            else:
                stats = [os.stat(f) for f in files]
                self._signatures[key] = tuple(
                    (f, st.st_size, st.st_mtime_ns) for f, st in zip(files, stats, strict=True)
                )
        return self._signatures[key]

    def _column_cells(self, dataset: str, table: str, columns: Sequence[str]) -> list[list[bytes]]:
        from idcbq.engines.googlesql.values import encode_column

        sig = self.signature(dataset, table)
        shared: dict[tuple[Any, ...], list[bytes]] = _SHARED["cells"]
        missing = [c for c in columns if (sig, c) not in shared]
        if missing:
            data = self._read(dataset, table, missing)
            by_name = {f.name: f for f in self.fields(dataset, table)}
            if _SHARED["bytes"] > _CELL_CACHE_BYTES:
                shared.clear()
                _SHARED["sizes"].clear()
                _SHARED["bytes"] = 0
            for name in missing:
                cells = encode_column(data.column(name), by_name[name])
                shared[(sig, name)] = cells
                _SHARED["sizes"][(sig, name)] = size = sum(map(len, cells))
                _SHARED["bytes"] += size
        out = [shared[(sig, c)] for c in columns]
        for c, cells in zip(columns, out, strict=True):
            self._cells[(dataset, table, c)] = cells
        return out

    # -- Engine interface --------------------------------------------------------------

    def prepare(
        self, sql: str, params: Sequence[BoundParameter], *, template: str | None = None
    ) -> PreparedQuery:
        """BigQuery SQL runs as written: nothing to transpile."""
        return PreparedQuery(
            engine=self.name, sql=sql, source_sql=sql, params=tuple(params), template=template
        )

    def analyze(
        self,
        sql: str,
        params: Sequence[BoundParameter] = (),
        *,
        path: str | None = None,
        any_value: bool = False,
    ) -> tuple[Any, dict[str, set[str]]]:
        """Analyze BigQuery SQL against this export; (rewrite, used columns per table).

        ``any_value=True`` rewrites ``ANY_VALUE(x)`` to skip NULLs (BigQuery's behaviour);
        if the rewritten text does not analyze (e.g. ``x`` is an ARRAY, which ARRAY_AGG
        cannot collect) the query is analyzed as written.
        """
        from idcbq.engines.googlesql import analysis

        key = (sql, tuple((p.name, str(p.type)) for p in params), any_value)
        if key in self._analyzed:  # same text and parameter types: same verdict
            return self._analyzed[key]
        rewritten, _unknown = analysis.rewrite(sql, self.resolve, any_value=any_value)
        tables = {name: self.fields(*key) for name, key in rewritten.tables.items()}
        types = analysis.param_types(params)
        try:
            used = analysis.analyze(
                rewritten, sql, tables, types, catalogs=self.catalogs, path=path
            )
        except ValidationError:
            if not rewritten.any_values:
                raise
            return self.analyze(sql, params, path=path, any_value=False)
        if len(self._analyzed) > 512:
            self._analyzed.clear()
        self._analyzed[key] = (rewritten, used)
        return rewritten, used

    def execute(self, query: PreparedQuery, *, limit: int | None = None) -> pa.Table:
        """Analyze, load the columns read, evaluate; return Arrow with BigQuery's names."""
        from zetasql.wasi._pb2.zetasql.local_service import local_service_pb2 as ls

        from idcbq.engines.googlesql import analysis, values
        from idcbq.engines.googlesql.runtime import ZetaSQLCallError

        if query.engine != self.name:
            raise UsageError(f"query was prepared for {query.engine!r}, not googlesql")
        if limit is not None and limit < 0:
            raise UsageError(f"limit must be >= 0, got {limit}")
        rewritten, used = self.analyze(query.sql, query.params, path=query.template, any_value=True)
        # The analyzer prunes a column named only in `* EXCEPT (...)`; the evaluator still
        # wants it to exist (IDC's RMS queries drop participantparticipant_id that way).
        excepted = _star_except_names(query.sql)
        plan: list[tuple[str, tuple[str, str], tuple[str, ...], tuple[Any, ...]]] = []
        total_rows = 0
        for name, key in sorted(rewritten.tables.items()):
            cols = tuple(
                f.name
                for f in self.fields(*key)
                if f.name in used.get(name, ()) or f.name.lower() in excepted
            )
            plan.append((name, key, cols, self.signature(*key)))
            rows = self.num_rows(*key)
            total_rows += rows
            if total_rows > self.max_rows:
                raise QueryError(
                    f"the googlesql engine loads at most {self.max_rows:,} rows per query "
                    f"(max_rows); this query reads {'.'.join(key)} ({rows:,} rows)",
                    hint="filter the export first, use --engine duckdb, or raise max_rows",
                )

        total_bytes = 0
        for _name, key, cols, sig in plan:
            self._column_cells(*key, cols)
            total_bytes += sum(_SHARED["sizes"][(sig, c)] for c in cols)
            if total_bytes > self.max_bytes:
                raise QueryError(
                    f"the googlesql engine loads at most {self.max_bytes:,} bytes per "
                    f"query (max_bytes); {'.'.join(key)} encodes to more",
                    hint="filter the export first, use --engine duckdb, or raise max_bytes",
                )

        def build() -> tuple[dict[str, tuple[Field, ...]], dict[str, bytes]]:
            tables: dict[str, tuple[Field, ...]] = {}
            blobs: dict[str, bytes] = {}
            for name, key, cols, _sig in plan:
                by_name = {f.name: f for f in self.fields(*key)}
                tables[name] = tuple(by_name[c] for c in cols)
                cells = self._column_cells(*key, cols)
                blobs[name] = values.table_content(cells, self.num_rows(*key))
            return tables, blobs

        cid = self.catalogs.content_catalog(tuple(plan), build)
        req = ls.EvaluateQueryRequest(
            sql=rewritten.sql,
            options=analysis.analyzer_options(analysis.param_types(query.params), prune=False),
            registered_catalog_id=cid,
        )
        for p in query.params:
            req.params.add(
                name=p.name, value=values.value_proto(p.value, p.type.scalar, p.type.is_array)
            )
        raw = req.SerializeToString()
        try:
            resp = ls.EvaluateQueryResponse.FromString(self.runtime.call_raw("EvaluateQuery", raw))
        except ZetaSQLCallError as exc:
            where = f" (template {query.template})" if query.template else ""
            text = analysis._AT_RE.sub("", exc.message).strip()
            raise QueryError(f"GoogleSQL query failed{where}: {text}") from None
        table = values.decode_table(resp.prepared.columns, resp.content)
        if rewritten.value_table:
            table = _value_table_columns(table)
        table = _bigquery_names(table)
        if limit is not None:
            table = table.slice(0, limit)
        return table

    def close(self) -> None:
        # Registered catalogs and encoded columns are shared by the process: kept.
        con = self.export._con if hasattr(self, "export") else None
        if con is not None:
            con.close()
            self.export._con = None


def _value_table_columns(table: pa.Table) -> pa.Table:
    """A value table of a STRUCT is its fields as columns (as BigQuery returns it); an
    anonymous field (decoded as ``_field_<position>``) is an anonymous column (``f0_``)."""
    import pyarrow as pa

    from idcbq.engines.conform import struct_fields

    if table.num_columns != 1 or not pa.types.is_struct(table.column(0).type):
        return table
    kind = table.column(0).type
    names = [kind.field(i).name for i in range(kind.num_fields)]
    names = ["" if n == f"_field_{i}" else n for i, n in enumerate(names, start=1)]
    return struct_fields(table.column(0), names)


def _bigquery_names(table: pa.Table) -> pa.Table:
    """Anonymous columns -> ``f0_``, ``f1_``...; duplicate names are an error (BigQuery)."""
    names: list[str] = []
    anon = 0
    for name in table.column_names:
        if not name or name.startswith("$"):
            names.append(f"f{anon}_")
            anon += 1
        else:
            names.append(name)
    seen: set[str] = set()
    dups = sorted({n for n in names if n.lower() in seen or seen.add(n.lower())})
    if dups:
        raise QueryError(
            "Duplicate column names in the result are not supported. "
            f"Found duplicate(s): {', '.join(dups)}"
        )
    return table.rename_columns(names)


def _missing_source_hint(location: Any, datasets: list[str]) -> str:
    """What the source holds, with a did-you-mean for a near miss of a named source."""
    from idcbq.sources.catalog import sort_datasets
    from idcbq.validate.unknown import source_name_hint

    near = None if datasets or location.is_remote else source_name_hint(location.url)
    listed = ", ".join(sort_datasets(datasets)) or "none"
    return f"{near + '; ' if near else ''}datasets there: {listed}"


def _star_except_names(sql: str) -> frozenset[str]:
    """Lower-case column names listed in any ``* EXCEPT (...)`` of ``sql`` (none if unparsable).

    Loading such a column into a table that is not star-selected changes no result: the
    query never reads it there.
    """
    if "except" not in sql.lower():
        return frozenset()
    import sqlglot
    from sqlglot import exp

    try:
        tree = sqlglot.parse_one(sql, read="bigquery")
    except sqlglot.errors.SqlglotError:
        return frozenset()
    names = set()
    for star in tree.find_all(exp.Star):
        for col in star.args.get("except_") or star.args.get("except") or ():
            names.add(col.name.lower())
    return frozenset(names)
