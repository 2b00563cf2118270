"""The job spec: what a scheduled cohort job runs, validated by a typed model.

A spec is TOML or YAML. Unknown keys, wrong types and missing fields are errors
that name the file and line.

Example spec (TOML)::

    [job]
    name = "nlst-ct"

    [query]
    template = "cohort.series_by_modality"
    params = { modalities = ["CT"], collection_id = "nlst" }

    [engine]
    name = "duckdb"            # or "bigquery" (then set project and a cost cap)
    idc_version = "current"

    [outputs]
    destination = "runs/nlst-ct"      # or gs://bucket/prefix
    results = ["parquet"]
    manifests = ["s5cmd", "jsonl"]

    [download]
    enabled = true
    dest = "data/nlst-ct"
    only_changes = true        # after the first run, fetch only added/revised series

Sections and keys (all others are errors):

- ``[job]`` ``name`` (required), ``description``.
- ``[query]`` ``template`` or ``sql_file`` (exactly one), ``params``, ``types``
  (``{name = "ARRAY<STRING>"}`` for ``sql_file``), ``templates`` (extra template dirs).
- ``[engine]`` ``name`` (duckdb|bigquery), ``idc_version``, ``source`` (DuckDB export root),
  ``project``, ``data_project``, ``api_endpoint``, ``max_bytes_billed`` (the cost cap).
- ``[outputs]`` ``destination`` (required; dir or ``gs://bucket/prefix``), ``results``
  (parquet|csv|jsonl|json), ``manifests`` (s5cmd|urls|jsonl|csv|parquet), ``manifest_level``
  (series|instance, for s5cmd/urls), ``provider`` (gcs|aws), ``gcs_endpoint``,
  ``change_manifests`` (write ``changes.*`` manifests of added+revised series; default true).
- ``[download]`` ``enabled``, ``dest``, ``workers``, ``dir_template``, ``endpoint``,
  ``anonymous``, ``project``, ``only_changes``, ``shard`` (``"i/n"`` or ``"auto"``: only
  that shard; ``run.json`` then carries the shard's report, and ``idcbq report`` sums the
  tasks' ``run.json`` files), ``shard_count``, ``state_dir``.
- ``[mirror]`` ``dest`` (required), ``source``, ``tables``, ``columns``, ``collections``,
  ``refresh`` (default true: run ``idcbq mirror`` for the newest release before the query),
  ``endpoint``. The DuckDB engine then reads the mirror (``[engine] source`` must be unset).

Relative paths are relative to the spec file.
"""

from __future__ import annotations

import hashlib
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from idcbq.errors import IdcbqError, JobSpecError, Location
from idcbq.jobs.locate import toml_error, toml_line, yaml_line

