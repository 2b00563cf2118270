"""Exit codes through the real ``idcbq`` entry point: the same at every verbosity,
``-v``/``-q`` after the subcommand, a reader that stops early, stdout closed.

Every child runs via tests/child.py (output to files, SIGINT restored).
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from idcbq.errors import ExitCode
from idcbq.testing.servers import free_port
from tests.child import command, run_idcbq

MANY_ROWS = "SELECT SeriesInstanceUID, SOPInstanceUID FROM dicom_all"


@pytest.fixture
def cli_env(sample_root, tmp_path):
    """The embedded sample, no user config, no IDCBQ_* from the caller."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("IDCBQ_")}
    env.update(IDCBQ_SAMPLE_ROOT=str(sample_root), XDG_CONFIG_HOME=str(tmp_path / "xdg"))
    return env


VERBOSITIES = [(), ("-v",), ("-vv",), ("-q",)]


@pytest.mark.parametrize("flags", VERBOSITIES, ids=["plain", "-v", "-vv", "-q"])
def test_unknown_template_is_exit_2_at_every_verbosity(cli_env, flags):
    before = run_idcbq(*flags, "query", "nope", env=cli_env)
    after = run_idcbq("query", "nope", *flags, env=cli_env)  # flags after the subcommand
    for proc in (before, after):
        assert proc.returncode == ExitCode.BAD_INPUT, proc.stderr
        assert "unknown template 'nope'" in proc.stderr
        assert ("Traceback" in proc.stderr) == ("-v" in flags or "-vv" in flags), proc.stderr


def test_unreachable_download_is_exit_5_at_every_verbosity(cli_env, tmp_path):
    rows = tmp_path / "rows.parquet"
    made = run_idcbq("sql", "SELECT * FROM dicom_all LIMIT 2", "--out", rows, env=cli_env)
    assert made.returncode == 0, made.stderr
    dead = f"http://127.0.0.1:{free_port()}"
    for flags in VERBOSITIES:
        args = ("download", rows, "--dest", tmp_path / "d", "--endpoint", dead)
        for argv in ((*flags, *args), (*args, *flags)):
            proc = run_idcbq(*argv, env=cli_env)
            assert proc.returncode == ExitCode.DOWNLOAD_FAILED, (argv, proc.stderr)
            assert f"cannot connect to {dead}" in proc.stderr


def test_verbosity_after_the_subcommand_is_accepted(cli_env):
    quiet = run_idcbq("sql", "SELECT 1 AS x", "-q", "--format", "csv", env=cli_env)
    assert quiet.returncode == 0 and quiet.stdout == "x\n1\n", quiet.stderr
    loud = run_idcbq("query", "summary.collections", "-vv", "--limit", "1", env=cli_env)
    assert loud.returncode == 0, loud.stderr
    assert '"level": "debug"' in loud.stderr  # -vv took effect: debug logs (JSON off a tty)
    group = run_idcbq("templates", "list", "-v", env=cli_env)
    assert group.returncode == 0 and "cohort.series_by_modality" in group.stdout, group.stderr


@pytest.mark.parametrize("fmt", ["tsv", "csv", "jsonl", "json", "table"])
def test_a_reader_that_stops_early_is_not_a_failure(cli_env, tmp_path, fmt):
    """``idcbq sql ... | head -1`` with ``set -o pipefail``: exit 0, nothing on stderr."""
    err_path = tmp_path / "err"
    script = (
        "set -o pipefail; "
        f'"$@" 2>{err_path} | head -c 1 >/dev/null'  # the reader takes one byte and leaves
    )
    argv = command([sys.executable, "-m", "idcbq", "sql", MANY_ROWS, "--format", fmt])
    with open(tmp_path / "out", "wb") as out:
        proc = subprocess.run(
            ["bash", "-c", script, "bash", *argv],
            env=cli_env, stdout=out, stderr=subprocess.STDOUT, timeout=300, check=False,
        )  # fmt: skip
    err = err_path.read_text()
    assert proc.returncode == 0, err
    assert "Error" not in err and "error" not in err and "Traceback" not in err, err


def test_stdout_closed_from_the_start_is_exit_8(cli_env, tmp_path):
    """``idcbq sql ... >&-``: the rows have nowhere to go; one line, exit 8, nothing lost."""
    argv = command([sys.executable, "-m", "idcbq", "sql", "SELECT 1 AS x"])
    with open(tmp_path / "err", "wb") as err:
        proc = subprocess.run(
            ["bash", "-c", '"$@" >&-', "bash", *argv],
            env=cli_env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
            timeout=300, check=False,
        )  # fmt: skip
    text = (tmp_path / "err").read_text()
    assert proc.returncode == ExitCode.LOCAL_FS, text
    assert text.strip() == "error: stdout is closed: nowhere to write the rows " \
        "(give --out FILE, or open stdout)"  # fmt: skip
    # --out needs no stdout at all
    out = tmp_path / "r.csv"
    argv = command([sys.executable, "-m", "idcbq", "sql", "SELECT 1 AS x", "--out", str(out)])
    proc = subprocess.run(["bash", "-c", '"$@" >&-', "bash", *argv], env=cli_env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=300,
                          check=False)  # fmt: skip
    assert proc.returncode == 0 and out.read_text().splitlines()[1:] == ["1"]
