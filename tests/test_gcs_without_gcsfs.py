"""``gs://`` sources with gcsfs absent (issue 17 o), against the local GCS server.

idcbq reads GCS through pyarrow's GCS file system (fsspec's arrow wrapper for DuckDB), so
it no longer depends on gcsfs, which moved Colab's google-cloud-storage when installed.
The CLI runs in a child process where ``import gcsfs`` fails, as in an environment
without it (the dev venv has gcsfs from other packages' dependencies, so it is hidden by a
module on ``PYTHONPATH`` that raises ImportError, the error Python gives when it is
absent).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.tiny_export import upload_gcs

pytestmark = pytest.mark.gcs

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def bucket(gcs_server, sample_root: Path) -> str:
    name = f"idc-meta-{uuid.uuid4().hex[:8]}"
    upload_gcs(sample_root, gcs_server.client(), name)
    return name


@pytest.fixture
def no_gcsfs(tmp_path) -> Path:
    """A directory that, first on ``PYTHONPATH``, makes ``import gcsfs`` fail."""
    blocked = tmp_path / "blocked" / "gcsfs"
    blocked.mkdir(parents=True)
    (blocked / "__init__.py").write_text(
        "raise ImportError(\"No module named 'gcsfs' (hidden by the test)\")\n"
    )
    return blocked.parent


def _idcbq(*args: str, tmp: Path, path: Path | None, gcs_url: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(str(p) for p in (path, REPO) if p),
        "IDCBQ_FOOTER_CACHE": str(tmp / "footers"),
        "STORAGE_EMULATOR_HOST": gcs_url,
    }
    return subprocess.run(
        [sys.executable, "-m", "idcbq", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


def test_gcsfs_is_hidden(no_gcsfs, tmp_path, gcs_server):
    env = {**os.environ, "PYTHONPATH": f"{no_gcsfs}{os.pathsep}{REPO}"}
    proc = subprocess.run(
        [sys.executable, "-c", "import gcsfs"], capture_output=True, text=True, env=env, check=False
    )
    assert proc.returncode == 1 and "ImportError" in proc.stderr


def test_query_on_gs_without_gcsfs_gives_the_local_answers(
    bucket, no_gcsfs, sample_root, gcs_server, tmp_path
):
    args = ("query", "summary.collections", "--idc-version", "v25", "--json")
    remote = _idcbq(
        *args, "--source", f"gs://{bucket}", tmp=tmp_path, path=no_gcsfs, gcs_url=gcs_server.url
    )
    assert remote.returncode == 0, remote.stderr
    local = _idcbq(
        *args, "--source", str(sample_root), tmp=tmp_path, path=None, gcs_url=gcs_server.url
    )
    assert local.returncode == 0, local.stderr
    assert json.loads(remote.stdout) == json.loads(local.stdout) != []


def test_mirror_from_gs_without_gcsfs(bucket, no_gcsfs, sample_root, gcs_server, tmp_path):
    dest = tmp_path / "mirror"
    out = _idcbq(
        "mirror", "--source", f"gs://{bucket}", "--endpoint", gcs_server.url,
        "--idc-version", "v25", "--collections", "qin_lung_ct", "--dest", str(dest), "-q",
        tmp=tmp_path, path=no_gcsfs, gcs_url=gcs_server.url,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    counts = _idcbq(
        "query", "summary.collections", "--source", str(dest), "--json",
        tmp=tmp_path, path=no_gcsfs, gcs_url=gcs_server.url,
    )  # fmt: skip
    assert counts.returncode == 0, counts.stderr
    rows = json.loads(counts.stdout)
    assert [r["collection_id"] for r in rows] == ["qin_lung_ct"] and rows[0]["series"] > 0
