"""Discover what an IDC Parquet export root holds: datasets, tables, files, schemas.

IDC exports every BigQuery table to ``<root>/bigquery_export/<dataset>/<table>/*.parquet``.
A root is a local directory, ``s3://bucket[/prefix]`` or ``gs://bucket[/prefix]``.

Listing local roots uses the file system directly (no DuckDB needed). Remote roots are
listed through a DuckDB connection that can read them (``glob()`` over httpfs for S3, the
registered fsspec view of pyarrow's GCS file system for GCS): the object store's own listing, no
extra client. Footers are read through the same connection (``parquet_schema``), which
reads only the metadata at the end of each file, never row data.

Where a root lives (its URL, scheme, bucket) is :class:`~idcbq.sources.location.ExportLocation`.
"""

from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from idcbq.errors import SourceError
from idcbq.sources.connection import sql_list
from idcbq.sources.location import ExportLocation

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

# Dataset and table names in IDC exports are plain identifiers; anything else in the
# listing (temp files, stray folders) is ignored.
_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class TableFiles:
    """One exported table: its Parquet files and the Arrow schema they share."""

    dataset: str
    table: str
    url: str
    files: tuple[str, ...]
    schema: pa.Schema | None = None


class ExportRoot:
    """Datasets, tables and files of one export root, listed lazily and cached.

    Args:
        source: local directory, ``s3://bucket[/prefix]`` or ``gs://bucket[/prefix]``.
        con: a DuckDB connection able to read ``source`` (needed for remote roots and
            for footer checks; see :func:`idcbq.engines.duckdb.connect_for`).

    Example:
        >>> import tempfile, pyarrow as pa, pyarrow.parquet as pq
        >>> root = Path(tempfile.mkdtemp())
        >>> (root / "bigquery_export/idc_v25/dicom_all").mkdir(parents=True)
        >>> pq.write_table(pa.table({"x": [1]}), root / "bigquery_export/idc_v25/dicom_all/0.parquet")
        >>> export = ExportRoot(root)
        >>> export.datasets(), export.tables("idc_v25")
        (['idc_v25'], ['dicom_all'])
    """

    def __init__(
        self,
        source: str | os.PathLike[str] | ExportLocation,
        con: duckdb.DuckDBPyConnection | None = None,
    ):
        self.location = ExportLocation.parse(source)
        self._con = con
        self._files: dict[tuple[str, str], tuple[str, ...]] = {}
        self._all: list[str] | None = None
        self._checked: dict[tuple[str, str], TableFiles] = {}
        self._derivable: dict[str, int] | None = None

    # -- releases the embedded sample derives on first use ---------------------------

    def derivable(self) -> dict[str, int]:
        """``{dataset: release}`` this root can add on first use (the embedded sample's
        earlier releases, see :mod:`idcbq.sources.sample.lazy`); empty for other roots."""
        if self._derivable is None:
            self._derivable = {}
            if not self.location.is_remote:
                from idcbq.sources.sample.lazy import unbuilt_datasets

                self._derivable = unbuilt_datasets(Path(self.location.url))
        return self._derivable

    def _materialize(self, dataset: str) -> None:
        """Build a derivable release before its tables or files are listed."""
        release = self.derivable().get(dataset)
        if release is None:
            return
        from idcbq.sources.sample.lazy import ensure_release

        ensure_release(Path(self.location.url), release)
        added = [d for d, r in self.derivable().items() if r == release]
        for name in added:
            del self.derivable()[name]
        self._files = {k: v for k, v in self._files.items() if k[0] not in added}

    def missing_reason(self, dataset: str) -> str | None:
        """Why this root cannot hold the IDC release ``dataset`` (sample roots), or None."""
        if self.location.is_remote:
            return None
        from idcbq.sources.sample.lazy import why_missing

        return why_missing(Path(self.location.url), dataset)

    # -- listing -------------------------------------------------------------------

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        if self._con is None:
            from idcbq.sources.connection import connect_for  # cycle-free: lazy

            self._con = connect_for(self.location)
        return self._con

    def _glob(self, pattern: str) -> list[str]:
        """Object listing of a remote pattern (DuckDB ``glob``); sorted."""
        try:
            rows = self.con.execute("SELECT file FROM glob($p)", {"p": pattern}).fetchall()
        except Exception as exc:  # duckdb.Error: network, permission, bad endpoint
            raise SourceError(
                f"{pattern}: cannot list files: {_first_line(exc)}",
                hint="check the bucket name, endpoint and that anonymous reads are allowed",
            ) from exc
        return sorted(str(r[0]) for r in rows)

    def _all_files(self) -> list[str]:
        if self._all is None:
            if self.location.is_remote:
                self._all = self._glob(f"{self.location.export_url}/*/*/*.parquet")
            else:
                base = Path(self.location.export_url)
                self._all = (
                    sorted(str(p) for p in base.glob("*/*/*.parquet")) if base.is_dir() else []
                )
        return self._all

    def exists(self) -> bool:
        """True if the root has a ``bigquery_export`` folder (remote: at least one file)."""
        if self.location.is_remote:
            return bool(self._all_files())
        return Path(self.location.export_url).is_dir()

    def datasets(self) -> list[str]:
        """Dataset folders under ``bigquery_export`` (remote: one full listing, cached)."""
        if not self.location.is_remote:
            base = Path(self.location.export_url)
            if not base.is_dir():
                return []
            found = {p.name for p in base.iterdir() if p.is_dir() and _NAME_RE.match(p.name)}
            return sorted(found | set(self.derivable()))
        names = {_split(self.location.export_url, f)[0] for f in self._all_files()}
        return sorted(n for n in names if _NAME_RE.match(n))

    def tables(self, dataset: str) -> list[str]:
        """Tables (folders holding Parquet files) of one dataset."""
        if not self.location.is_remote:
            self._materialize(dataset)
            base = Path(self.location.dataset_url(dataset))
            if not base.is_dir():
                return []
            return sorted(
                p.name
                for p in base.iterdir()
                if p.is_dir() and _NAME_RE.match(p.name) and any(p.glob("*.parquet"))
            )
        if self._all is not None:
            files = [f for f in self._all if f.startswith(self.location.dataset_url(dataset) + "/")]
        else:
            files = self._glob(f"{self.location.dataset_url(dataset)}/*/*.parquet")
        return sorted({_split(self.location.dataset_url(dataset), f)[0] for f in files})

    def files(self, dataset: str, table: str) -> tuple[str, ...]:
        """Parquet files of one table, sorted (empty if the table is not in the export)."""
        key = (dataset, table)
        if key not in self._files and not self.location.is_remote:
            self._materialize(dataset)
        if key not in self._files:
            if not (_NAME_RE.match(dataset) and _NAME_RE.match(table)):
                self._files[key] = ()
            elif self.location.is_remote:
                self._files[key] = tuple(
                    self._glob(f"{self.location.table_url(dataset, table)}/*.parquet")
                )
            else:
                base = Path(self.location.table_url(dataset, table))
                self._files[key] = (
                    tuple(sorted(str(p) for p in base.glob("*.parquet"))) if base.is_dir() else ()
                )
        return self._files[key]

    def has_table(self, dataset: str, table: str) -> bool:
        return bool(self.files(dataset, table))

    # -- checks --------------------------------------------------------------------

    def table(self, dataset: str, table: str, *, check: bool = True) -> TableFiles:
        """The files of a table, with footers checked (readable, same schema) once.

        Raises:
            SourceError: the table has no files, a file is not readable Parquet, or a
                file's columns differ from its siblings' (names the file and column).
        """
        key = (dataset, table)
        if key in self._checked:
            return self._checked[key]
        url = self.location.table_url(dataset, table)
        files = self.files(dataset, table)
        if not files:
            raise SourceError(
                f"{url}: no Parquet files for table {dataset}.{table}",
                hint=_tables_hint(self, dataset),
            )
        if check and not self.location.is_remote:  # unchanged local files: checked before
            from idcbq.sources.checked import check_once

            check_once(files, lambda: check_footers(self.con, files))
        elif check:
            check_footers(self.con, files)
        info = TableFiles(dataset=dataset, table=table, url=url, files=files)
        self._checked[key] = info
        return info

    def arrow_schema(self, dataset: str, table: str, *, check: bool = True) -> pa.Schema:
        """The table's Arrow schema as DuckDB reads it (footers checked first), cached."""
        info = self.table(dataset, table, check=check)
        if info.schema is None:
            info = dataclasses.replace(info, schema=arrow_schema_of(self.con, info.files))
            self._checked[(dataset, table)] = info
        return info.schema


