"""A job on the BigQuery emulator, published to fake GCS, downloading seeded files.

Real parts only: the bigquery-emulator with the sample loaded, fake-gcs-server for both
the job's ``gs://`` destination and IDC's buckets (seeded with the sample's DICOM bytes).
"""

from __future__ import annotations

import hashlib
import json

import pytest

from idcbq.cli import cli
from idcbq.cli.common import run_cli
from idcbq.errors import ExitCode
from tests.jobs_support import write_spec

SQL = """\
SELECT SeriesInstanceUID, ANY_VALUE(crdc_series_uuid) AS crdc_series_uuid,
       ANY_VALUE(series_revised_idc_version) AS series_revised_idc_version,
       COUNT(*) AS instances
FROM `bigquery-public-data.idc_current.dicom_all`
WHERE SeriesInstanceUID IN UNNEST(@uids)
GROUP BY SeriesInstanceUID
"""

SPEC = """\
[job]
name = "bq-seeded"

[query]
sql_file = "cohort.sql"
params = {{ uids = {uids} }}
types = {{ uids = "ARRAY<STRING>" }}

[engine]
name = "bigquery"
project = "{project}"
data_project = "{data_project}"
api_endpoint = "{api}"
{cap}

[outputs]
destination = "gs://job-outputs/nightly/bq"
gcs_endpoint = "{gcs}"
results = ["parquet"]
manifests = ["s5cmd", "parquet"]

[download]
enabled = true
dest = "files"
endpoint = "{gcs}"
workers = 4
only_changes = true
"""


def _blobs(gcs_server, prefix: str) -> dict[str, bytes]:
    bucket = gcs_server.client().bucket("job-outputs")
    return {b.name: b for b in bucket.list_blobs(prefix=prefix)}


@pytest.mark.slow
def test_bigquery_job_to_gcs_with_download(
    bq_sample, gcs_server, sample_root, tmp_path, capsys, monkeypatch
):
    from idcbq.sources.sample.seed import seed_gcs, seed_rows, seedable_series_uids

    monkeypatch.setenv("IDCBQ_CACHE_DIR", str(tmp_path / "cache"))  # the gs:// staging area
    uids = seedable_series_uids(sample_root)[:2]
    seed_gcs(sample_root, gcs_server.url, series=uids)
    rows = seed_rows(sample_root, series=uids)
    client = gcs_server.client()
    if client.lookup_bucket("job-outputs") is None:
        client.create_bucket("job-outputs")

    emu = bq_sample.emulator
    (tmp_path / "cohort.sql").write_text(SQL)

    def spec_text(cap: str = "") -> str:
        return SPEC.format(uids=json.dumps(uids), project=emu.project, data_project=bq_sample.data_project,
                           api=emu.url, gcs=gcs_server.url, cap=cap)  # fmt: skip

    spec = write_spec(tmp_path / "job.toml", spec_text())
    code = run_cli(cli, ["job", "run", str(spec), "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    rec = json.loads(out)
    assert rec["engine"] == "bigquery" and rec["status"] == "succeeded"
    assert rec["counts"]["series"] == 2 and rec["counts"]["instances"] == len(rows)
    assert rec["counts"]["bytes"] == sum(r["instance_size"] for r in rows)
    assert rec["download"]["downloaded"] == len(rows) and rec["download"]["ok"]

    # Every seeded file is in `files/`, byte for byte what IDC's bucket holds.
    files = sorted(p for p in (tmp_path / "files").rglob("*.dcm"))
    assert len(files) == len(rows)
    md5s = {hashlib.md5(p.read_bytes()).hexdigest() for p in files}
    assert md5s == {r["instance_hash"] for r in rows}

    # The run is published under the prefix, and latest.json names it.
    blobs = _blobs(gcs_server, "nightly/bq/")
    run_prefix = f"nightly/bq/runs/{rec['run_id']}/"
    assert {
        run_prefix + n
        for n in ("run.json", "results.parquet", "manifest.s5cmd", "manifest.parquet")
    } <= set(blobs)
    pointer = json.loads(blobs["nightly/bq/latest.json"].download_as_bytes())
    assert pointer["run"] == f"runs/{rec['run_id']}"

    # A cost-capped run is refused (exit 3) and the bucket's latest.json stays put.
    spec = write_spec(tmp_path / "job.toml", spec_text(cap="max_bytes_billed = 1"))
    code = run_cli(cli, ["job", "run", str(spec)])
    _, err = capsys.readouterr()
    assert code == ExitCode.COST_CAP, err
    assert "cost guard" in err or "cap" in err
    pointer = json.loads(
        _blobs(gcs_server, "nightly/bq/")["nightly/bq/latest.json"].download_as_bytes()
    )
    assert pointer["run"] == f"runs/{rec['run_id']}"

    # From a fresh machine (empty staging cache) the next run diffs against the bucket's
    # last run, and only_changes downloads nothing new.
    monkeypatch.setenv("IDCBQ_CACHE_DIR", str(tmp_path / "cache2"))
    spec = write_spec(tmp_path / "job.toml", spec_text())
    code = run_cli(cli, ["job", "run", str(spec), "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    rec2 = json.loads(out)
    assert rec2["previous_run"] == rec["run_id"]
    assert rec2["diff"] == {"added": 0, "removed": 0, "revised": 0, "unchanged": 2}
    assert rec2["download"]["planned"] == 0
