"""Run folders: ids sort in start order, and a diff defaults to the run's recorded previous run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from idcbq.jobs import artifacts
from idcbq.jobs.compare import finished_runs, recorded_previous
from idcbq.jobs.runs import new_run, write_json_atomic


def test_runs_started_within_one_second_sort_in_start_order(tmp_path):
    start = datetime(2026, 11, 24, 21, 24, 53, tzinfo=UTC)
    started = [new_run(tmp_path, start + timedelta(microseconds=i)) for i in range(40)]
    for run in started:
        (run.path / artifacts.SERIES_FILE).write_bytes(b"")
        (run.path / artifacts.CANONICAL_MANIFEST).write_bytes(b"")
        write_json_atomic(run.record_path, {"status": "succeeded"})
    assert [r.run_id for r in finished_runs(tmp_path)] == [r.run_id for r in started]


def test_only_succeeded_runs_are_diff_bases(tmp_path):
    start = datetime(2026, 11, 24, 21, 24, 53, tzinfo=UTC)
    runs = [new_run(tmp_path, start + timedelta(seconds=i)) for i in range(4)]
    for run, status in zip(runs, ["succeeded", "failed", "abandoned", "succeeded"], strict=True):
        (run.path / artifacts.SERIES_FILE).write_bytes(b"")
        (run.path / artifacts.CANONICAL_MANIFEST).write_bytes(b"")
        write_json_atomic(run.record_path, {"status": status})
    assert [r.run_id for r in finished_runs(tmp_path)] == [runs[0].run_id, runs[3].run_id]


def test_recorded_previous_reads_run_json(tmp_path):
    first = new_run(tmp_path)
    second = new_run(tmp_path)
    write_json_atomic(second.record_path, {"previous_run": first.run_id})
    assert recorded_previous(second) == first.run_id
    assert recorded_previous(first) is None  # no run.json yet
    write_json_atomic(first.record_path, {"previous_run": None})
    assert recorded_previous(first) is None
