"""The magic's help in a real IPython InteractiveShell, like ``%%bigquery --help`` (issue 17 h).

``%idcbq`` alone and ``%idcbq --help`` print the line form's usage, ``%%idcbq --help`` (no
cell body) the cell form's, ``%idcbq?`` shows a docstring naming both forms; none of them
raises. A "%" in a prog or help text must not go through argparse's %-formatting as a
format directive (it did: ``TypeError: %i format: a real number is required, not dict``).
"""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def shell():
    from IPython.testing.globalipapp import get_ipython, start_ipython

    # One global test shell per process: start_ipython() returns None once it exists.
    ip = start_ipython() or get_ipython()
    ip.run_line_magic("load_ext", "idcbq")
    return ip


def run(shell, code: str, capsys):
    """Run ``code`` as a notebook cell; (ExecutionResult, printed output)."""
    capsys.readouterr()
    result = shell.run_cell(code)
    captured = capsys.readouterr()
    return result, captured.out + captured.err


LINE_FLAGS = ("NAME", "RESULT_VAR", "-p NAME=VALUE", "--engine", "--source", "--dry-run", "--limit")
CELL_FLAGS = ("RESULT_VAR", "--params JSON", "--engine", "--project", "--max-bytes-billed")


@pytest.mark.parametrize("code", ["%idcbq", "%idcbq --help", "%idcbq -h", "%idcbq  "])
def test_line_magic_alone_or_with_help_prints_its_usage(shell, code, capsys):
    result, out = run(shell, code, capsys)
    assert result.success, result.error_in_exec
    assert "Traceback" not in out and "TypeError" not in out
    assert out.startswith("usage: %idcbq NAME [RESULT_VAR] [options]\n"), out[:200]
    for flag in LINE_FLAGS:
        assert flag in out, flag
    assert "%%idcbq --help" in out  # points at the cell form's help


@pytest.mark.parametrize(
    "code",
    ["%%idcbq --help", "%%idcbq --help\n", "%%idcbq df -h\n\n", "%%idcbq --dry-run --help\n"],
)
def test_cell_magic_help_without_a_body_prints_its_usage(shell, code, capsys):
    result, out = run(shell, code, capsys)
    assert result.success, result.error_in_exec
    assert "cell body is empty" not in out
    assert out.startswith("usage: %%idcbq [RESULT_VAR] [options]\n"), out[:200]
    for flag in CELL_FLAGS:
        assert flag in out, flag


def test_cell_magic_help_with_a_body_runs_nothing(shell, capsys):
    result, out = run(shell, "%%idcbq --help\nSELECT nope FROM nowhere\n", capsys)
    assert result.success, result.error_in_exec
    assert out.startswith("usage: %%idcbq ")


def test_question_mark_shows_a_docstring_for_both_forms(shell, capsys):
    from IPython.core.magic import Magics  # noqa: F401  (IPython present)

    doc = shell.find_line_magic("idcbq").__doc__
    assert doc and "usage: %idcbq NAME" in doc and "usage: %%idcbq [RESULT_VAR]" in doc
    result, out = run(shell, "%idcbq?", capsys)
    assert result.success
    assert "<no docstring>" not in out
    assert "usage: %idcbq NAME" in out and "--params JSON" in out


def test_a_usage_error_is_one_line_not_an_argparse_exit(shell, capsys):
    """A missing value is the magic's one-line error with a hint, not SystemExit or TypeError."""
    result, out = run(shell, "%idcbq cohort.series_by_modality -p", capsys)
    assert not result.success
    assert type(result.error_in_exec).__name__ == "UsageError"
    assert "%idcbq" in str(result.error_in_exec) and "-p" in str(result.error_in_exec)
    assert "Traceback" not in out
    assert "--help" in out  # the hint


def test_empty_cell_without_help_is_still_refused(shell, capsys):
    result, out = run(shell, "%%idcbq\n", capsys)
    assert not result.success
    assert "cell body is empty" in out
