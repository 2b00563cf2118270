"""A DuckDB connection that can read an export root: local, S3 (httpfs) or GCS (pyarrow).

- Extensions are never downloaded: auto-install/auto-load are off and ``httpfs`` is
  loaded from the ``duckdb-extension-httpfs`` wheel, which ships the binary at
  ``duckdb_extension_httpfs/extensions/v<duckdb version>/httpfs.duckdb_extension``.
- S3: a scoped ``CREATE SECRET`` with no key (anonymous, unsigned requests), optional
  endpoint override (``http://127.0.0.1:P`` -> path-style URLs, no TLS) for local servers.
- GCS: pyarrow's GCS file system, registered as an fsspec file system
  (``con.register_filesystem``, see :mod:`idcbq.engines.duckdb.gcs`; no gcsfs);
  anonymous by default, else Google default credentials. httpfs's own ``gs://``
  support needs HMAC keys, which public-bucket users do not have.
- The Parquet footer cache is on, so footers read by the schema check are reused by
  the first query.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from idcbq.errors import SourceError

if TYPE_CHECKING:
    import duckdb

    from idcbq.sources.location import ExportLocation


def httpfs_extension_path() -> Path:
    """The httpfs binary shipped in the ``duckdb-extension-httpfs`` wheel."""
    import duckdb

    try:
        import duckdb_extension_httpfs
    except ImportError as exc:
        raise SourceError(
            "remote sources need the duckdb-extension-httpfs package",
            hint=f"pip install duckdb-extension-httpfs=={duckdb.__version__}",
        ) from exc
    base = Path(duckdb_extension_httpfs.__file__).parent / "extensions"
    path = base / f"v{duckdb.__version__}" / "httpfs.duckdb_extension"
    if not path.exists():
        found = ", ".join(p.parent.name for p in base.glob("*/httpfs.duckdb_extension"))
        raise SourceError(
            f"{path}: no httpfs extension for DuckDB {duckdb.__version__} (wheel has: {found or 'none'})",
            hint=f"pip install duckdb-extension-httpfs=={duckdb.__version__}",
        )
    return path


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


#: Settings of every connection (extensions are never fetched nor loaded behind our back).
SETTINGS: dict[str, object] = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
}

#: Statements run on every new connection, in order.
SETUP = (
    "SET parquet_metadata_cache = true",
    # BigQuery's default time zone: DATE(ts), EXTRACT(... FROM ts) and casts in UTC.
    "SET TimeZone = 'UTC'",
    # Per process: file sizes/ETags from HEAD requests and fetched byte ranges are reused.
    "SET enable_external_file_cache = true",
)


def connect_for(
    location: ExportLocation,
    *,
    s3_endpoint: str | None = None,
    gcs_endpoint: str | None = None,
    anonymous: bool = True,
    s3_region: str = "us-east-1",
    config: dict[str, object] | None = None,
) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection set up to read ``location``.

    Args:
        location: the export root.
        s3_endpoint: e.g. ``http://127.0.0.1:9000`` for a local S3 server.
        gcs_endpoint: e.g. ``http://127.0.0.1:4443`` for fake-gcs-server.
        anonymous: unsigned requests (public buckets); else the usual credential chain.
        config: extra DuckDB settings (``threads``, ``memory_limit``...).
    """
    import duckdb

    con = duckdb.connect(":memory:", config={**SETTINGS, **(config or {})})
    try:
        for statement in SETUP:
            con.execute(statement)
        if location.scheme == "s3":
            _setup_s3(con, location, s3_endpoint, anonymous, s3_region)
        elif location.scheme == "gs":
            _setup_gcs(con, gcs_endpoint, anonymous)
    except Exception:
        con.close()
        raise
    return con


def _setup_s3(
    con: duckdb.DuckDBPyConnection,
    location: ExportLocation,
    endpoint: str | None,
    anonymous: bool,
    region: str,
) -> None:
    con.execute(f"LOAD {_quote(str(httpfs_extension_path()))}")
    opts = [f"REGION {_quote(region)}", f"SCOPE {_quote('s3://' + (location.bucket or ''))}"]
    if endpoint:
        url = urlparse(endpoint if "://" in endpoint else f"https://{endpoint}")
        if not url.netloc:
            raise SourceError(f"bad S3 endpoint {endpoint!r}", hint="use http://host:port")
        opts += [
            f"ENDPOINT {_quote(url.netloc)}",
            "URL_STYLE 'path'",
            f"USE_SSL {'true' if url.scheme == 'https' else 'false'}",
        ]
    if anonymous:
        # PROVIDER config with no key: DuckDB sends unsigned requests.
        con.execute(
            f"CREATE OR REPLACE SECRET idcbq_s3 (TYPE s3, PROVIDER config, {', '.join(opts)})"
        )
    else:
        con.execute(
            f"CREATE OR REPLACE SECRET idcbq_s3 (TYPE s3, PROVIDER credential_chain, {', '.join(opts)})"
        )


def _setup_gcs(con: duckdb.DuckDBPyConnection, endpoint: str | None, anonymous: bool) -> None:
    from idcbq.engines.duckdb.gcs import fsspec_gcs

    con.register_filesystem(fsspec_gcs(endpoint, anonymous))


def sql_list(files: tuple[str, ...] | list[str]) -> str:
    """A DuckDB list literal of file paths (paths quoted; they come from our listing)."""
    return "[" + ", ".join("'" + f.replace("'", "''") + "'" for f in files) + "]"
