"""The BigQuery engine: qualified table names, native parameters, a cost guard.

Example (needs credentials, so not run here)::

    engine = BigQueryEngine.from_options(project="my-billing-project", idc_version="v25",
                                         max_bytes_billed=10 * 2**30)
    prepared = engine.prepare("SELECT COUNT(*) n FROM dicom_all WHERE Modality = @m",
                              [BoundParameter.of("m", "STRING", "CT")])
    engine.estimate(prepared).describe()   # bytes processed / billed, cost
    engine.execute(prepared)               # pyarrow.Table
"""

from __future__ import annotations

import logging
import os
import threading
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from idcbq.engines.base import Engine, EngineOptions, PreparedQuery
from idcbq.engines.bigquery import auth
from idcbq.engines.bigquery.cost import (
    DEFAULT_PRICE_PER_TIB,
    CostGuard,
    Estimate,
    Estimator,
    job_labels,
)
from idcbq.engines.bigquery.naming import qualify_tables
from idcbq.engines.bigquery.parameters import to_query_parameters
from idcbq.engines.bigquery.results import fetch_arrow, query_error, wait_for_job
from idcbq.errors import IdcbqError, UsageError
from idcbq.sources.releases import IDC_DATA_PROJECT, IdcVersion

if TYPE_CHECKING:
    import pyarrow as pa

    from idcbq.params import BoundParameter
    from idcbq.sources.schema import Field

log = logging.getLogger("idcbq.bigquery")
#: Environment variable naming a BigQuery REST endpoint (e.g. a local emulator).
ENDPOINT_ENV = "IDCBQ_BIGQUERY_API_ENDPOINT"


@dataclass
class JobStats:
    """What the last job did (for provenance and progress reports)."""

    job_id: str | None = None
    location: str | None = None
    bytes_processed: int | None = None
    bytes_billed: int | None = None
    estimate: Estimate | None = None
    labels: Mapping[str, str] | None = None


