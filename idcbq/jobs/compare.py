"""Diff two stored runs of a job, optionally writing a manifest of what changed."""

from __future__ import annotations

from pathlib import Path

from idcbq.errors import UsageError
from idcbq.jobs.diff import CohortDiff, diff_cohorts
from idcbq.jobs.runner import RESULTS_STEM, staging_root
from idcbq.jobs.runs import RUNS, RunDir, latest_run
from idcbq.jobs.spec import JobSpec


def finished_runs(root: Path) -> list[RunDir]:
    """Runs with results, oldest first (run ids sort by time)."""
    runs_dir = root / RUNS
    if not runs_dir.is_dir():
        return []
    return [
        RunDir(root, p.name)
        for p in sorted(runs_dir.iterdir())
        if (p / f"{RESULTS_STEM}.parquet").exists()
    ]


def diff_runs(
    spec: JobSpec,
    *,
    run_id: str | None = None,
    against_id: str | None = None,
    manifest_path: str | None = None,
    manifest_format: str = "s5cmd",
) -> tuple[CohortDiff, str, str]:
    """Diff ``run_id`` (default latest good) against ``against_id`` (default the one before)."""
    import pyarrow.parquet as pq

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
        earlier = ids[: ids.index(run_id)]
        if not earlier:
            raise UsageError(f"run {run_id} has no earlier run to compare with")
        against_id = earlier[-1]
    if against_id not in ids:
        raise UsageError(
            f"no run {against_id!r} with results under {root / RUNS}",
            hint=f"runs: {', '.join(ids)}",
        )
    current = pq.read_table(RunDir(root, run_id).path / f"{RESULTS_STEM}.parquet")
    previous = pq.read_table(RunDir(root, against_id).path / f"{RESULTS_STEM}.parquet")
    changes = diff_cohorts(previous, current)
    if manifest_path:
        import pyarrow as pa
        import pyarrow.compute as pc

        from idcbq.manifest import write_manifest

        keep = pc.is_in(
            current.column("SeriesInstanceUID"), value_set=pa.array(changes.changed, pa.string())
        )
        write_manifest(
            current.filter(keep), Path(manifest_path), format=manifest_format, level="series"
        )
    return changes, run_id, against_id