def check_footers(con: duckdb.DuckDBPyConnection, files: tuple[str, ...] | list[str]) -> None:
    """Read every file's footer; raise SourceError on a corrupt file or a schema drift."""
    import duckdb

    try:
        rows = con.execute(
            "SELECT file_name, name, type, repetition_type, num_children, converted_type, "
            f"logical_type FROM parquet_schema({sql_list(files)})"
        ).fetchall()
    except duckdb.Error as exc:
        bad = _find_unreadable(con, files)
        path, detail = bad if bad else (_path_in(str(exc), files), _first_line(exc))
        if "HTTP" in detail:  # network/permission, not a broken file
            raise SourceError(
                f"{path}: cannot fetch ({detail})",
                hint="check that the object exists and allows anonymous reads",
            ) from exc
        raise SourceError(
            f"{path}: not a readable Parquet file ({detail})",
            hint="re-export or remove the file",
        ) from exc
    per_file: dict[str, list[tuple[Any, ...]]] = {}
    for file_name, *element in rows:
        per_file.setdefault(file_name, []).append(tuple(element))
    missing = [f for f in files if f not in per_file]
    if missing and len(per_file) == len(files):  # names normalised differently; compare by order
        per_file = dict(zip(files, per_file.values(), strict=True))
    schemas = {f: _columns(per_file.get(f, [])) for f in files}
    first = files[0]
    ref = schemas[first]
    for f in files[1:]:
        drift = _first_difference(ref, schemas[f])
        if drift:
            column, theirs, ours = drift
            raise SourceError(
                f"{f}: column {column!r} is {ours} here but {theirs} in {first}",
                hint="all Parquet files of one table must have the same columns and types",
            )


