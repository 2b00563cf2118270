"""Job specs with a shard setting: each run fetches its shard; ``idcbq report`` sums the run.json files."""

from __future__ import annotations

import hashlib
import json

import pytest

from idcbq.cli import cli
from idcbq.cli.common import run_cli
from idcbq.errors import JobSpecError
from idcbq.jobs.spec import load_spec
from tests.jobs_support import write_spec
from tests.test_jobs_remote import SQL

pytestmark = pytest.mark.gcs

SPEC = """\
[job]
name = "sharded"

[query]
sql_file = "{sql}"
params = {{ uids = {uids} }}
types = {{ uids = "ARRAY<STRING>" }}

[engine]
name = "duckdb"
source = "{source}"

[outputs]
destination = "out"
manifests = ["jsonl"]

[download]
enabled = true
dest = "{files}"
endpoint = "{gcs}"
workers = 4
shard = "auto"
"""


def test_sharded_job_runs_carry_their_reports_and_sum_to_the_cohort(
    gcs_server, sample_root, tmp_path, capsys, monkeypatch
):
    from idcbq.sources.sample.seed import seed_gcs, seed_rows, seedable_series_uids

    uids = seedable_series_uids(sample_root)[:4]
    seed_gcs(sample_root, gcs_server.url, series=uids)
    rows = seed_rows(sample_root, series=uids)
    (tmp_path / "cohort.sql").write_text(SQL)
    files = tmp_path / "files"  # shared by both tasks
    records = []
    for index in range(2):
        monkeypatch.setenv("BATCH_TASK_INDEX", str(index))
        monkeypatch.setenv("BATCH_TASK_COUNT", "2")
        text = SPEC.format(sql=tmp_path / "cohort.sql", uids=json.dumps(uids), source=sample_root,
                           files=files, gcs=gcs_server.url)  # fmt: skip
        spec = write_spec(tmp_path / f"task{index}" / "job.toml", text)
        code = run_cli(cli, ["job", "run", str(spec), "--json"])
        out, err = capsys.readouterr()
        assert code == 0, err
        rec = json.loads(out)
        assert rec["download"]["shard"] == {"index": index, "count": 2}
        (run_json,) = (tmp_path / f"task{index}" / "out" / "runs").glob("*/run.json")
        records.append(run_json)
    code = run_cli(cli, ["report", *map(str, records), "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    merged = json.loads(out)
    assert merged["downloaded"] == len(rows) and merged["missing_shards"] == []
    got = sorted(hashlib.md5(p.read_bytes()).hexdigest() for p in files.rglob("*.dcm"))
    assert got == sorted(r["instance_hash"] for r in rows)


@pytest.mark.parametrize(
    "extra, words",
    [
        ('shard = "4/4"', "shard index 4 is not in 0..3"),
        ('shard = "half"', "download.shard"),
        ('shard = "0/2"\ntransport = "dicomweb"', "for bucket downloads"),
    ],
)
def test_bad_shard_settings_name_the_spec_line(tmp_path, extra, words):
    text = (
        '[job]\nname = "x"\n\n[query]\ntemplate = "summary.modalities"\n\n[outputs]\n'
        f'destination = "out"\n\n[download]\nenabled = true\ndest = "d"\n{extra}\n'
    )
    spec = write_spec(tmp_path / "job.toml", text)
    with pytest.raises(JobSpecError, match=words) as info:
        load_spec(spec)
    assert str(spec) in str(info.value)
