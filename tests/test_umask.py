"""Every file idcbq writes honours the umask (issue 17 k).

Each command runs through the real ``idcbq`` entry point under a real ``umask`` (022:
readable by all; 002: group-writable, as shared project folders use). Every regular
file it leaves must have ``0o666 & ~umask``: a manifest made private by ``mkstemp``
(0600) is unreadable to colleagues and service accounts on shared storage.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from idcbq.manifest import write_manifest
from tests.child import idcbq_command, run
from tests.jobs_support import write_spec

JOB = """\
[job]
name = "ct"

[query]
template = "cohort.series_by_modality"
params = {{ modalities = ["CT"] }}

[engine]
name = "duckdb"
source = "{source}"

[outputs]
destination = "out"
results = ["parquet", "csv"]
manifests = ["s5cmd", "jsonl", "urls", "csv", "parquet"]
manifest_level = "series"
"""


@pytest.fixture
def cli_env(sample_root, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("IDCBQ_")}
    env.update(IDCBQ_SAMPLE_ROOT=str(sample_root), XDG_CONFIG_HOME=str(tmp_path / "xdg"))
    return env


def under_umask(mask: int, *args: object, env: dict[str, str], cwd: Path):
    """``idcbq ARGS`` started by a shell whose umask is ``mask``."""
    argv = ["bash", "-c", f'umask {mask:03o}; exec "$@"', "bash", *idcbq_command(*args)]
    proc = run(argv, env=env, cwd=cwd, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return proc


def modes(root: Path) -> dict[str, str]:
    """Mode of every regular file under ``root`` (symlinks and folders aside)."""
    return {
        str(p.relative_to(root)): oct(stat.S_IMODE(p.stat().st_mode))
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


@pytest.mark.parametrize("mask", [0o022, 0o002], ids=["022", "002"])
def test_results_and_manifests_honour_the_umask(cli_env, tmp_path, mask):
    work = tmp_path / "w"
    work.mkdir()
    under_umask(mask, "query", "cohort.series_by_modality", "-p", "modalities=CT",
                "--out", "series.parquet", env=cli_env, cwd=work)  # fmt: skip
    under_umask(mask, "sql", "SELECT DISTINCT SeriesInstanceUID FROM dicom_all LIMIT 3",
                "--out", "series.csv", env=cli_env, cwd=work)  # fmt: skip
    for out in ("cohort.s5cmd", "cohort.jsonl", "cohort.txt", "cohort.csv", "cohort.parquet"):
        under_umask(mask, "manifest", "series.parquet", "--out", out, env=cli_env, cwd=work)
    found = modes(work)
    assert {"cohort.s5cmd", "cohort.jsonl", "series.parquet", "series.csv"} <= set(found)
    want = oct(0o666 & ~mask)
    assert found == dict.fromkeys(found, want)


@pytest.mark.parametrize("mask", [0o022, 0o002], ids=["022", "002"])
def test_job_outputs_honour_the_umask(cli_env, sample_root, tmp_path, mask):
    spec = write_spec(tmp_path / "job" / "ct.toml", JOB.format(source=sample_root))
    under_umask(mask, "job", "run", spec, env=cli_env, cwd=spec.parent)
    out = spec.parent / "out"
    found = modes(out)
    manifests = [name for name in found if "/manifest." in name or name.startswith("manifest.")]
    assert len(manifests) >= 5 and any(n.endswith("run.json") for n in found), found
    want = oct(0o666 & ~mask)
    assert found == dict.fromkeys(found, want)


@pytest.mark.gcs
@pytest.mark.parametrize("mask", [0o022, 0o002], ids=["022", "002"])
def test_downloaded_files_honour_the_umask(seeded_gcs, gcs_server, tmp_path, mask):
    manifest = tmp_path / "m.parquet"
    write_manifest(seeded_gcs.table(), manifest, format="parquet")
    dest = tmp_path / "dest"
    env = {k: v for k, v in os.environ.items() if not k.startswith("IDCBQ_")}
    under_umask(mask, "download", manifest, "--dest", dest, "--endpoint", gcs_server.url,
                "-q", env=env, cwd=tmp_path)  # fmt: skip
    found = modes(dest)
    assert sum(name.endswith(".dcm") for name in found) == len(seeded_gcs.rows)
    want = oct(0o666 & ~mask)
    assert found == dict.fromkeys(found, want)