ResultFormat = Literal["parquet", "csv", "jsonl", "json"]
ManifestFormat = Literal["s5cmd", "urls", "jsonl", "csv", "parquet"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class JobSection(_Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}$")
    description: str | None = None


class QuerySection(_Strict):
    template: str | None = None
    sql_file: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    types: dict[str, str] = Field(default_factory=dict)
    templates: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_query(self) -> QuerySection:
        if bool(self.template) == bool(self.sql_file):
            raise ValueError("give exactly one of 'template' or 'sql_file'")
        return self


class EngineSection(_Strict):
    name: Literal["duckdb", "bigquery"] = "duckdb"
    idc_version: str = "current"
    source: str | None = None
    project: str | None = None
    data_project: str | None = None
    api_endpoint: str | None = None
    max_bytes_billed: int | None = Field(default=None, ge=0)

    @field_validator("idc_version")
    @classmethod
    def _version(cls, value: str) -> str:
        from idcbq.sources.releases import IdcVersion

        try:
            return IdcVersion.parse(value).label
        except IdcbqError as exc:  # pydantic reports ValueErrors with their location
            raise ValueError(exc.message) from None


class OutputsSection(_Strict):
    destination: str
    results: list[ResultFormat] = Field(default_factory=lambda: ["parquet"])
    manifests: list[ManifestFormat] = Field(default_factory=lambda: ["jsonl"])
    manifest_level: Literal["series", "instance"] = "instance"
    provider: Literal["gcs", "aws"] = "gcs"
    gcs_endpoint: str | None = None
    change_manifests: bool = True


class DownloadSection(_Strict):
    enabled: bool = False
    dest: str | None = None
    workers: int = Field(default=16, ge=1, le=512)
    dir_template: str | None = None
    endpoint: str | None = None
    anonymous: bool = True
    project: str | None = None
    only_changes: bool = False
    #: Seconds without a byte (or a connection) before a file attempt is given up; an
    #: unreachable endpoint stops the whole download at once (see idcbq.download).
    timeout: float = Field(default=30.0, gt=0, le=86400)
    #: ``bucket`` (GCS/S3 objects) or ``dicomweb`` (WADO-RS from ``dicomweb_url``, default
    #: IDC's public proxy; see idcbq.download.dicomweb).
    transport: Literal["bucket", "dicomweb"] = "bucket"
    dicomweb_url: str | None = None
    #: ``"i/n"`` or ``"auto"`` (the batch task's index and count): this run downloads only
    #: that shard of the manifest (see idcbq.download.shard); ``shard_count`` is the count
    #: for ``auto`` under Kubernetes, which sets only the index.
    shard: str | None = Field(default=None, pattern=r"^(auto|\d+/\d+)$")
    shard_count: int | None = Field(default=None, ge=1)
    #: Lock and resume state on a local disk when ``dest`` is a network or FUSE mount.
    state_dir: str | None = None

    @model_validator(mode="after")
    def _dest_when_enabled(self) -> DownloadSection:
        if self.enabled and not self.dest:
            raise ValueError("'dest' is required when the download is enabled")
        if self.shard and self.transport == "dicomweb":
            raise ValueError(
                "'shard' is for bucket downloads (IDC's DICOMweb proxy has a per-IP quota)"
            )
        if self.shard and self.shard != "auto":
            from idcbq.download.shard import Shard

            try:
                Shard.parse(self.shard)
            except IdcbqError as exc:
                raise ValueError(exc.message) from None
        return self


class MirrorSection(_Strict):
    """``[mirror]``: query a local `idcbq mirror` copy, refreshed before each run."""

    dest: str
    source: str = "s3://idc-open-metadata"
    tables: list[str] = Field(default_factory=lambda: ["dicom_all"])
    columns: str = "templates"
    collections: list[str] | None = None
    #: Before the query: mirror the newest release (only changed files are fetched).
    refresh: bool = True
    endpoint: str | None = None


class JobSpec(_Strict):
    """A whole job spec; ``path`` and ``digest`` are filled by :func:`load_spec`."""

    job: JobSection
    query: QuerySection
    engine: EngineSection = Field(default_factory=EngineSection)
    outputs: OutputsSection
    download: DownloadSection = Field(default_factory=DownloadSection)
    mirror: MirrorSection | None = None
    path: str | None = Field(default=None, exclude=True)
    digest: str | None = Field(default=None, exclude=True)

    def resolve(self, relative: str) -> str:
        """Paths in a spec are relative to the spec file; URLs are left alone."""
        if "://" in relative or self.path is None:
            return relative
        path = Path(relative).expanduser()
        return str(path if path.is_absolute() else Path(self.path).parent / path)


def load_spec(path: str | Path) -> JobSpec:
    """Read and validate a TOML (``.toml``) or YAML (``.yaml``/``.yml``) job spec."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise JobSpecError(
            f"cannot read job spec: {exc.strerror}", location=Location(str(path))
        ) from exc
    text = raw.decode("utf-8", errors="replace")
    is_yaml = path.suffix.lower() in (".yaml", ".yml")
    data = _parse(text, path, is_yaml)
    try:
        spec = JobSpec.model_validate(data)
    except ValidationError as exc:
        raise _spec_error(exc, text, path, is_yaml) from None
    return spec.model_copy(update={"path": str(path), "digest": hashlib.sha256(raw).hexdigest()})


def _parse(text: str, path: Path, is_yaml: bool) -> dict[str, Any]:
    if is_yaml:
        import yaml

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark else None
            raise JobSpecError(
                f"invalid YAML: {getattr(exc, 'problem', exc)}", location=_loc(path, text, line)
            ) from None
    else:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            message, line = toml_error(exc)
            raise JobSpecError(
                f"invalid TOML: {message}", location=_loc(path, text, line)
            ) from None
    if not isinstance(data, dict):
        raise JobSpecError(
            "a job spec must be a mapping of sections", location=Location(str(path), 1)
        )
    return data


def _spec_error(exc: ValidationError, text: str, path: Path, is_yaml: bool) -> JobSpecError:
    # An unknown key first: a misspelt section also makes the real one "missing".
    first = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")[0]
    where = tuple(str(p) if not isinstance(p, int) else p for p in first["loc"])
    locate = yaml_line if is_yaml else toml_line
    line = locate(text, where) if where else None
    dotted = ".".join(str(p) for p in where) or "<spec>"
    kind = first["type"]
    if kind == "extra_forbidden":
        message = f"unknown key {dotted!r}"
    elif kind == "missing":
        message = f"missing required key {dotted!r}"
    else:
        message = f"{dotted}: {first['msg']}"
        if "input" in first and not isinstance(first["input"], dict):
            message += f" (got {first['input']!r})"
    more = len(exc.errors()) - 1
    hint = f"{more} more problem(s) in the same file" if more else None
    return JobSpecError(message, location=_loc(path, text, line), hint=hint)


def _loc(path: Path, text: str, line: int | None) -> Location:
    snippet = None
    if line:
        lines = text.splitlines()
        if 0 < line <= len(lines):
            snippet = lines[line - 1]
    return Location(str(path), line, None, snippet)
