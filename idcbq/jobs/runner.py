"""Run a job spec end to end, non-interactively: query, results, manifests, diff, download.

Every run gets its own folder and a ``run.json``; ``latest.json`` moves only after the
whole run succeeded, so a failed run never replaces the last good output. With a
``gs://`` destination the run is staged locally, uploaded object by object, and the
remote ``latest.json`` is written last.
"""

from __future__ import annotations

import hashlib
import logging
import time
import traceback
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from idcbq.errors import CostCapError, ExitCode, IdcbqError, JobSpecError, Location
from idcbq.jobs import artifacts
from idcbq.jobs.artifacts import RESULTS_STEM  # noqa: F401 - re-exported for callers
from idcbq.jobs.runs import (
    RunDir,
    job_lock,
    latest_run,
    mark_abandoned,
    mark_latest,
    new_run,
    process_identity,
    write_json_atomic,
)
from idcbq.jobs.spec import JobSpec

log = logging.getLogger("idcbq.jobs")


@dataclass
class RunOutcome:
    """What a run produced; ``record`` is the content of its ``run.json``."""

    run: RunDir | None
    record: dict[str, Any]
    exit_code: int = ExitCode.OK
    error: IdcbqError | None = None
    timings: dict[str, float] = field(default_factory=dict)


def staging_root(spec: JobSpec) -> Path:
    """Local folder holding the job's runs: the destination itself, or a cache for gs://."""
    dest = spec.outputs.destination
    if dest.startswith("gs://"):
        from idcbq.sources.releases import cache_dir

        digest = hashlib.sha256(dest.rstrip("/").encode()).hexdigest()[:12]
        return cache_dir() / "jobs" / f"{spec.job.name}-{digest}"
    return Path(spec.resolve(dest))


def _event(message: str, **fields: Any) -> None:
    log.info(message, extra={"fields": fields})


def run_job(spec: JobSpec, *, dry_run: bool = False) -> RunOutcome:
    """Run ``spec`` once. Never raises for run failures: they are in the outcome and run.json.

    Raises:
        JobLockedError: another run of the same job holds the lock (exit code 7).
    """
    root = staging_root(spec)
    with job_lock(root, spec.job.name):
        if spec.outputs.destination.startswith("gs://"):
            from idcbq.jobs.outputs import fetch_latest

            fetch_latest(root, spec.outputs.destination, endpoint=spec.outputs.gcs_endpoint)
        abandoned = mark_abandoned(root)  # runs killed mid-way: never a diff base
        if abandoned:
            _event("earlier runs abandoned", job=spec.job.name, runs=abandoned)
        previous = latest_run(root)
        run = new_run(root)
        record: dict[str, Any] = _initial_record(spec, run, previous, dry_run)
        write_json_atomic(run.record_path, record)
        _event("job run started", job=spec.job.name, run=run.run_id, dry_run=dry_run)
        outcome = RunOutcome(run=run, record=record)
        started = time.perf_counter()
        try:
            _execute(spec, run, previous, record, outcome.timings, dry_run=dry_run)
            record["status"] = "dry-run" if dry_run else "succeeded"
        except IdcbqError as exc:
            _fail(record, outcome, exc)
        except Exception as exc:  # an unexpected bug still leaves a truthful run.json
            _fail(record, outcome, IdcbqError(f"{type(exc).__name__}: {exc}"))
            record["error"]["traceback"] = traceback.format_exc()
        record["timings_s"] = {**outcome.timings, "total": round(time.perf_counter() - started, 3)}
        record["finished"] = datetime.now(UTC).isoformat()
        write_json_atomic(run.record_path, record)
        if record["status"] == "succeeded":
            try:
                _publish(spec, run)
                mark_latest(run)
            except IdcbqError as exc:
                _fail(record, outcome, exc)
                write_json_atomic(run.record_path, record)
        _event(
            "job run finished",
            job=spec.job.name,
            run=run.run_id,
            status=record["status"],
            exit_code=outcome.exit_code,
            counts=record.get("counts"),
            diff=record.get("diff"),
        )
        return outcome


