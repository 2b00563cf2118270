"""tests/tools/rewrite_moves.py on a small git checkout in a temporary directory."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

MOVES = """
[modules]
"pkg.util" = "pkg.io.util"
"pkg.io" = "pkg.io.formats"
"pkg.old" = "pkg.core.old"

[packages]
"pkg.sample" = "pkg.sources.sample"

[names]
"pkg.util._helper" = "pkg.io.scan.helper"
"pkg.__version__" = "pkg.core.version.__version__"

[new]
modules = ["pkg.io.scan", "pkg.core.version"]
"""

FILES = {
    "pkg/__init__.py": '__version__ = "1"\n',
    "pkg/util.py": "def _helper():\n    return 1\n\n\nVALUE = 2\n",
    "pkg/io.py": "def write():\n    return 3\n",
    "pkg/old.py": "X = 1\n",
    "pkg/sample/__init__.py": "",
    "pkg/sample/build.py": "from pkg.util import VALUE, _helper\n",
    "pkg/user.py": (
        "from pkg import __version__, old\n"
        "from pkg.util import (\n"
        "    VALUE,\n"
        "    _helper,  # shared\n"
        ")\n"
        "import pkg.io\n"
        "\n"
        "\n"
        "def f():\n"
        "    from pkg.sample.build import VALUE as V\n"
        "    from pkg.io import write\n"
        "\n"
        "    return pkg.io.write(), V, write\n"
    ),
    "tests/test_x.py": 'PATCH = "pkg.util._helper"\nOTHER = "pkg.io.write"\n',
    "docs/notes.md": "See `pkg/util.py`, the `pkg/sample/` folder and pkg.sample.build.\n",
    "Makefile": "run:\n\tpython -m pkg.sample.build\n",
}


def _tool():
    spec = importlib.util.spec_from_file_location(
        "rewrite_moves", REPO / "tests/tools/rewrite_moves.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("rewrite_moves", module)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    tool = _tool()
    monkeypatch.setattr(tool, "SCAN_DIRS", ("pkg", "tests", "docs", "notebooks"))
    monkeypatch.setattr(tool, "SKIP", {"tests/layout_moves.toml"})
    for rel, text in FILES.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    nb = {"cells": [{"cell_type": "code", "source": ["from pkg.util import VALUE\n", "x = 1"]}]}
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks/a.ipynb").write_text(json.dumps(nb, indent=1) + "\n")
    (tmp_path / "tests/layout_moves.toml").write_text(MOVES)
    git = shutil.which("git")
    assert git, "git is needed to test git mv"
    for args in (
        ["init", "-q"],
        ["add", "-A"],
        ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "old layout"],
    ):
        subprocess.run([git, *args], cwd=tmp_path, check=True, capture_output=True)
    return tmp_path, tool


def _run(tree, *args: str) -> int:
    root, tool = tree
    return tool.main(["--root", str(root), "--no-ruff", *args])


def test_check_lists_old_paths_and_changes_nothing(tree, capsys):
    root, _ = tree
    assert _run(tree, "--check") == 1
    out = capsys.readouterr().out
    assert "pkg/util.py: still at its old place" in out
    assert "pkg/user.py:1: from pkg import __version__, old" in out
    assert "docs/notes.md:1:" in out
    assert (root / "pkg/util.py").exists()


def test_moves_files_and_rewrites_every_reference(tree):
    root, _ = tree
    assert _run(tree) == 0
    assert not (root / "pkg/util.py").exists()
    assert (root / "pkg/io/util.py").exists()
    assert (root / "pkg/io/formats.py").read_text() == FILES["pkg/io.py"]
    assert (root / "pkg/sources/sample/build.py").exists()
    assert not (root / "pkg/sample").exists()
    assert (root / "pkg/sources/__init__.py").exists()  # a created parent package
    staged = subprocess.run(
        ["git", "diff", "--cached", "--name-status", "-M"], cwd=root, capture_output=True, text=True
    ).stdout
    assert "R100\tpkg/old.py\tpkg/core/old.py" in staged  # git mv, so history follows
    user = (root / "pkg/user.py").read_text()
    assert "from pkg.core.version import __version__\nfrom pkg.core import old\n" in user
    assert "from pkg.io.util import VALUE\nfrom pkg.io.scan import helper as _helper" in user
    assert "import pkg.io.formats\n" in user
    assert "from pkg.sources.sample.build import VALUE as V" in user
    assert "from pkg.io.formats import write" in user
    assert "return pkg.io.formats.write(), V, write" in user
    build = (root / "pkg/sources/sample/build.py").read_text()
    assert build == "from pkg.io.util import VALUE\nfrom pkg.io.scan import helper as _helper\n"
    test = (root / "tests/test_x.py").read_text()
    assert test == 'PATCH = "pkg.io.scan.helper"\nOTHER = "pkg.io.formats.write"\n'
    notes = (root / "docs/notes.md").read_text()
    assert notes == (
        "See `pkg/io/util.py`, the `pkg/sources/sample/` folder and pkg.sources.sample.build.\n"
    )
    assert "pkg.sources.sample.build" in (root / "Makefile").read_text()
    nb = json.loads((root / "notebooks/a.ipynb").read_text())
    assert nb["cells"][0]["source"] == ["from pkg.io.util import VALUE\n", "x = 1"]


def test_second_run_changes_nothing_and_check_passes(tree, capsys):
    root, _ = tree
    assert _run(tree) == 0
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file() and ".git" not in p.parts}
    capsys.readouterr()
    assert _run(tree) == 0
    assert capsys.readouterr().out == ""
    after = {p: p.read_bytes() for p in root.rglob("*") if p.is_file() and ".git" not in p.parts}
    assert after == before
    assert _run(tree, "--check") == 0


def test_a_file_added_at_an_old_place_after_the_move_follows(tree):
    """Another branch, merged after the move, added a module to the old package."""
    root, _ = tree
    assert _run(tree) == 0
    (root / "pkg/sample").mkdir()
    (root / "pkg/sample/extra.py").write_text("from pkg.util import _helper\nimport pkg.old\n")
    assert _run(tree) == 0
    assert (root / "pkg/sources/sample/extra.py").read_text() == (
        "from pkg.io.scan import helper as _helper\nimport pkg.core.old\n"
    )
    assert not (root / "pkg/sample").exists()


def test_a_file_at_both_places_is_reported_not_overwritten(tree, capsys):
    root, _ = tree
    assert _run(tree) == 0
    (root / "pkg/util.py").write_text("NEW = 1\n")
    assert _run(tree) == 1
    assert "pkg/util.py: both it and pkg/io/util.py exist" in capsys.readouterr().err
    assert (root / "pkg/io/util.py").read_text() == FILES["pkg/util.py"]
