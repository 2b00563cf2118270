"""Diff two stored runs of a job, optionally writing a manifest of what changed."""

from __future__ import annotations

import json
from pathlib import Path

from idcbq.errors import UsageError
from idcbq.jobs import artifacts
from idcbq.jobs.diff import CohortDiff
from idcbq.jobs.runner import staging_root
from idcbq.jobs.runs import RUNS, RunDir, latest_run, mark_abandoned, read_record
from idcbq.jobs.spec import JobSpec


def finished_runs(root: Path) -> list[RunDir]:
    """Succeeded runs with their series list, oldest first (run ids sort by time).

    A run that failed, was abandoned (its process was killed) or is still running is no
    diff base, even if it wrote its series list before it stopped.
    """
    runs_dir = root / RUNS
    if not runs_dir.is_dir():
        return []
    mark_abandoned(root)
    runs = []
    for p in sorted(runs_dir.iterdir()):
        run = RunDir(root, p.name)
        if not (
            (p / artifacts.SERIES_FILE).exists() and (p / artifacts.CANONICAL_MANIFEST).exists()
        ):
            continue
        record = read_record(run) or {}
        if record.get("status") == "succeeded":
            runs.append(run)
    return runs


def recorded_previous(run: RunDir) -> str | None:
    """The run this one was diffed against when it ran (``previous_run`` in its run.json)."""
    try:
        record = json.loads(run.record_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    previous = record.get("previous_run") if isinstance(record, dict) else None
    return previous if isinstance(previous, str) else None


def diff_runs(
    spec: JobSpec,
    *,
    run_id: str | None = None,
    against_id: str | None = None,
    manifest_path: str | None = None,
    manifest_format: str = "s5cmd",
) -> tuple[CohortDiff, str, str]:
    """Diff ``run_id`` (default latest good) against ``against_id``.

    ``against_id`` defaults to the run ``run_id`` was compared with when it ran (its
    recorded ``previous_run``), else the finished run just before it.

    With ``manifest_path``, also write a manifest of the added and revised series.
    """
    from idcbq.io.formats import read_table

    root = staging_root(spec)
    runs = finished_runs(root)
    ids = [r.run_id for r in runs]
    if run_id is None:
        latest = latest_run(root)
        if latest is None:
            raise UsageError(f"job {spec.job.name!r} has no successful run under {root}")
        run_id = latest.run_id
    if run_id not in ids:
        raise UsageError(
            f"no run {run_id!r} with results under {root / RUNS}",
            hint=f"runs: {', '.join(ids) or 'none'}",
        )
    if against_id is None:
        previous = recorded_previous(RunDir(root, run_id))
        against_id = previous if previous in ids else None
    if against_id is None:
        earlier = ids[: ids.index(run_id)]
        if not earlier:
            raise UsageError(f"run {run_id} has no earlier run to compare with")
        against_id = earlier[-1]
    if against_id not in ids:
        raise UsageError(
            f"no run {against_id!r} with results under {root / RUNS}",
            hint=f"runs: {', '.join(ids)}",
        )
    current = RunDir(root, run_id).path
    previous = RunDir(root, against_id).path
    changes = artifacts.diff_series(
        read_table(previous / artifacts.SERIES_FILE), read_table(current / artifacts.SERIES_FILE)
    )
    if manifest_path:
        from idcbq.manifest import write_manifest

        rows = artifacts.changed_rows(read_table(current / artifacts.CANONICAL_MANIFEST), changes)
        level = spec.outputs.manifest_level if manifest_format in ("s5cmd", "urls") else "instance"
        write_manifest(
            rows,
            Path(manifest_path),
            format=manifest_format,
            level=level,
            provider=spec.outputs.provider,
            provenance={"job": spec.job.name, "run": run_id, "changes_since_run": against_id},
        )
    return changes, run_id, against_id
