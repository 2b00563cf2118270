"""``idcbq mirror --source gs://...`` against the local GCS server (issue 21 §2).

The wide synthetic export (real width, large footers) is served by fake-gcs-server; the
CLI runs in child processes, once in the environment as installed and once with gcsfs
hidden (a module first on ``PYTHONPATH`` that raises ImportError, as in
``test_gcs_without_gcsfs.py``): idcbq reads GCS through pyarrow either way. (The dev
environment has no gcsfs: it pins fsspec exactly, so it is not installed beside idcbq.) Covered:
a full mirror, resume after ``kill -9`` and an incremental refresh after the bucket
changed (a file rewritten, one removed, one added).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import uuid
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from idcbq.sources.sample.seed import upload_objects
from idcbq.testing.wide_export import (
    WideSpec,
    collection_name,
    file_name,
    objects,
    write_encodings,
)
from tests import child

pytestmark = pytest.mark.gcs

REPO = Path(__file__).resolve().parents[1]
# One encoding per file: no two files are byte-identical, so every file is fetched
# (identical files would be hard-linked and a resumed run would show nothing).
SPEC = WideSpec(files=16, collections=16, rows_per_file=20, row_group_rows=10, leaf_columns=1500)
TABLE = "bigquery_export/idc_v25/dicom_all"


@pytest.fixture(scope="module")
def encodings(tmp_path_factory) -> dict[int, Path]:
    return write_encodings(tmp_path_factory.mktemp("enc"), SPEC)


def _bucket(gcs_server, encodings) -> str:
    name = f"idc-wide-{uuid.uuid4().hex[:8]}"
    upload_objects("gcs", gcs_server.url, [(name, k, b) for k, b in objects(SPEC, encodings, "x")])
    return name


@pytest.fixture(params=["as-installed", "gcsfs-hidden"])
def env(request, tmp_path, gcs_server) -> dict[str, str]:
    """The CLI children's environment: as installed, or with ``import gcsfs`` failing."""
    path = [str(REPO)]
    if request.param == "gcsfs-hidden":
        blocked = tmp_path / "blocked" / "gcsfs"
        blocked.mkdir(parents=True)
        (blocked / "__init__.py").write_text(
            "raise ImportError(\"No module named 'gcsfs' (hidden by the test)\")\n"
        )
        path.insert(0, str(blocked.parent))
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(path),
        "IDCBQ_FOOTER_CACHE": str(tmp_path / "footers"),
        "STORAGE_EMULATOR_HOST": gcs_server.url,
    }


def _mirror_args(bucket: str, endpoint: str, dest: Path, *extra: str) -> list[str]:
    return child.idcbq_command(
        "mirror", "--source", f"gs://{bucket}/x", "--endpoint", endpoint,
        "--idc-version", "v25", "--dest", dest, "--json", *extra,
    )  # fmt: skip


def _run_mirror(bucket, endpoint, dest, env, logdir) -> dict:
    out = child.run(_mirror_args(bucket, endpoint, dest), env=env, logdir=logdir, timeout=600)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def _collections_of_copies(dest: Path) -> dict[str, list[str]]:
    """``file name -> distinct collection_id`` of every mirrored file."""
    found = {}
    for path in sorted((dest / TABLE).glob("*.parquet")):
        ids = pq.read_table(path, columns=["collection_id"]).column(0).to_pylist()
        found[path.name] = sorted(set(ids))
    return found


def test_hidden_gcsfs_cannot_be_imported(env):
    proc = child.run(child.command([sys.executable, "-c", "import gcsfs"]), env=env)
    if "blocked" in env["PYTHONPATH"]:
        assert proc.returncode == 1 and "hidden by the test" in proc.stderr
    else:
        assert proc.returncode in (0, 1), proc.stderr


def test_mirror_resumes_after_kill_9(gcs_server, encodings, env, tmp_path):
    bucket = _bucket(gcs_server, encodings)
    dest = tmp_path / "m"
    states = dest / ".idcbq-mirror/state/idc_v25/dicom_all"
    args = _mirror_args(bucket, gcs_server.url, dest, "--workers", "1")
    with child.Child(args, env=env, logdir=tmp_path / "logs") as proc:
        assert proc.wait_until(
            lambda: len(list(states.glob("*.json"))) >= 2 or proc.poll() is not None
        )
        assert proc.poll() is None, proc.stderr()
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    done_before = len(list(states.glob("*.json")))
    assert 2 <= done_before < SPEC.files

    report = _run_mirror(bucket, gcs_server.url, dest, env, tmp_path / "logs2")
    assert report["files"] == SPEC.files and not report["failures"]
    assert report["unchanged"] >= done_before  # finished files are not fetched again
    assert report["unchanged"] + report["fetched"] == SPEC.files
    assert not list(dest.rglob(".*.tmp-*"))
    copies = _collections_of_copies(dest)
    assert copies == {file_name(i): [collection_name(i)] for i in range(SPEC.files)}
    assert all(pq.read_metadata(dest / TABLE / n).num_rows == 20 for n in copies)


def test_incremental_refresh_fetches_only_what_changed(gcs_server, encodings, env, tmp_path):
    bucket = _bucket(gcs_server, encodings)
    dest = tmp_path / "m"
    first = _run_mirror(bucket, gcs_server.url, dest, env, tmp_path / "logs1")
    assert first["fetched"] == SPEC.files and first["unchanged"] == 0

    # The bucket changes: file 0 is rewritten with collection 5's rows, the last file
    # goes away, and a new file (collection 7's rows) appears.
    blobs = gcs_server.client().bucket(bucket)
    last, new = SPEC.files - 1, SPEC.files
    blobs.blob(f"x/{TABLE}/{file_name(0)}").upload_from_filename(str(encodings[5]))
    blobs.blob(f"x/{TABLE}/{file_name(last)}").delete()
    blobs.blob(f"x/{TABLE}/{file_name(new)}").upload_from_filename(str(encodings[7]))

    again = _run_mirror(bucket, gcs_server.url, dest, env, tmp_path / "logs2")
    assert again["files"] == SPEC.files and not again["failures"]
    assert again["unchanged"] == SPEC.files - 2  # files 1 .. last-1
    # Rewritten and new files are byte twins of mirrored ones: linked, or else fetched.
    assert again["fetched"] + again["linked"] == 2
    want = {file_name(i): [collection_name(i)] for i in range(1, last)}
    want[file_name(0)] = [collection_name(5)]
    want[file_name(new)] = [collection_name(7)]
    assert _collections_of_copies(dest) == want
