"""Downloads split over many workers (issue 21 §1): ``--shard i/n``, ``--shard auto``, ``idcbq report``.

Real processes against the real fake-gcs-server (through the fault proxy, slowed so
that kills land mid-run), each shard started with one batch engine's environment.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import sqlite3
import sys
from pathlib import Path

import pytest

from idcbq.download import plan_download
from idcbq.download.lock import DestLock
from idcbq.download.shard import COUNT_VARIABLE, ENGINES, Shard, resolve_shard, shard_of
from idcbq.download.state import state_name
from idcbq.errors import DestinationLockedError, ExitCode, ManifestError, UsageError
from idcbq.manifest import write_manifest
from idcbq.testing.faults import Fault
from tests import child
from tests.fixtures.downloads import objects_of, synthetic_instances

pytestmark = pytest.mark.gcs

ENGINE_VARS = [v for _, i, c in ENGINES for v in (i, c) if v] + [COUNT_VARIABLE]


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without any batch engine's variables, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if k not in ENGINE_VARS}
    env.update(extra)
    return env


def engine_env(index: int, count: int) -> dict[str, str]:
    """Shard ``index`` as one engine would start it: Batch, Cloud Run, Kubernetes in turn."""
    kind = index % 3
    if kind == 0:
        return {"BATCH_TASK_INDEX": str(index), "BATCH_TASK_COUNT": str(count)}
    if kind == 1:
        return {"CLOUD_RUN_TASK_INDEX": str(index), "CLOUD_RUN_TASK_COUNT": str(count)}
    return {"JOB_COMPLETION_INDEX": str(index), COUNT_VARIABLE: str(count)}


@pytest.fixture(scope="module")
def many(gcs_server):
    """12 series of 8 files (96) in the session's fake-gcs-server, and a manifest bucket."""
    from idcbq.sources.sample.seed import upload_objects

    seeded = synthetic_instances(n_series=12, per_series=8, tag="shards")
    upload_objects("gcs", gcs_server.url, objects_of(seeded))
    client = gcs_server.client()
    if client.lookup_bucket("idcbq-manifests") is None:
        client.create_bucket("idcbq-manifests")
    return seeded


def put_manifest(gcs_server, seeded, tmp_path: Path, name: str, fmt: str = "jsonl") -> str:
    local = tmp_path / name
    write_manifest(seeded.table(), local, format=fmt)
    blob = gcs_server.client().bucket("idcbq-manifests").blob(name)
    blob.upload_from_filename(str(local))
    return f"gs://idcbq-manifests/{name}"


# --- the split itself ---------------------------------------------------------------------


def test_split_is_the_same_in_every_process_and_keeps_series_whole(many, tmp_path):
    uuids = sorted({r["crdc_series_uuid"] for r in many.rows})
    here = {u: shard_of(u, 4) for u in uuids}
    code = (
        "import json, sys; from idcbq.download.shard import shard_of; "
        "print(json.dumps({u: shard_of(u, 4) for u in json.load(sys.stdin)}))"
    )
    for seed in ("1", "777"):  # str hashes differ per seed; the split must not
        got = child.run([sys.executable, "-c", code], stdin=json.dumps(uuids),
                        env=clean_env(PYTHONHASHSEED=seed))  # fmt: skip
        assert got.returncode == 0, got.stderr
        assert json.loads(got.stdout) == here
    assert len(set(here.values())) > 1  # 12 series do spread over 4 shards
    plans = [plan_download(many.table(), tmp_path, shard=Shard(i, 4)) for i in range(4)]
    rels = [{item.rel for item in p.items} for p in plans]
    whole = {item.rel for item in plan_download(many.table(), tmp_path).items}
    assert set().union(*rels) == whole and sum(map(len, rels)) == len(whole)
    for i, plan in enumerate(plans):  # every file of a series is in that series' shard
        assert {item.key.split("/")[0] for item in plan.items} == {
            u for u, s in here.items() if s == i
        }


def test_row_without_a_series_cannot_be_sharded(tmp_path):
    manifest = tmp_path / "m.jsonl"
    row = {"url": "gs://idc-open-data/x/y.dcm", "crdc_series_uuid": None,
           "crdc_instance_uuid": "y", "gcs_bucket": "idc-open-data"}  # fmt: skip
    manifest.write_text(json.dumps(row) + "\n")
    with pytest.raises(ManifestError, match=r"gs://idc-open-data/x/y\.dcm has no crdc_series_uuid"):
        plan_download(str(manifest), tmp_path, template="%crdc_instance_uuid", shard=Shard(0, 2))


