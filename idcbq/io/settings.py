"""The config file's settings as a pydantic model (see :mod:`idcbq.config`).

Apart from :mod:`idcbq.config` so that a CLI run with nothing to validate does not
import pydantic.

Example:
    >>> Settings(engine="bigquery", max_bytes_billed=10).as_defaults()
    {'engine': 'bigquery', 'max_bytes_billed': 10}
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from idcbq.errors import IdcbqError

#: Settings that are not defaults of CLI options (read where they are used).
NOT_CLI_OPTIONS = frozenset({"googlesql_cache"})


class Settings(BaseModel):
    """Defaults that CLI options fall back to. Every field is optional."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    engine: Literal["duckdb", "bigquery", "googlesql"] | None = None
    project: str | None = None
    idc_version: str | None = None
    max_bytes_billed: int | None = Field(default=None, ge=0)
    source: str | None = None
    #: Folder for GoogleSQL's compiled module and verdict cache (env IDCBQ_GOOGLESQL_CACHE).
    googlesql_cache: str | None = None

    @field_validator("max_bytes_billed", mode="before")
    @classmethod
    def _size(cls, value: Any) -> Any:
        # Same spellings as --max-bytes-billed: 1000000, "10GB", "1TiB".
        if isinstance(value, str):
            from idcbq.engines.bigquery.cost import parse_size

            try:
                return parse_size(value.strip())
            except IdcbqError as exc:
                raise ValueError(exc.message) from None
        return value

    @field_validator("idc_version")
    @classmethod
    def _version(cls, value: str | None) -> str | None:
        if value is None:
            return None
        from idcbq.sources.releases import IdcVersion

        try:
            IdcVersion.parse(value)  # keep the user's spelling
        except IdcbqError as exc:  # pydantic reports ValueErrors with their location
            raise ValueError(exc.message) from None
        return value

    def as_defaults(self) -> dict[str, Any]:
        """Only the settings that are set, keyed by CLI parameter name."""
        return {
            k: v for k, v in self.model_dump().items() if v is not None and k not in NOT_CLI_OPTIONS
        }