def _fail(record: dict[str, Any], outcome: RunOutcome, exc: IdcbqError) -> None:
    record.update(
        status="failed",
        error={"type": type(exc).__name__, "message": str(exc), "exit_code": exc.exit_code},
    )
    outcome.exit_code, outcome.error = exc.exit_code, exc


def _initial_record(
    spec: JobSpec, run: RunDir, previous: RunDir | None, dry_run: bool
) -> dict[str, Any]:
    from idcbq.core.version import __version__

    return {
        "job": spec.job.name,
        "run_id": run.run_id,
        "status": "running",
        "dry_run": dry_run,
        "spec_path": spec.path,
        "spec_sha256": spec.digest,
        "tool_version": __version__,
        "engine": spec.engine.name,
        "idc_version": spec.engine.idc_version,
        "destination": spec.outputs.destination,
        "template": spec.query.template,
        "sql_file": spec.query.sql_file,
        "parameters": spec.query.params,
        "previous_run": previous.run_id if previous else None,
        "started": datetime.now(UTC).isoformat(),
        "process": process_identity(),
        "outputs": {},
    }


class _Timer:
    def __init__(self, timings: dict[str, float], name: str):
        self.timings, self.name = timings, name

    def __enter__(self) -> None:
        self.started = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        self.timings[self.name] = round(time.perf_counter() - self.started, 3)


def connect(spec: JobSpec) -> Any:
    """The ``idcbq.Client`` a spec asks for (paths relative to the spec file)."""
    import idcbq.api

    options: dict[str, Any] = {"idc_version": spec.engine.idc_version}
    for key in ("source", "project", "data_project", "api_endpoint", "max_bytes_billed"):
        value = getattr(spec.engine, key)
        if value is not None:
            options[key] = spec.resolve(value) if key == "source" else value
    if spec.mirror is not None:  # the engine reads the job's mirror (see refresh_mirror)
        options.update(mirror_options(spec))
    if spec.engine.name == "bigquery":
        options["progress"] = False  # no progress bars in a scheduled job's log
    templates = [spec.resolve(t) for t in spec.query.templates]
    return idcbq.api.connect(spec.engine.name, templates=templates, **options)


def mirror_options(spec: JobSpec) -> dict[str, Any]:
    """Engine options for a ``[mirror]`` job: the mirror as source, ``current`` -> its newest."""
    from idcbq.errors import JobSpecError
    from idcbq.sources.mirror import read_manifest

    assert spec.mirror is not None
    if spec.engine.source is not None:
        raise JobSpecError("give either [engine] source or [mirror], not both")
    dest = spec.resolve(spec.mirror.dest)
    version = spec.engine.idc_version
    latest = read_manifest(Path(dest)).get("latest")
    if version == "current" and latest:
        version = latest.removeprefix("idc_")
    return {"source": dest, "idc_version": version}


def refresh_mirror(spec: JobSpec) -> dict[str, Any]:
    """Mirror the spec's release (newest for ``current``); only changed files are fetched."""
    from idcbq.sources.mirror import mirror

    assert spec.mirror is not None
    m = spec.mirror
    endpoint = {"s3_endpoint" if m.source.startswith("s3://") else "gcs_endpoint": m.endpoint}
    report = mirror(
        spec.resolve(m.source), spec.resolve(m.dest), idc_version=spec.engine.idc_version,
        tables=m.tables, columns=m.columns, collections=m.collections, progress=False,
        **(endpoint if m.endpoint else {}),
    )  # fmt: skip
    return {
        "dataset": report.dataset,
        "fetched": report.fetched,
        "linked": report.linked,
        "unchanged": report.unchanged,
        "bytes": report.chunk_bytes + report.footer_bytes,
    }


