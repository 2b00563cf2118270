"""Run a job spec end to end, non-interactively: query, results, manifests, diff, download.

Every run gets its own folder and a ``run.json``; ``latest.json`` moves only after the
whole run succeeded, so a failed run never replaces the last good output. With a
``gs://`` destination the run is staged locally, uploaded object by object, and the
remote ``latest.json`` is written last.
"""

from __future__ import annotations

import logging
import time
import traceback
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from idcbq.errors import ExitCode, IdcbqError
from idcbq.jobs.runs import RunDir, job_lock, latest_run, mark_latest, new_run, write_json_atomic
from idcbq.jobs.spec import JobSpec

log = logging.getLogger("idcbq.jobs")

RESULTS_STEM = "results"


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
        from idcbq.sources import cache_dir

        return cache_dir() / "jobs" / spec.job.name
    return Path(spec.resolve(dest))


def run_job(spec: JobSpec, *, dry_run: bool = False) -> RunOutcome:
    """Run ``spec`` once. Never raises for run failures: they are in the outcome and run.json."""
    root = staging_root(spec)
    with job_lock(root, spec.job.name):
        previous = latest_run(root)
        run = new_run(root)
        record: dict[str, Any] = _initial_record(spec, run, previous, dry_run)
        write_json_atomic(run.record_path, record)
        outcome = RunOutcome(run=run, record=record)
        started = time.perf_counter()
        try:
            _execute(spec, run, previous, record, outcome.timings, dry_run=dry_run)
            record["status"] = "dry-run" if dry_run else "succeeded"
        except IdcbqError as exc:
            record.update(
                status="failed",
                error={"type": type(exc).__name__, "message": str(exc), "exit_code": exc.exit_code},
            )
            outcome.exit_code, outcome.error = exc.exit_code, exc
        except Exception as exc:  # an unexpected bug still leaves a truthful run.json
            record.update(
                status="failed",
                error={
                    "type": type(exc).__name__,
                    "message": str(exc),
                    "traceback": traceback.format_exc(),
                },
            )
            outcome.exit_code = ExitCode.FAILURE
            outcome.error = IdcbqError(f"{type(exc).__name__}: {exc}")
        record["timings_s"] = {**outcome.timings, "total": round(time.perf_counter() - started, 3)}
        record["finished"] = datetime.now(UTC).isoformat()
        write_json_atomic(run.record_path, record)
        if record["status"] == "succeeded":
            try:
                _publish(spec, run)
                mark_latest(run)
            except IdcbqError as exc:
                record.update(
                    status="failed", error={"type": type(exc).__name__, "message": str(exc)}
                )
                write_json_atomic(run.record_path, record)
                outcome.exit_code, outcome.error = exc.exit_code, exc
        return outcome


def _initial_record(
    spec: JobSpec, run: RunDir, previous: RunDir | None, dry_run: bool
) -> dict[str, Any]:
    from idcbq import __version__

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
        "template": spec.query.template,
        "sql_file": spec.query.sql_file,
        "parameters": spec.query.params,
        "previous_run": previous.run_id if previous else None,
        "started": datetime.now(UTC).isoformat(),
        "outputs": {},
    }


def _timed(timings: dict[str, float], name: str, started: float) -> None:
    timings[name] = round(time.perf_counter() - started, 3)


