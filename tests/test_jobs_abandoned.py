"""A job run whose process is killed (SIGKILL: no cleanup runs) is marked abandoned and is
never a diff base; a run whose process is alive is left alone."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

from idcbq.jobs.compare import finished_runs
from idcbq.jobs.runs import mark_abandoned, new_run, process_identity, write_json_atomic
from tests import child
from tests.jobs_support import write_spec
from tests.test_jobs import SPEC, latest, record, run

SLOW_SPEC = """\
[job]
name = "ct-pet"

[query]
sql_file = "slow.sql"

[engine]
name = "duckdb"
source = "{source}"

[outputs]
destination = "out"
results = ["parquet"]
manifests = ["jsonl"]
"""

SLOW_SQL = (
    "SELECT COUNT(*) AS n FROM UNNEST(GENERATE_ARRAY(1, 16000)) AS a, "
    "UNNEST(GENERATE_ARRAY(1, 16000)) AS b, UNNEST(GENERATE_ARRAY(1, 16000)) AS c "
    "WHERE a + b + c = 7\n"
)


def _runs(dest: Path) -> list[str]:
    return sorted(p.name for p in (dest / "runs").iterdir())


def test_killed_run_is_abandoned_and_never_a_diff_base(sample_root, tmp_path, capsys):
    fast = write_spec(tmp_path / "job" / "ct.toml", SPEC.format(source=sample_root))
    slow = write_spec(tmp_path / "job" / "slow.toml", SLOW_SPEC.format(source=sample_root))
    (slow.parent / "slow.sql").write_text(SLOW_SQL)
    dest = fast.parent / "out"

    code, _, err = run(["job", "run", str(fast)], capsys)
    assert code == 0, err
    first = latest(dest)

    # A real run of the same job, killed while its query runs.
    env = {k: v for k, v in os.environ.items() if not k.startswith("IDCBQ_")}
    env["XDG_CONFIG_HOME"] = str(tmp_path / "xdg")
    with child.Child(child.idcbq_command("-vv", "job", "run", slow), env=env,
                     logdir=tmp_path / "logs") as proc:  # fmt: skip
        assert proc.wait_for("query running"), proc.stderr()
        assert proc.poll() is None, "the slow job ended before it could be killed"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
    killed = [r for r in _runs(dest) if r != first]
    assert len(killed) == 1
    stale = record(dest / "runs" / killed[0])
    assert stale["status"] == "running"  # what a killed process leaves behind
    assert stale["process"]["pid"] == proc.pid and stale["process"]["hostname"]

    code, _, err = run(["job", "run", str(fast)], capsys)
    assert code == 0, err
    third = latest(dest)
    rec = record(dest / "runs" / third)
    assert rec["previous_run"] == first  # not the killed run
    gone = record(dest / "runs" / killed[0])
    assert gone["status"] == "abandoned" and gone["error"]["type"] == "Abandoned"
    assert [r.run_id for r in finished_runs(dest)] == [first, third]

    code, out, err = run(["job", "diff", str(fast), "--json"], capsys)
    assert code == 0, err
    assert json.loads(out)["previous_run"] == first


def test_a_live_run_is_not_abandoned(tmp_path):
    live = new_run(tmp_path)
    write_json_atomic(live.record_path, {"status": "running", "process": process_identity()})
    other_host = new_run(tmp_path)
    write_json_atomic(
        other_host.record_path,
        {"status": "running", "process": {**process_identity(), "hostname": "elsewhere"}},
    )
    reused_pid = new_run(tmp_path)  # same pid, but a different process start time
    identity = process_identity()
    identity["process_start"] = (identity["process_start"] or 0) + 1
    write_json_atomic(reused_pid.record_path, {"status": "running", "process": identity})
    assert mark_abandoned(tmp_path) == [reused_pid.run_id]
    assert json.loads(live.record_path.read_text())["status"] == "running"
    assert json.loads(other_host.record_path.read_text())["status"] == "running"