def _execute(
    spec: JobSpec,
    run: RunDir,
    previous: RunDir | None,
    record: dict[str, Any],
    timings: dict[str, float],
    *,
    dry_run: bool,
) -> None:
    if spec.mirror is not None and spec.mirror.refresh and not dry_run:
        with _Timer(timings, "mirror"):
            record["mirror"] = refresh_mirror(spec)
    client = connect(spec)
    try:
        if dry_run:
            with _Timer(timings, "estimate"):
                record["estimate_bytes"] = _estimate(client, spec)
            return
        with _Timer(timings, "query"):
            result = _query(client, spec)
        record["bytes_processed"] = result.bytes_processed
        record["provenance"] = result.provenance()
        outputs = record["outputs"]
        with _Timer(timings, "results"):
            outputs.update(artifacts.write_results(result, run.path, spec.outputs.results))
        with _Timer(timings, "manifests"):
            manifest, prov = artifacts.write_canonical_manifest(
                result, run.path, spec, client.engine
            )
            outputs["manifest.instances"] = artifacts.CANONICAL_MANIFEST
            outputs.update(artifacts.write_manifests(manifest, run.path, spec, result.provenance()))
            series = artifacts.series_table(manifest, result.table)
            from idcbq.io.formats import write_table

            write_table(series, run.path / artifacts.SERIES_FILE, "parquet")
            outputs["series"] = artifacts.SERIES_FILE
        record["counts"] = {
            "rows": result.table.num_rows,
            "series": prov.get("series"),
            "instances": prov.get("instances"),
            "bytes": prov.get("total_bytes"),
        }
    finally:
        client.close()

    changes = None
    if previous is not None:
        with _Timer(timings, "diff"):
            changes = _diff_with(previous, series, manifest, run, spec, prov, outputs)
        record["diff"] = changes.summary()

    if spec.download.enabled:
        from idcbq.jobs.outputs import download_rows

        rows = manifest
        if spec.download.only_changes and changes is not None:
            rows = artifacts.changed_rows(manifest, changes)
        with _Timer(timings, "download"):
            record["download"] = download_rows(spec, run, rows)


def _estimate(client: Any, spec: JobSpec) -> int | None:
    """Estimate only; refuse (exit 3) if the estimate is above the spec's cost cap."""
    if spec.query.template:
        estimate = client.estimate(spec.query.template, **spec.query.params)
    else:
        prepared = client.prepare_sql(
            _read_sql(spec), params=spec.query.params, types=spec.query.types
        )
        estimate = client.engine.estimate_bytes(prepared)
    cap = spec.engine.max_bytes_billed
    if cap is not None and estimate is not None and estimate > cap:
        raise CostCapError(
            f"estimate {estimate:,} bytes is above the job's cap max_bytes_billed={cap:,}",
            hint="narrow the query or raise engine.max_bytes_billed in the spec",
        )
    return estimate


def _read_sql(spec: JobSpec) -> str:
    sql_path = Path(spec.resolve(spec.query.sql_file or ""))
    try:
        return sql_path.read_text(encoding="utf-8")
    except OSError as exc:
        raise JobSpecError(
            f"cannot read sql_file: {exc.strerror}", location=Location(str(sql_path))
        ) from exc


def _query(client: Any, spec: JobSpec) -> Any:
    if spec.query.template:
        return client.query(spec.query.template, **spec.query.params)
    return client.sql(_read_sql(spec), params=spec.query.params, types=spec.query.types)


def _diff_with(
    previous: RunDir,
    series: Any,
    manifest: Any,
    run: RunDir,
    spec: JobSpec,
    provenance: dict[str, Any],
    outputs: dict[str, str],
) -> Any:
    from idcbq.io.formats import read_table

    prev_file = previous.path / artifacts.SERIES_FILE
    if not prev_file.exists():
        raise IdcbqError(
            f"previous run {previous.run_id} has no {artifacts.SERIES_FILE}; cannot diff",
            hint="the previous run was made by an older idcbq; delete latest.json to start over",
        )
    changes = artifacts.diff_series(read_table(prev_file), series)
    write_json_atomic(
        run.path / artifacts.DIFF_FILE, {"previous_run": previous.run_id, **changes.to_dict()}
    )
    outputs["diff"] = artifacts.DIFF_FILE
    if spec.outputs.change_manifests:
        rows = artifacts.changed_rows(manifest, changes)
        prov = {**provenance, "changes_since_run": previous.run_id}
        outputs.update(artifacts.write_manifests(rows, run.path, spec, prov, stem="changes"))
    return changes


def _publish(spec: JobSpec, run: RunDir) -> None:
    dest = spec.outputs.destination
    if not dest.startswith("gs://"):
        return
    from idcbq.jobs.outputs import upload_run

    upload_run(run, dest, endpoint=spec.outputs.gcs_endpoint)