def _execute(
    spec: JobSpec,
    run: RunDir,
    previous: RunDir | None,
    record: dict[str, Any],
    timings: dict[str, float],
    *,
    dry_run: bool,
) -> None:
    import idcbq

    engine_options: dict[str, Any] = {"idc_version": spec.engine.idc_version}
    for key in ("source", "project", "data_project", "api_endpoint", "max_bytes_billed"):
        value = getattr(spec.engine, key)
        if value is not None:
            engine_options[key] = spec.resolve(value) if key == "source" else value
    templates = [spec.resolve(t) for t in spec.query.templates]
    client = idcbq.connect(engine=spec.engine.name, templates=templates, **engine_options)

    started = time.perf_counter()
    if dry_run:
        estimate = _estimate(client, spec)
        record["estimate_bytes"] = estimate
        _timed(timings, "estimate", started)
        return
    result = _query(client, spec)
    _timed(timings, "query", started)
    record["bytes_processed"] = result.bytes_processed
    record["counts"] = _counts(result.table)
    record["provenance"] = result.provenance()

    started = time.perf_counter()
    outputs = record["outputs"]
    for fmt in spec.outputs.results:
        path = run.path / f"{RESULTS_STEM}.{fmt}"
        _write_results(result.table, path, fmt)
        outputs[f"results.{fmt}"] = path.name
    _timed(timings, "results", started)

    started = time.perf_counter()
    from idcbq.manifest import write_manifest

    for fmt in spec.outputs.manifests:
        path = run.path / f"manifest.{_manifest_suffix(fmt)}"
        write_manifest(
            result,
            path,
            format=fmt,
            level=spec.outputs.manifest_level,
            provider=spec.outputs.provider,
        )
        outputs[f"manifest.{fmt}"] = path.name
    _timed(timings, "manifests", started)

    changes = None
    if previous is not None:
        changes = _diff_with(previous, result, run, spec, outputs)
        record["diff"] = changes.summary()

    if spec.download.enabled:
        started = time.perf_counter()
        record["download"] = _download(spec, run, result, changes)
        _timed(timings, "download", started)


def _estimate(client: Any, spec: JobSpec) -> int | None:
    if spec.query.template:
        return client.estimate(spec.query.template, **spec.query.params)
    sql = Path(spec.resolve(spec.query.sql_file or "")).read_text(encoding="utf-8")
    return client.estimate_sql(sql, params=spec.query.params, types=spec.query.types)


def _query(client: Any, spec: JobSpec) -> Any:
    if spec.query.template:
        return client.query(spec.query.template, **spec.query.params)
    sql_path = Path(spec.resolve(spec.query.sql_file or ""))
    try:
        sql = sql_path.read_text(encoding="utf-8")
    except OSError as exc:
        from idcbq.errors import JobSpecError, Location

        raise JobSpecError(
            f"cannot read sql_file: {exc.strerror}", location=Location(str(sql_path))
        ) from exc
    return client.sql(sql, params=spec.query.params, types=spec.query.types)


def _counts(table: Any) -> dict[str, int]:
    import pyarrow.compute as pc

    counts = {"rows": table.num_rows}
    for column, key in (
        ("PatientID", "patients"),
        ("StudyInstanceUID", "studies"),
        ("SeriesInstanceUID", "series"),
        ("SOPInstanceUID", "instances"),
    ):
        if column in table.column_names:
            counts[key] = int(pc.count_distinct(table.column(column)).as_py())
    if "instance_size" in table.column_names:
        counts["bytes"] = int(pc.sum(table.column("instance_size")).as_py() or 0)
    return counts


def _manifest_suffix(fmt: str) -> str:
    return {"urls": "txt"}.get(fmt, fmt)


def _write_results(table: Any, path: Path, fmt: str) -> None:
    from idcbq.io import write_table

    write_table(table, path, fmt)


def _diff_with(
    previous: RunDir, result: Any, run: RunDir, spec: JobSpec, outputs: dict[str, str]
) -> Any:
    import pyarrow.parquet as pq

    from idcbq.jobs.diff import diff_cohorts

    prev_file = previous.path / f"{RESULTS_STEM}.parquet"
    if not prev_file.exists():
        raise IdcbqError(
            f"previous run {previous.run_id} has no {prev_file.name}; keep 'parquet' in outputs.results to diff runs"
        )
    changes = diff_cohorts(pq.read_table(prev_file), result.table)
    write_json_atomic(
        run.path / "diff.json", {"previous_run": previous.run_id, **changes.to_dict()}
    )
    outputs["diff"] = "diff.json"
    return changes


def _download(spec: JobSpec, run: RunDir, result: Any, changes: Any) -> dict[str, Any]:
    from idcbq.jobs.outputs import download_result

    return download_result(spec, run, result, changes)


def _publish(spec: JobSpec, run: RunDir) -> None:
    dest = spec.outputs.destination
    if not dest.startswith("gs://"):
        return
    from idcbq.jobs.outputs import upload_run

    upload_run(run, dest, endpoint=spec.outputs.gcs_endpoint)
