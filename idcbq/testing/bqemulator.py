"""Run the BigQuery emulator (``bqemulator``) on loopback and load IDC-shaped tables.

The emulator lives in its own venv (it pins sqlglot and protobuf versions that differ
from ours): ``make bqemu`` builds ``.venv-bqemu``; ``IDCBQ_BQEMU_PYTHON`` points at its
Python. It needs DuckDB's ``spatial`` extension at start-up; with no internet we
install it (and ``avro``) from the extension wheels into a private HOME once.

Example:
    >>> with BigQueryEmulator() as emu:                        # doctest: +SKIP
    ...     client = emu.client()
    ...     load_export(client, sample_root, data_project=emu.data_project)
"""

from __future__ import annotations

import io
import os
import subprocess
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from idcbq.testing.servers import Server, free_port

REPO = Path(__file__).resolve().parents[2]
#: Loaded tables live in a project named like IDC's; the emulator accepts it.
DATA_PROJECT = "bigquery-public-data"
#: The project queries are "billed" to (jobs run here).
BILLING_PROJECT = "idcbq-test"


def emulator_python() -> Path:
    """The emulator venv's Python (``IDCBQ_BQEMU_PYTHON`` or ``<repo>/.venv-bqemu``)."""
    path = Path(os.environ.get("IDCBQ_BQEMU_PYTHON") or REPO / ".venv-bqemu" / "bin" / "python")
    if not path.exists():
        raise FileNotFoundError(
            f"BigQuery emulator Python not found at {path}; run `make bqemu` "
            "(or set IDCBQ_BQEMU_PYTHON)"
        )
    return path


def prepare_home(python: Path, home: Path) -> Path:
    """A HOME whose ~/.duckdb has spatial+avro installed from the wheels (idempotent)."""
    marker = home / ".duckdb" / "extensions" / ".idcbq-installed"
    if marker.exists():
        return home
    home.mkdir(parents=True, exist_ok=True)
    script = (
        "import duckdb\n"
        "from duckdb_extensions import import_extension\n"
        "con = duckdb.connect()\n"
        "for name in ('spatial', 'avro'):\n"
        "    import_extension(name, con=con)\n"
    )
    subprocess.run(
        [str(python), "-c", script],
        env={**os.environ, "HOME": str(home)},
        check=True,
        capture_output=True,
        timeout=120,
    )
    marker.write_text("ok\n")
    return home


class BigQueryEmulator(Server):
    """``bqemulator start`` (REST + gRPC, in memory) on loopback ports."""

    def __init__(
        self,
        *,
        project: str = BILLING_PROJECT,
        data_project: str = DATA_PROJECT,
        python: Path | None = None,
        home: Path | None = None,
        port: int | None = None,
    ):
        super().__init__(port)
        self.project = project
        self.data_project = data_project
        self.grpc_port = free_port()
        self.python = Path(python) if python else emulator_python()
        self.home = Path(home) if home else REPO / ".cache" / "bqemu-home"
        self.start_seconds: float | None = None

    def command(self) -> list[str]:
        return [
            str(self.python), "-m", "bqemulator", "start",
            "--rest-host", "127.0.0.1", "--rest-port", str(self.port),
            "--grpc-host", "127.0.0.1", "--grpc-port", str(self.grpc_port),
            "--project", self.project, "--ephemeral", "--log-level", "warning",
        ]  # fmt: skip

    def environment(self) -> dict[str, str]:
        env = dict(os.environ)
        env["HOME"] = str(self.home)
        env.pop("GOOGLE_APPLICATION_CREDENTIALS", None)
        return env

    def health_url(self) -> str:
        return f"{self.url}/healthz"

    def start(self) -> BigQueryEmulator:
        prepare_home(self.python, self.home)
        began = time.monotonic()
        super().start()
        self.start_seconds = time.monotonic() - began
        return self

    def client(self, project: str | None = None) -> Any:
        """A google-cloud-bigquery client on this emulator, anonymous, over REST."""
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import bigquery

        return bigquery.Client(
            project=project or self.project,
            credentials=AnonymousCredentials(),
            client_options={"api_endpoint": self.url},
        )

    def engine(self, **options: Any) -> Any:
        """A :class:`~idcbq.engines.bigquery.BigQueryEngine` pointed at this emulator."""
        from idcbq.engines.bigquery import BigQueryEngine

        options.setdefault("data_project", self.data_project)
        options.setdefault("progress", False)
        return BigQueryEngine.from_options(
            project=self.project, credentials="anonymous", api_endpoint=self.url, **options
        )