@pytest.mark.parametrize("index, count", [(0, 3), (1, 3), (2, 3), (4, 5)])
def test_auto_reads_each_engines_variables(index, count):
    env = engine_env(index, count)
    assert resolve_shard("auto", environ=env) == Shard(index, count)


@pytest.mark.parametrize(
    "env, count, message",
    [
        ({}, None, "not running as a batch task"),
        ({"JOB_COMPLETION_INDEX": "1"}, None, "--shard-count"),
        ({"BATCH_TASK_INDEX": "1"}, None, "BATCH_TASK_COUNT"),
        ({"BATCH_TASK_INDEX": "3", "BATCH_TASK_COUNT": "3"}, None, "not in 0..2"),
        ({"BATCH_TASK_INDEX": "x", "BATCH_TASK_COUNT": "3"}, None, "'x' is not a whole number"),
        ({"BATCH_TASK_INDEX": "0", "BATCH_TASK_COUNT": "3"}, 4, "disagrees"),
        ({"BATCH_TASK_INDEX": "0", "BATCH_TASK_COUNT": "2", "JOB_COMPLETION_INDEX": "0"}, None,
         "more than one"),
    ],
)  # fmt: skip
def test_auto_refuses_what_it_cannot_read(env, count, message):
    with pytest.raises(UsageError, match=message):
        resolve_shard("auto", count=count, environ=env)


@pytest.mark.parametrize("text", ["4/4", "-1/4", "1", "a/b", "1/0"])
def test_bad_shard_text(text):
    with pytest.raises(UsageError):
        Shard.parse(text)


def test_auto_outside_a_batch_engine_is_one_line_exit_2(many, tmp_path):
    manifest = tmp_path / "m.jsonl"
    write_manifest(many.table(), manifest, format="jsonl")
    got = child.run_idcbq("download", manifest, "--dest", tmp_path / "d", "--shard", "auto",
                          env=clean_env())  # fmt: skip
    assert got.returncode == ExitCode.BAD_INPUT, got.stderr
    lines = [ln for ln in got.stderr.splitlines() if ln.strip()]
    assert lines[0].startswith("error: --shard auto: not running as a batch task"), got.stderr
    assert "Traceback" not in got.stderr and not (tmp_path / "d").exists()


# --- locks per (destination, shard) -------------------------------------------------------


def test_locks_per_destination_and_shard(tmp_path):
    first = DestLock(tmp_path, Shard(0, 2)).acquire()
    try:
        second = DestLock(tmp_path, Shard(1, 2)).acquire()  # another shard: welcome
        with pytest.raises(DestinationLockedError, match="shard 0/2 is already downloading"):
            DestLock(tmp_path, Shard(0, 2)).acquire()
        with pytest.raises(DestinationLockedError, match="another download is using"):
            DestLock(tmp_path).acquire()
        with pytest.raises(DestinationLockedError, match="split into 2 shards"):
            DestLock(tmp_path, Shard(0, 3)).acquire()
        second.release()
    finally:
        first.release()
    whole = DestLock(tmp_path).acquire()  # no shard runs any more
    try:
        with pytest.raises(DestinationLockedError, match="not split into shards"):
            DestLock(tmp_path, Shard(1, 2)).acquire()
    finally:
        whole.release()


# --- dry runs and reports -----------------------------------------------------------------


def test_dry_run_per_shard_and_report_sums_them(many, gcs_server, tmp_path):
    url = put_manifest(gcs_server, many, tmp_path, "dry.jsonl")
    env = clean_env(STORAGE_EMULATOR_HOST=gcs_server.url)
    dest, reports = tmp_path / "d", []
    for i in range(3):
        out = tmp_path / f"plan-{i}.json"
        got = child.run_idcbq("download", url, "--dest", dest, "--dry-run", "--shard", f"{i}/3",
                              "--report", out, "--endpoint", gcs_server.url, env=env)  # fmt: skip
        assert got.returncode == 0, got.stderr
        assert got.stdout.startswith(f"shard {i}/3: plan: "), got.stdout
        plan = json.loads(out.read_text())
        expected = plan_download(many.table(), dest, shard=Shard(i, 3))
        assert plan["planned_files"] == len(expected.items)
        assert plan["planned_bytes"] == expected.total_bytes
        assert plan["shard"] == {"index": i, "count": 3}
        assert len(plan["examples"]) == min(5, len(expected.items))
        reports.append(out)
    assert not dest.exists()  # a dry run writes nothing there
    got = child.run_idcbq("report", *reports, "--json")
    assert got.returncode == 0, got.stderr
    merged = json.loads(got.stdout)
    assert merged["planned_files"] == len(many.rows)
    assert merged["planned_bytes"] == sum(r["instance_size"] for r in many.rows)
    assert merged["missing_shards"] == [] and merged["ok"]
    # one shard missing: exit 5, and which one
    got = child.run_idcbq("report", reports[0], reports[2])
    assert got.returncode == ExitCode.DOWNLOAD_FAILED
    assert "missing shards: 1 (of 0..2)" in got.stderr
    assert "1 of 3 shards have no report: 1" in got.stderr
    # one shard twice: exit 2, naming the files
    got = child.run_idcbq("report", *reports, reports[1])
    assert got.returncode == ExitCode.BAD_INPUT
    assert f"shard 1/3 is reported more than once: {reports[1]}, {reports[1]}" in got.stderr


