"""The one interface every engine implements (DuckDB over Parquet, BigQuery).

The pipeline above engines is engine-agnostic:
``render -> validate (BigQuery SQL) -> engine.prepare -> engine.execute``.
``prepare`` maps IDC table names to the engine's own and, for DuckDB, transpiles.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from idcbq.sources.releases import IDC_DATA_PROJECT, IdcVersion

if TYPE_CHECKING:
    import pyarrow as pa

    from idcbq.params import BoundParameter
    from idcbq.sources.schema import Field


@dataclass(frozen=True)
class PreparedQuery:
    """SQL ready for one engine, with its parameters still separate (never inlined)."""

    engine: str
    sql: str
    source_sql: str
    params: tuple[BoundParameter, ...] = ()
    template: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    #: Which check validated the BigQuery SQL (see :mod:`idcbq.validate.gate`).
    validated_by: str | None = None


@dataclass
class EngineOptions:
    """Settings shared by engines; each engine reads the ones it needs."""

    idc_version: IdcVersion = field(default_factory=lambda: IdcVersion(None))
    data_project: str = IDC_DATA_PROJECT
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def parse(
        cls,
        idc_version: str | int | IdcVersion | None = None,
        data_project: str = IDC_DATA_PROJECT,
        extra: dict[str, Any] | None = None,
    ) -> EngineOptions:
        """Options from an engine's ``from_options`` arguments (``idc_version`` as a user gives it)."""
        return cls(
            idc_version=IdcVersion.parse(idc_version),
            data_project=data_project,
            extra=extra if extra is not None else {},
        )


def default_endpoints(
    s3_endpoint: str | None, gcs_endpoint: str | None
) -> tuple[str | None, str | None]:
    """S3 and GCS endpoints, defaulting to the standard variables every engine honours.

    ``AWS_ENDPOINT_URL_S3``, then ``AWS_ENDPOINT_URL`` (as boto3 reads them), and
    ``STORAGE_EMULATOR_HOST`` (as google-cloud-storage reads it).
    """
    import os

    s3 = s3_endpoint or os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    return s3, gcs_endpoint or os.environ.get("STORAGE_EMULATOR_HOST")


class Engine(ABC):
    """An engine runs validated BigQuery-dialect queries and returns Arrow tables."""

    name: ClassVar[str]
    #: sqlglot dialect of the SQL this engine executes.
    dialect: ClassVar[str]

    def __init__(self, options: EngineOptions | None = None):
        self.options = options or EngineOptions()

    @property
    def idc_version(self) -> IdcVersion:
        return self.options.idc_version

    @property
    def data_project(self) -> str:
        return self.options.data_project

    @abstractmethod
    def table_fields(self, dataset: str, table: str) -> tuple[Field, ...] | None:
        """Columns of ``dataset.table`` as this engine sees them, or None if unknown."""

    @abstractmethod
    def list_tables(self, dataset: str) -> list[str]:
        """Tables this engine can read in an IDC dataset (``idc_v25``, ``idc_current_clinical``...)."""

    @abstractmethod
    def prepare(
        self, sql: str, params: Sequence[BoundParameter], *, template: str | None = None
    ) -> PreparedQuery:
        """Turn validated BigQuery SQL into SQL this engine runs."""

    @abstractmethod
    def execute(self, query: PreparedQuery, *, limit: int | None = None) -> pa.Table:
        """Run a prepared query; raise QueryError with a readable message on failure."""

    def estimate_bytes(self, query: PreparedQuery) -> int | None:
        """Bytes the query would scan, if the engine can tell before running it."""
        return None

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