class BigQueryEngine(Engine):
    """Runs validated BigQuery SQL on Google BigQuery (or a compatible local emulator)."""

    name: ClassVar[str] = "bigquery"
    dialect: ClassVar[str] = "bigquery"

    def __init__(
        self,
        client: Any,
        options: EngineOptions | None = None,
        *,
        guard: CostGuard | None = None,
        estimator: Estimator | None = None,
        labels: Mapping[str, str] | None = None,
        use_bqstorage: bool = True,
        page_size: int | None = None,
        progress: bool = True,
        location: str | None = None,
        dry_run_first: bool = True,
    ):
        super().__init__(options)
        self.client = client
        self.guard = guard or CostGuard()
        #: Where estimates come from: BigQuery's dry run unless a caller supplies another.
        self.estimator: Estimator = estimator or self.dry_run_bytes
        self.labels = dict(labels or {})
        self.use_bqstorage = use_bqstorage
        self.page_size = page_size
        self.progress = progress
        self.location = location
        self.dry_run_first = dry_run_first
        self.last_job = JobStats()
        self._bqstorage: Any = None
        #: Set by Ctrl-C (idcbq.engines.cancel) so a job not yet created is never started.
        self.cancelled = threading.Event()

    @classmethod
    def from_options(
        cls,
        *,
        project: str | None = None,
        idc_version: str | int | IdcVersion | None = None,
        data_project: str | None = IDC_DATA_PROJECT,
        credentials: Any = None,
        key_file: str | None = None,
        api_endpoint: str | None = None,
        location: str | None = None,
        max_bytes_billed: int | None = None,
        price_per_tib: float | None = DEFAULT_PRICE_PER_TIB,
        use_bqstorage: bool | None = True,
        labels: Mapping[str, str] | None = None,
        progress: bool = True,
        page_size: int | None = None,
        estimator: Estimator | None = None,
        client: Any = None,
        **extra: Any,
    ) -> BigQueryEngine:
        """Build an engine from CLI/API options; resolves auth without slow probes.

        Unknown options (e.g. ``source`` meant for DuckDB) are kept in ``options.extra``.
        """
        # Env override so any CLI command can target an emulator or a private endpoint.
        api_endpoint = api_endpoint or os.environ.get(ENDPOINT_ENV) or None
        if client is None:
            if credentials is None and key_file is None and _plain_http(api_endpoint):
                # A plain-http endpoint is a local emulator, never Google: no credentials.
                credentials = "anonymous"
            resolved = auth.resolve(credentials=credentials, key_file=key_file, project=project)
            from google.cloud import bigquery

            client_options = {"api_endpoint": api_endpoint} if api_endpoint else None
            client = bigquery.Client(
                project=resolved.project,
                credentials=resolved.credentials,
                location=location,
                client_options=client_options,
            )
            log.debug("bigquery client for project %s (%s)", resolved.project, resolved.source)
        if api_endpoint and use_bqstorage:
            # The Storage Read API client would talk to Google, not to this endpoint.
            use_bqstorage = False
        options = EngineOptions(
            idc_version=IdcVersion.parse(idc_version),
            data_project=data_project or IDC_DATA_PROJECT,
            extra=dict(extra),
        )
        return cls(
            client,
            options,
            guard=CostGuard(
                max_bytes_billed=_as_size(max_bytes_billed, "max_bytes_billed"),
                price_per_tib=DEFAULT_PRICE_PER_TIB if price_per_tib is None else price_per_tib,
            ),
            estimator=estimator,
            labels=labels,
            use_bqstorage=bool(use_bqstorage),
            page_size=page_size,
            progress=progress,
            location=location,
        )

    # -- schema -------------------------------------------------------------------

    def table_fields(self, dataset: str, table: str) -> tuple[Field, ...] | None:
        from google.api_core import exceptions as gexc

        try:
            bq_table = self.client.get_table(f"{self.data_project}.{dataset}.{table}")
        except gexc.NotFound:
            return None
        except gexc.GoogleAPICallError as exc:
            raise query_error(exc, template=None) from exc
        return tuple(field_from_schema_field(f) for f in bq_table.schema)

    def list_tables(self, dataset: str) -> list[str]:
        from google.api_core import exceptions as gexc

        try:
            return sorted(
                t.table_id for t in self.client.list_tables(f"{self.data_project}.{dataset}")
            )
        except gexc.NotFound:
            return []
        except gexc.GoogleAPICallError as exc:
            raise query_error(exc, template=None) from exc

    # -- queries ------------------------------------------------------------------

    def prepare(
        self, sql: str, params: Sequence[BoundParameter], *, template: str | None = None
    ) -> PreparedQuery:
        qualified = qualify_tables(
            sql, data_project=self.data_project, idc_version=self.idc_version
        )
        return PreparedQuery(
            engine=self.name,
            sql=qualified,
            source_sql=sql,
            params=tuple(params),
            template=template,
            labels=job_labels(template, self.labels),
        )

    def _job_config(self, query: PreparedQuery, **kwargs: Any) -> Any:
        from google.cloud import bigquery

        return bigquery.QueryJobConfig(
            query_parameters=to_query_parameters(query.params),
            use_legacy_sql=False,
            **kwargs,
        )

    def dry_run_bytes(self, query: PreparedQuery) -> int | None:
        """BigQuery's own estimate: a dry run (free; also catches SQL and table errors)."""
        from google.api_core import exceptions as gexc

        from idcbq.engines.bigquery import network

        config = self._job_config(query, dry_run=True, use_query_cache=False)
        try:
            job = self.client.query(
                query.sql,
                job_config=config,
                location=self.location,
                **network.call_options(job=True),
            )
        except gexc.GoogleAPICallError as exc:
            raise query_error(exc, template=query.template) from exc
        except Exception as exc:  # no network: one clear error, not minutes of retries
            if network.unreachable(exc):
                raise network.unreachable_error(exc, self._endpoint()) from exc
            raise
        return job.total_bytes_processed

    def estimate_bytes(self, query: PreparedQuery) -> int | None:
        return self.estimator(query)

    def estimate(self, query: PreparedQuery) -> Estimate:
        """Bytes processed and billed, cost, and whether the cap allows it (never raises on cap)."""
        return self.guard.decide(self.estimate_bytes(query))

    def execute(self, query: PreparedQuery, *, limit: int | None = None) -> pa.Table:
        """Estimate, check the cap, run with ``maximum_bytes_billed`` and labels, fetch Arrow."""
        from google.api_core import exceptions as gexc

        from idcbq.engines.bigquery import network

        estimate = None
        if self.dry_run_first or self.guard.max_bytes_billed is not None:
            estimate = self.guard.check(self.estimate_bytes(query), template=query.template)
        labels = dict(query.labels) or job_labels(query.template, self.labels)
        config = self._job_config(
            query, labels=labels, maximum_bytes_billed=self.guard.max_bytes_billed
        )
        # The job id is chosen here, so Ctrl-C can cancel the job even while it is created.
        job_id = f"idcbq_{uuid.uuid4().hex}"
        if self.cancelled.is_set():  # Ctrl-C came before the job existed: never start it
            from idcbq.errors import QueryError

            raise QueryError("cancelled before the BigQuery job started")
        self.last_job = JobStats(estimate=estimate, labels=labels, job_id=job_id)
        self.last_job.location = self.location
        try:
            job = self.client.query(
                query.sql,
                job_config=config,
                location=self.location,
                job_id=job_id,
                **network.call_options(job=True),
            )
            self.last_job.job_id, self.last_job.location = job.job_id, job.location
            self.last_job.labels = dict(job.labels or labels)
            wait_for_job(job, progress=self.progress)
            table = fetch_arrow(
                job,
                page_size=self.page_size,
                limit=limit,
                bqstorage_client=self._storage_client(),
                progress=self.progress,
            )
        except Exception as exc:
            if self.cancelled.is_set():  # Ctrl-C cancelled the job: the interrupt wins
                from idcbq.engines.cancel import QueryInterrupted

                raise QueryInterrupted(True) from None
            if isinstance(exc, IdcbqError):
                raise
            if isinstance(exc, gexc.GoogleAPICallError):
                raise query_error(exc, template=query.template) from exc
            # no network: one clear error, not minutes of retries
            if network.unreachable(exc):
                raise network.unreachable_error(exc, self._endpoint()) from exc
            raise
        self.last_job.bytes_processed = job.total_bytes_processed
        self.last_job.bytes_billed = job.total_bytes_billed
        return table

    def _storage_client(self) -> Any:
        """A Storage Read API client when installed and allowed, else None (REST pages)."""
        if not self.use_bqstorage:
            return None
        if self._bqstorage is None:
            try:
                from google.cloud import bigquery_storage  # type: ignore[attr-defined]
            except ImportError:
                self.use_bqstorage = False
                return None
            self._bqstorage = bigquery_storage.BigQueryReadClient(
                credentials=self.client._credentials
            )
        return self._bqstorage

    def _endpoint(self) -> str | None:
        """The REST endpoint this client talks to (for error messages)."""
        conn = getattr(self.client, "_connection", None)
        return getattr(conn, "API_BASE_URL", None)

    def close(self) -> None:
        self.client.close()