def export_tables(root: Path) -> dict[str, dict[str, list[Path]]]:
    """``{dataset: {table: [parquet files]}}`` of an export root (``bigquery_export/``)."""
    base = Path(root) / "bigquery_export"
    found: dict[str, dict[str, list[Path]]] = {}
    for dataset_dir in sorted(p for p in base.iterdir() if p.is_dir()):
        for table_dir in sorted(p for p in dataset_dir.iterdir() if p.is_dir()):
            files = sorted(table_dir.glob("*.parquet"))
            if files:
                found.setdefault(dataset_dir.name, {})[table_dir.name] = files
    return found


def load_table(client: Any, table_id: str, files: Iterable[Path]) -> int:
    """Create ``table_id`` with the Parquet schema and load the files (nested columns kept).

    The emulator wants the table to exist first and a plain (non-multipart) upload,
    so each file is sent as one in-memory stream without ``size=``.
    """
    import pyarrow.parquet as pq
    from google.cloud import bigquery

    from idcbq.engines.bigquery import schema_field
    from idcbq.sources.schema import fields_from_arrow

    files = list(files)
    arrow_schema = pq.read_schema(files[0])
    schema = [schema_field(f) for f in fields_from_arrow(arrow_schema)]
    client.create_table(bigquery.Table(table_id, schema=schema), exists_ok=True)
    config = bigquery.LoadJobConfig(
        source_format=bigquery.SourceFormat.PARQUET,
        write_disposition=bigquery.WriteDisposition.WRITE_APPEND,
    )
    rows = 0
    for path in files:
        meta = pq.read_metadata(path)
        if meta.num_rows == 0:
            continue
        stream = io.BytesIO(path.read_bytes())
        client.load_table_from_file(stream, table_id, job_config=config).result()
        rows += meta.num_rows
    return rows


def load_export(
    client: Any,
    root: Path,
    *,
    data_project: str = DATA_PROJECT,
    idc_version: int = 25,
    mirror: bool = True,
) -> dict[str, int]:
    """Load every table of an export into datasets named like IDC's.

    With ``mirror``, a table found only in ``idc_current*`` or ``idc_vNN*`` is also
    made available under the other name (as IDC's ``idc_current`` mirrors the
    latest release), as a view so the rows are loaded once.

    Returns ``{"dataset.table": rows}``.
    """
    from google.cloud import bigquery

    tables = export_tables(root)
    pinned = f"idc_v{idc_version}"
    loaded: dict[str, int] = {}
    for dataset, by_table in tables.items():
        client.create_dataset(bigquery.Dataset(f"{data_project}.{dataset}"), exists_ok=True)
        for table, files in by_table.items():
            loaded[f"{dataset}.{table}"] = load_table(
                client, f"{data_project}.{dataset}.{table}", files
            )
    if mirror:
        for dataset, by_table in tables.items():
            twin = _twin(dataset, pinned)
            if twin is None:
                continue
            for table in by_table:
                if table in tables.get(twin, {}):
                    continue
                client.create_dataset(bigquery.Dataset(f"{data_project}.{twin}"), exists_ok=True)
                view = bigquery.Table(f"{data_project}.{twin}.{table}")
                view.view_query = f"SELECT * FROM `{data_project}.{dataset}.{table}`"
                client.create_table(view, exists_ok=True)
                loaded[f"{twin}.{table}"] = loaded[f"{dataset}.{table}"]
    return loaded


def _twin(dataset: str, pinned: str) -> str | None:
    for a, b in ((pinned, "idc_current"), ("idc_current", pinned)):
        if dataset == a:
            return b
        if dataset == f"{a}_clinical":
            return f"{b}_clinical"
    return None
