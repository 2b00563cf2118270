"""The CLI as a whole: help with examples everywhere, completion, fast start, clean errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click
import pytest

from idcbq.cli import COMMANDS, cli
from idcbq.cli.common import run_cli

REPO = Path(__file__).resolve().parents[1]


def _commands() -> list[list[str]]:
    """Every command path, nested groups included (imports each subcommand module)."""
    found: list[list[str]] = []
    root = click.Context(cli, info_name="idcbq")

    def walk(cmd: click.Command, path: list[str], parent: click.Context) -> None:
        found.append(path)
        if isinstance(cmd, click.Group):
            ctx = click.Context(cmd, info_name=path[-1], parent=parent)
            for name in cmd.list_commands(ctx):
                walk(cmd.get_command(ctx, name), [*path, name], ctx)

    for name in cli.list_commands(root):
        walk(cli.get_command(root, name), [name], root)
    return found


def test_every_registered_command_exists():
    paths = _commands()
    assert {p[0] for p in paths} == set(COMMANDS)
    assert ["job", "run"] in paths and ["job", "diff"] in paths


@pytest.mark.parametrize("path", _commands(), ids=" ".join)
def test_help_has_examples(path, capsys):
    code = run_cli(cli, [*path, "--help"])
    out = capsys.readouterr().out
    assert code == 0
    assert "Example" in out, f"idcbq {' '.join(path)} --help shows no example"
    assert f"idcbq {path[0]}" in out.split("Example", 1)[1]  # the example runs this command


def _idcbq(env: dict[str, str] | None = None, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "idcbq", *args], capture_output=True, text=True, cwd=REPO,
        env={**os.environ, **(env or {})}, timeout=60,
    )  # fmt: skip


def test_bash_completion_script_and_answers():
    script = _idcbq({"_IDCBQ_COMPLETE": "bash_source"})
    assert script.returncode == 0 and "complete -o nosort -F" in script.stdout
    # What bash asks while the user types `idcbq jo<TAB>` and `idcbq job r<TAB>`.
    words = _idcbq(
        {"_IDCBQ_COMPLETE": "bash_complete", "COMP_WORDS": "idcbq jo", "COMP_CWORD": "1"}
    )
    assert words.stdout.split() == ["plain,job"]
    words = _idcbq(
        {"_IDCBQ_COMPLETE": "bash_complete", "COMP_WORDS": "idcbq job r", "COMP_CWORD": "2"}
    )
    assert words.stdout.split() == ["plain,run"]


def test_top_level_help_imports_nothing_heavy():
    code = (
        "import sys\nfrom idcbq.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('duckdb', 'pyarrow', 'pandas', 'sqlglot', 'google.cloud.bigquery',"
        " 'pydantic', 'idcbq.cli.job') if m in sys.modules]\n"
        "print('HEAVY', heavy)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60
    )
    assert "HEAVY []" in proc.stdout, proc.stdout + proc.stderr
    assert "idcbq job run" in proc.stdout and "IDCBQ_COMPLETE" in proc.stdout


def test_errors_have_no_traceback_unless_verbose(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(
        "[job]\nname = 'x'\n[query]\ntemplate = 't'\n[outputs]\ndestination = 'o'\nextra = 1\n"
    )
    quiet = _idcbq(None, "job", "validate", str(bad))
    assert quiet.returncode == 2
    assert quiet.stderr.startswith("error: ") and f"{bad}:7" in quiet.stderr
    assert "Traceback" not in quiet.stderr
    loud = _idcbq(None, "-v", "job", "validate", str(bad))
    assert loud.returncode == 2  # the same exit code at every verbosity
    assert "Traceback" in loud.stderr and "JobSpecError" in loud.stderr


def test_quiet_silences_info_logs(sample_root, tmp_path):
    spec = tmp_path / "s.toml"
    spec.write_text(
        f'[job]\nname = "q"\n[query]\ntemplate = "summary.counts"\n[engine]\nsource = "{sample_root}"\n'
        '[outputs]\ndestination = "out"\n'
    )
    loud = _idcbq(None, "job", "run", str(spec), "--dry-run")
    quiet = _idcbq(None, "-q", "job", "run", str(spec), "--dry-run")
    assert loud.returncode == quiet.returncode == 0, loud.stderr + quiet.stderr
    assert '"job run started"' in loud.stderr
    assert "job run started" not in quiet.stderr
