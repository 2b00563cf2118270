"""The job specs in docs/batch/ parse, and their command lines run here, shard by shard.

Each spec's command runs as its batch engine would run it (``sh -c`` with the engine's
task variables), against the local fake-gcs-server: the manifest is put at the spec's
own ``gs://`` URL, ``STORAGE_EMULATOR_HOST`` points there, ``--endpoint`` is added, and
the spec's mount points are swapped for temp folders.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import pytest
import yaml

from idcbq.manifest import write_manifest
from tests import child
from tests.fixtures.downloads import objects_of, synthetic_instances
from tests.test_download_shards import clean_env

pytestmark = pytest.mark.gcs

DOCS = Path(__file__).resolve().parents[1] / "docs" / "batch"


@pytest.fixture(scope="module")
def cohort(gcs_server):
    """6 series of 4 files in fake-gcs-server; the manifest at the specs' gs:// URL."""
    from idcbq.sources.sample.seed import upload_objects

    seeded = synthetic_instances(n_series=6, per_series=4, tag="specs")
    upload_objects("gcs", gcs_server.url, objects_of(seeded))
    client = gcs_server.client()
    bucket = client.lookup_bucket("my-idc-cohorts") or client.create_bucket("my-idc-cohorts")
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "manifest.parquet"
        write_manifest(seeded.table(), path, format="parquet")
        bucket.blob("ct/manifest.parquet").upload_from_filename(str(path))
    return seeded


def run_locally(command: str, mounts: dict[str, Path], env: dict[str, str], endpoint: str):
    for remote, local in mounts.items():
        command = command.replace(remote, str(local))
    assert command.startswith("idcbq download "), command
    command = f"{sys.executable} -m {command} --endpoint {endpoint}"
    return child.run(["/bin/sh", "-c", command], env=env, timeout=300)


def check_union(dest: Path, seeded, reports: list[Path]) -> None:
    md5 = {r["crdc_instance_uuid"]: r["instance_hash"] for r in seeded.rows}
    files = sorted(dest.rglob("*.dcm"))
    assert sorted(f.stem for f in files) == sorted(md5)
    for path in files:
        assert hashlib.md5(path.read_bytes()).hexdigest() == md5[path.stem], path
    got = child.run_idcbq("report", *reports, "--json")
    assert got.returncode == 0, got.stderr
    merged = json.loads(got.stdout)
    assert merged["downloaded"] == len(seeded.rows) and merged["missing_shards"] == []


def test_cloud_batch_job_spec_runs_shard_by_shard(cohort, gcs_server, tmp_path):
    spec = json.loads((DOCS / "cloud-batch-job.json").read_text())
    group = spec["taskGroups"][0]
    count = group["taskCount"]
    runnable = group["taskSpec"]["runnables"][0]["container"]
    assert runnable["entrypoint"] == "/bin/sh" and runnable["commands"][0] == "-c"
    (volume,) = group["taskSpec"]["volumes"]
    mounts = {
        volume["mountPath"]: tmp_path / "bucket-mount",
        "/tmp/idcbq-state": tmp_path / "state",
    }
    for index in range(count):
        env = clean_env(STORAGE_EMULATOR_HOST=gcs_server.url, BATCH_TASK_INDEX=str(index),
                        BATCH_TASK_COUNT=str(count))  # fmt: skip
        got = run_locally(runnable["commands"][1], mounts, env, gcs_server.url)
        assert got.returncode == 0, got.stderr
    reports = sorted((tmp_path / "bucket-mount" / "reports").glob("shard-*.json"))
    assert [r.name for r in reports] == [f"shard-{i}.json" for i in range(count)]
    check_union(tmp_path / "bucket-mount" / "ct", cohort, reports)


def test_kubernetes_indexed_job_runs_shard_by_shard(cohort, gcs_server, tmp_path):
    job = yaml.safe_load((DOCS / "k8s-indexed-job.yaml").read_text())
    assert job["kind"] == "Job" and job["spec"]["completionMode"] == "Indexed"
    completions = job["spec"]["completions"]
    (container,) = job["spec"]["template"]["spec"]["containers"]
    spec_env = {e["name"]: e["value"] for e in container["env"]}
    assert spec_env["IDCBQ_SHARD_COUNT"] == str(completions)
    shell, flag, command = container["command"]
    assert (shell, flag) == ("/bin/sh", "-c")
    mounts = {m["mountPath"]: tmp_path / m["name"] for m in container["volumeMounts"]}
    for index in range(completions):
        env = clean_env(STORAGE_EMULATOR_HOST=gcs_server.url, JOB_COMPLETION_INDEX=str(index),
                        **spec_env)  # fmt: skip
        got = run_locally(command, mounts, env, gcs_server.url)
        assert got.returncode == 0, got.stderr
    reports = sorted((tmp_path / "data" / "reports").glob("shard-*.json"))
    assert len(reports) == completions
    check_union(tmp_path / "data" / "ct", cohort, reports)