def field_from_schema_field(field: Any) -> Field:
    """A google-cloud-bigquery ``SchemaField`` as an idcbq :class:`~idcbq.sources.schema.Field`."""
    from idcbq.sources.schema import field_from_json

    return field_from_json(field.to_api_repr())


def schema_field(field: Field) -> Any:
    """An idcbq Field as a ``SchemaField`` (legacy type names, which the REST API expects)."""
    from google.cloud import bigquery

    legacy = {"INT64": "INTEGER", "FLOAT64": "FLOAT", "BOOL": "BOOLEAN"}
    return bigquery.SchemaField(
        field.name,
        legacy.get(field.type, field.type),
        mode=field.mode,
        fields=[schema_field(f) for f in field.fields],
    )


def _plain_http(endpoint: str | None) -> bool:
    return bool(endpoint) and str(endpoint).startswith("http://")


def _as_size(value: Any, name: str) -> int | None:
    if value is None:
        return None
    from idcbq.engines.bigquery.cost import parse_size

    try:
        number = parse_size(value if isinstance(value, int | str) else int(value))
    except (TypeError, ValueError, UsageError):
        raise UsageError(f"{name} must be a byte count (or 10GB, 1TiB), got {value!r}") from None
    if number < 0:
        raise UsageError(f"{name} must be >= 0, got {value!r}")
    return number
