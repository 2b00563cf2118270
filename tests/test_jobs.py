"""Scheduled cohort jobs end to end on the DuckDB sample: runs, latest, diff, lock, spec errors."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from idcbq.cli import cli
from idcbq.cli.common import run_cli
from idcbq.errors import ExitCode
from tests.jobs_support import make_release, write_spec

DATA = Path(__file__).parent / "data" / "jobs"

SPEC = """\
[job]
name = "ct-pet"

[query]
template = "cohort.series_by_modality"
params = {{ modalities = ["CT", "PT"] }}

[engine]
name = "duckdb"
source = "{source}"

[outputs]
destination = "out"
results = ["parquet", "csv"]
manifests = ["s5cmd", "jsonl"]
manifest_level = "series"
"""


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = run_cli(cli, argv)
    out, err = capsys.readouterr()
    return code, out, err


def record(run_dir: Path) -> dict:
    return json.loads((run_dir / "run.json").read_text())


def latest(dest: Path) -> str:
    return Path(json.loads((dest / "latest.json").read_text())["run"]).name


# -- spec errors -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "line", "words"),
    [
        ("bad_unknown_key.toml", 10, "unknown key 'engine.max_byte_billed'"),
        ("bad_wrong_type.yaml", 11, "download.workers"),
        ("bad_missing_field.toml", None, "missing required key 'outputs'"),
    ],
)
def test_spec_errors_name_file_and_line(name, line, words, capsys, tmp_path):
    path = DATA / name
    code, _out, err = run(["job", "run", str(path)], capsys)
    assert code == ExitCode.BAD_INPUT
    where = f"{path}:{line}:" if line else f"{path}:"
    assert where in err and words in err, err
    assert "Traceback" not in err
    assert not (path.parent / "out").exists()  # nothing written for an invalid spec


def test_example_specs_validate(capsys):
    from idcbq.jobs.spec import load_spec

    toml_spec = load_spec(DATA / "ct_pet_nightly.toml")
    yaml_spec = load_spec(DATA / "ct_pet_nightly.yaml")
    dump = {"exclude": {"job": {"description"}}}
    assert toml_spec.model_dump(**dump) == yaml_spec.model_dump(**dump)
    assert toml_spec.digest != yaml_spec.digest
    code, out, _ = run(["job", "validate", str(DATA / "ct_pet_nightly.yaml")], capsys)
    assert code == 0 and "ok" in out


def test_spec_needs_exactly_one_query(tmp_path, capsys):
    spec = write_spec(
        tmp_path / "two.toml",
        '[job]\nname = "x"\n[query]\ntemplate = "a"\nsql_file = "b.sql"\n[outputs]\ndestination = "o"\n',
    )
    code, _, err = run(["job", "validate", str(spec)], capsys)
    assert code == ExitCode.BAD_INPUT
    assert f"{spec}:3:" in err and "exactly one of 'template' or 'sql_file'" in err


# -- runs, latest, diff ------------------------------------------------------------------


@pytest.mark.slow
def test_release_cycle_diff_failure_and_dry_run(sample_root, tmp_path, capsys):
    """Run, simulate an IDC release, run again (diff), then a failed run keeps latest."""
    release = make_release(sample_root, tmp_path / "release")
    export = tmp_path / "export"  # the spec names a link; swapping it is "the new release"
    export.symlink_to(sample_root)
    spec = write_spec(tmp_path / "job" / "ct.toml", SPEC.format(source=export))
    dest = spec.parent / "out"

    code, _, err = run(["job", "run", str(spec)], capsys)
    assert code == 0, err
    first = latest(dest)
    rec1 = record(dest / "runs" / first)
    assert rec1["status"] == "succeeded" and rec1["previous_run"] is None
    assert rec1["spec_sha256"] and rec1["engine"] == "duckdb" and rec1["idc_version"] == "current"
    counts = rec1["counts"]
    assert counts["rows"] == counts["series"] > 0 and counts["instances"] >= counts["series"]
    assert counts["bytes"] > 0 and rec1["timings_s"]["query"] > 0
    import pyarrow.parquet as pq

    results = pq.read_table(dest / "runs" / first / "results.parquet")
    assert results.num_rows == counts["rows"]
    assert sum(results.column("instance_count").to_pylist()) == counts["instances"]
    assert sum(results.column("series_size_bytes").to_pylist()) == counts["bytes"]
    assert set(rec1["outputs"]) >= {
        "results.parquet",
        "results.csv",
        "manifest.s5cmd",
        "manifest.jsonl",
    }
    s5cmd_lines = [
        ln
        for ln in (dest / "runs" / first / "manifest.s5cmd").read_text().splitlines()
        if ln and not ln.startswith("#")
    ]
    assert len(s5cmd_lines) == counts["series"]  # series level: one line per series

    # The next IDC release arrives.
    export.unlink()
    export.symlink_to(release.root)
    code, out, err = run(["job", "run", str(spec), "--json"], capsys)
    assert code == 0, err
    rec2 = json.loads(out)
    second = rec2["run_id"]
    assert latest(dest) == second and rec2["previous_run"] == first
    assert rec2["diff"] == {
        "added": 1,
        "removed": 1,
        "revised": 1,
        "unchanged": counts["series"] - 2,
    }
    diff = json.loads((dest / "runs" / second / "diff.json").read_text())
    assert diff["series"] == {
        "added": [release.added],
        "removed": [release.removed],
        "revised": [release.revised],
    }
    changes = pq.read_table(dest / "runs" / second / "manifest.parquet")
    changed_manifest = [
        json.loads(ln) for ln in (dest / "runs" / second / "changes.jsonl").read_text().splitlines()
    ]
    expected = changes.filter(
        __import__("pyarrow.compute", fromlist=["x"]).is_in(
            changes.column("SeriesInstanceUID"),
            value_set=__import__("pyarrow").array([release.added, release.revised]),
        )
    )
    assert {r["SeriesInstanceUID"] for r in changed_manifest} == {release.added, release.revised}
    assert len(changed_manifest) == expected.num_rows

    # `idcbq job diff` reads the stored runs and agrees; its manifest has only the changes.
    code, out, err = run(
        ["job", "diff", str(spec), "--json", "--manifest", str(tmp_path / "new.urls"),
         "--format", "urls"], capsys,
    )  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["series"] == diff["series"]
    urls = (tmp_path / "new.urls").read_text().split()
    assert len(urls) == 2 and all(u.startswith("gs://") for u in urls)  # series level

    # A failed run (a parameter the template does not know) leaves latest alone.
    bad = write_spec(spec, spec.read_text().replace('["CT", "PT"]', '["CT"], modality = "CT"'))
    code, _, err = run(["job", "run", str(bad)], capsys)
    assert code == ExitCode.BAD_INPUT and "modality" in err
    assert latest(dest) == second
    failed = [r for r in (dest / "runs").iterdir() if r.name not in (first, second)]
    assert len(failed) == 1
    rec3 = record(failed[0])
    assert rec3["status"] == "failed" and rec3["error"]["exit_code"] == ExitCode.BAD_INPUT
    assert not (failed[0] / "results.parquet").exists()

    # A dry run estimates only and never moves latest either.
    write_spec(spec, SPEC.format(source=export))
    code, out, _ = run(["job", "run", str(spec), "--dry-run", "--json"], capsys)
    assert code == 0 and json.loads(out)["status"] == "dry-run"
    assert latest(dest) == second


def test_second_run_is_refused_while_locked(sample_root, tmp_path, capsys):
    from idcbq.jobs.runs import job_lock

    spec = write_spec(tmp_path / "ct.toml", SPEC.format(source=sample_root))
    with job_lock(tmp_path / "out", "ct-pet"):  # a real flock, as a concurrent run holds it
        code, _, err = run(["job", "run", str(spec)], capsys)
    assert code == ExitCode.LOCKED
    assert "already running" in err
    assert not (tmp_path / "out" / "runs").exists()


def test_lock_is_held_across_processes(tmp_path):
    """A child process holding the lock blocks this one; its death frees it."""
    import sys

    from idcbq.errors import JobLockedError
    from idcbq.jobs.runs import job_lock
    from tests.child import Child

    with Child(
        [sys.executable, "-c",
         "import sys,time; from pathlib import Path; from idcbq.jobs.runs import job_lock\n"
         f"with job_lock(Path({str(tmp_path)!r}), 'j'):\n print('held', flush=True); time.sleep(60)"],
        cwd=Path(__file__).parents[1], logdir=tmp_path / "logs",
    ) as holder:  # fmt: skip
        assert holder.wait_for("held", stream="stdout"), holder.stderr()
        with pytest.raises(JobLockedError), job_lock(tmp_path, "j"):
            pass
    with job_lock(tmp_path, "j"):
        pass


@pytest.mark.slow
def test_logs_are_json_lines_off_a_tty(sample_root, tmp_path):
    import subprocess
    import sys

    spec = write_spec(tmp_path / "ct.toml", SPEC.format(source=sample_root))
    env = {**os.environ, "IDCBQ_CONFIG": str(tmp_path / "none.toml")}
    env.pop("IDCBQ_CONFIG")
    proc = subprocess.run(
        [sys.executable, "-m", "idcbq", "job", "run", str(spec), "--dry-run"],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    events = [json.loads(ln) for ln in proc.stderr.splitlines() if ln.startswith("{")]
    assert [e["message"] for e in events] == ["job run started", "job run finished"]
    assert events[1]["status"] == "dry-run" and events[1]["level"] == "info"