def arrow_schema_of(
    con: duckdb.DuckDBPyConnection, files: tuple[str, ...] | list[str]
) -> pa.Schema:
    """The Arrow schema DuckDB gives the table (footer of the first file only)."""
    import duckdb

    from idcbq.sources.wide_decimals import FOOTER_COLUMNS, wide_decimals

    first = sql_list(files[:1])
    try:
        schema = con.execute(f"SELECT * FROM read_parquet({first}) LIMIT 0").to_arrow_table().schema
        if not any(_has_float(f.type) for f in schema):  # DuckDB reads a wide DECIMAL as DOUBLE
            return schema
        rows = con.execute(f"SELECT {FOOTER_COLUMNS} FROM parquet_schema({first})").fetchall()
    except duckdb.Error as exc:
        raise SourceError(f"{files[0]}: cannot read schema ({_first_line(exc)})") from exc
    try:
        return wide_decimals(schema, rows)
    except SourceError as exc:
        raise SourceError(f"{files[0]}: {exc}") from exc


def _has_float(kind: pa.DataType) -> bool:
    import pyarrow as pa

    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        return _has_float(kind.value_type)
    if pa.types.is_struct(kind):
        return any(_has_float(kind.field(i).type) for i in range(kind.num_fields))
    return pa.types.is_floating(kind)


def _columns(elements: list[tuple[Any, ...]]) -> dict[str, str]:
    """Flatten parquet_schema rows into ``{dotted.path: type description}``."""
    out: dict[str, str] = {}
    stack: list[tuple[str, int]] = []  # (path, children left)
    for i, (name, ptype, rep, children, converted, logical) in enumerate(elements):
        if i == 0:  # the root "schema" element
            stack.append(("", int(children or 0)))
            continue
        while stack and stack[-1][1] == 0:
            stack.pop()
        parent = stack[-1][0] if stack else ""
        if stack:
            stack[-1] = (stack[-1][0], stack[-1][1] - 1)
        path = f"{parent}.{name}" if parent else str(name)
        out[path] = " ".join(str(x) for x in (ptype or "GROUP", rep, converted, logical) if x)
        if children:
            stack.append((path, int(children)))
    return out


def _first_difference(ref: dict[str, str], other: dict[str, str]) -> tuple[str, str, str] | None:
    for col, desc in ref.items():
        if col not in other:
            return col, desc, "missing"
        if other[col] != desc:
            return col, desc, other[col]
    for col, desc in other.items():
        if col not in ref:
            return col, "missing", desc
    return None


def _find_unreadable(
    con: duckdb.DuckDBPyConnection, files: tuple[str, ...] | list[str]
) -> tuple[str, str] | None:
    """Error path only: read footers one by one to name the broken file."""
    import duckdb

    for f in files:
        try:
            con.execute(f"SELECT count(*) FROM parquet_schema({sql_list([f])})").fetchall()
        except duckdb.Error as exc:
            return f, _first_line(exc)
    return None


def _path_in(message: str, files: tuple[str, ...] | list[str]) -> str:
    for f in files:
        if f in message:
            return f
    return files[0]


def _split(base: str, file: str) -> tuple[str, str]:
    rel = file[len(base) + 1 :] if file.startswith(base + "/") else file
    parts = rel.split("/")
    return parts[0], parts[-1]


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _tables_hint(export: ExportRoot, dataset: str) -> str:
    tables = export.tables(dataset)
    if tables:
        return f"tables in {dataset}: {', '.join(tables)}"
    datasets = export.datasets()
    return f"datasets in {export.location.export_url}: {', '.join(datasets) or 'none'}"