def test_report_refuses_what_is_not_one_split(tmp_path):
    a = tmp_path / "a.json"
    a.write_text(json.dumps({"ok": True, "planned": 1, "downloaded": 1, "skipped": 0, "failed": [],
                             "shard": {"index": 0, "count": 2}}))  # fmt: skip
    b = tmp_path / "b.json"
    b.write_text(json.dumps({"ok": True, "planned": 1, "downloaded": 1, "skipped": 0, "failed": [],
                             "shard": {"index": 1, "count": 3}}))  # fmt: skip
    c = tmp_path / "c.json"
    c.write_text("{not json")
    d = tmp_path / "d.json"
    d.write_text(json.dumps({"rows": 3}))
    for files, message in [((a, b), "reports of different splits"), ((a, c), f"{c}:1:2: not JSON"),
                           ((a, d), f"{d} is not an idcbq download report")]:  # fmt: skip
        got = child.run_idcbq("report", *files)
        assert got.returncode == ExitCode.BAD_INPUT, got.stderr
        assert message in got.stderr and "Traceback" not in got.stderr


def test_manifest_at_an_s3_url(many, s3_server, tmp_path):
    local = tmp_path / "m.s5cmd"
    write_manifest(many.table(), local, format="s5cmd", provider="aws")
    s3 = s3_server.client()
    s3.create_bucket(Bucket="idcbq-manifests")
    s3.upload_file(str(local), "idcbq-manifests", "cohort/m.s5cmd")
    env = clean_env(AWS_ENDPOINT_URL=s3_server.url, AWS_ACCESS_KEY_ID="testing",
                    AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1")  # fmt: skip
    out = tmp_path / "plan.json"
    got = child.run_idcbq("download", "s3://idcbq-manifests/cohort/m.s5cmd", "--dest", tmp_path / "d",
                          "--dry-run", "--shard", "1/2", "--report", out, env=env)  # fmt: skip
    assert got.returncode == 0, got.stderr
    series = {r["crdc_series_uuid"] for r in many.rows if shard_of(r["crdc_series_uuid"], 2) == 1}
    plan = json.loads(out.read_text())
    assert plan["planned_files"] == 8 * len(series)  # idc-index-style instance lines
    missing = child.run_idcbq("download", "s3://idcbq-manifests/nope.s5cmd", "--dest", tmp_path / "d",
                              "--dry-run", env=env)  # fmt: skip
    assert missing.returncode == ExitCode.BAD_INPUT
    assert "no such manifest: s3://idcbq-manifests/nope.s5cmd" in missing.stderr


def test_state_dir_keeps_lock_and_state_off_the_destination(many, gcs_server, tmp_path):
    manifest = tmp_path / "m.parquet"
    write_manifest(many.table(), manifest, format="parquet")
    dest, state = tmp_path / "shared", tmp_path / "local-state"
    args = ["download", manifest, "--dest", dest, "--endpoint", gcs_server.url, "--quiet",
            "--shard", "0/2", "--state-dir", state]  # fmt: skip
    got = child.run_idcbq(*args, env=clean_env())
    assert got.returncode == 0, got.stderr
    assert not [p for p in dest.iterdir() if p.name.startswith(".idcbq-download")]
    (folder,) = state.iterdir()
    assert (folder / state_name("shard-0-of-2")).is_file()
    again = child.run_idcbq(*args, env=clean_env())
    assert again.returncode == 0 and " 0 downloaded, " in again.stdout, again.stdout


def test_network_and_fuse_destinations_need_a_state_dir(tmp_path):
    from idcbq.download.statedir import check_state_place, fs_type_of

    dest = tmp_path / "mnt" / "bucket" / "data"
    dest.mkdir(parents=True)
    info = tmp_path / "mountinfo"
    info.write_text(
        "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
        f"90 22 0:50 / {tmp_path}/mnt/bucket rw,nosuid - fuse.gcsfuse my-bucket rw,user_id=0\n"
        f"91 22 0:51 / {tmp_path}/mnt/bucket\\040two rw - nfs4 srv:/x rw\n"
    )
    assert fs_type_of(dest, mountinfo=str(info)) == "fuse.gcsfuse"
    (tmp_path / "mnt" / "bucket two").mkdir()
    assert fs_type_of(tmp_path / "mnt" / "bucket two", mountinfo=str(info)) == "nfs4"
    assert fs_type_of(tmp_path, mountinfo=str(info)) == "ext4"
    with pytest.raises(UsageError, match=r"fuse\.gcsfuse file system.*unreliable"):
        check_state_place(dest, None, mountinfo=str(info))
    check_state_place(dest, tmp_path / "state", mountinfo=str(info))  # local state: fine
    with pytest.raises(UsageError, match=r"--state-dir .* is on a fuse\.gcsfuse"):
        check_state_place(dest, dest / "state", mountinfo=str(info))


# --- n real processes, killed and restarted at random -------------------------------------


def _recorded(db: Path) -> set[str]:
    with sqlite3.connect(db) as conn:
        return {row[0] for row in conn.execute("SELECT path FROM files")}


def test_shards_killed_and_restarted_fetch_every_file_exactly_once(many, gcs_server, fault_proxy,
                                                                   tmp_path):  # fmt: skip
    """3 shards, one per engine's variables, into one --dest; SIGKILLed at random, restarted."""
    count, rng = 3, random.Random(2125)
    url = put_manifest(gcs_server, many, tmp_path, "kill.parquet", fmt="parquet")
    dest = tmp_path / "dest"
    # One folder per collection: shards share folders, and so each other's temp files' company.
    template = "%collection_id"
    mine = [{i.rel for i in plan_download(many.table(), dest, template=template,
                                          shard=Shard(k, count)).items} for k in range(count)]  # fmt: skip
    assert all(mine) and not (mine[0] & mine[1] or mine[0] & mine[2] or mine[1] & mine[2])
    fault_proxy.set_faults([Fault("slow", delay=0.15, times=None)])

    def start(k: int) -> child.Child:
        env = clean_env(STORAGE_EMULATOR_HOST=gcs_server.url, **engine_env(k, count))
        cmd = child.idcbq_command("download", url, "--dest", dest, "--shard", "auto", "--quiet",
                                  "--workers", "3", "--dir-template", template,
                                  "--endpoint", fault_proxy.url, "--report", tmp_path / f"r{k}.json")  # fmt: skip
        return child.Child(cmd, env=env, logdir=tmp_path / "logs" / str(k))

    def landed(k: int) -> int:
        return sum(1 for rel in mine[k] if (dest / rel).exists())

    runs = {k: start(k) for k in range(count)}
    kills = 0
    try:
        for _ in range(6):  # kill a random running shard once it has made some progress
            k = rng.randrange(count)
            goal = landed(k) + rng.randint(1, 6)
            runs[k].wait_until(lambda k=k, goal=goal: landed(k) >= goal, timeout=120)
            if runs[k].poll() is None:
                os.kill(runs[k].pid, signal.SIGKILL)
                runs[k].wait()
                kills += 1
                runs[k] = start(k)
        codes = {k: run.wait(timeout=600) for k, run in runs.items()}
    finally:
        for run in runs.values():
            run.kill()
    assert kills >= 1, "no run was killed mid-way: slow the proxy further"
    assert codes == dict.fromkeys(range(count), 0), {k: runs[k].stderr() for k in runs}
    # The union is every file exactly once, each one verified against the manifest's MD5.
    md5 = {r["crdc_instance_uuid"]: r["instance_hash"] for r in many.rows}
    files = sorted(dest.rglob("*.dcm"))
    assert len(files) == len(many.rows) == len({f.stem for f in files})
    for path in files:
        assert hashlib.md5(path.read_bytes()).hexdigest() == md5[path.stem], path
    assert not [p for p in dest.rglob("*") if p.name.endswith(".idcbq-part")]
    # Each shard recorded (wrote or verified) only its own paths.
    for k in range(count):
        assert _recorded(dest / state_name(Shard(k, count).file_tag)) == mine[k]
    got = child.run_idcbq("report", *(tmp_path / f"r{k}.json" for k in range(count)), "--json")
    assert got.returncode == 0, got.stderr
    merged = json.loads(got.stdout)
    assert merged["downloaded"] + merged["skipped"] == len(many.rows) and merged["failed"] == 0
