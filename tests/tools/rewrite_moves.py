"""Apply the module moves of ``tests/layout_moves.toml`` to a checkout, again and again.

The layout change of issue 19 moved modules into packages. Branches written against the
old layout keep importing the old paths; after merging one, run this script and every
reference is brought to the new layout mechanically:

1. Files: each moved module (``[modules]``) and each file of a moved package
   (``[packages]``) is ``git mv``-ed to its new place (a plain rename outside git). A file
   added by another branch at an old place follows its package.
2. ``from X import a, b`` statements: each name goes to where it lives now (``[names]``
   moves single names between modules, e.g. a private helper that became public in a
   lower module; the old local name is kept with ``as``), split into one statement per
   module when the names now live apart.
3. Dotted references anywhere (``import idcbq.x``, ``patch("idcbq.x.f")``, docs,
   ``Makefile``) and file paths (``idcbq/x.py``, ``idcbq/pkg/``) follow their module.

It is idempotent: a second run changes nothing. ``--check`` changes nothing and lists
every remaining reference to an old path (exit status 1 if there is one).

Merging a branch written against the old layout (or this layout into such a branch):
resolve each conflicted hunk to the other branch's code (old paths are fine; this script
fixes them), keeping any import line only one side has; then run this script, ``ruff
check --fix``, and ``ruff check`` again: an ``F821 undefined name`` marks a call still
spelled with a name that moved (``_message`` -> ``duckdb_message``: see ``[names]``).
Finish with ``--check`` and ``tests/test_layout.py``.

Example:
    python tests/tools/rewrite_moves.py            # apply
    python tests/tools/rewrite_moves.py --check    # verify nothing old is left
"""

from __future__ import annotations

import argparse
import functools
import json
import re
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

MOVES_FILE = Path("tests/layout_moves.toml")
# Where references are rewritten (relative to the root); files are found recursively.
SCAN_DIRS = ("idcbq", "tests", "bench", "notebooks", "docs", ".ci", "sql")
SCAN_TOP = ("README.md", "Makefile", "pyproject.toml", "DESIGN.md", "ANCHORS.md")
SUFFIXES = {".py", ".md", ".ipynb", ".toml", ".txt", ".cfg", ".ini", ".yml", ".yaml", ".sh"}
# Files that name the old paths on purpose.
SKIP = {"tests/layout_moves.toml", "tests/tools/rewrite_moves.py", "tests/test_rewrite_moves.py"}


@functools.cache
def _patterns(package: str) -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    """Dotted references, file paths and ``from ... import`` statements of ``package``."""
    pkg = re.escape(package)
    dotted = re.compile(rf"(?<![\w.]){pkg}(?:\.\w+)+")
    pathlike = re.compile(rf"(?<![\w/.]){pkg}(?:/\w+)+(?:\.py\b|/)")
    from_import = re.compile(
        rf"^(?P<indent>[ \t]*)from[ \t]+(?P<mod>{pkg}(?:\.\w+)*)[ \t]+import[ \t]+"
        r"(?P<names>\([^)]*\)|[^\n#]*?)(?P<comment>[ \t]*#[^\n]*)?$",
        re.MULTILINE,
    )
    return dotted, pathlike, from_import


@dataclass
class Moves:
    """The three tables of the moves file, plus every name that exists only afterwards."""

    modules: dict[str, str]
    packages: dict[str, str]
    names: dict[str, str]
    new: set[str] = field(default_factory=set)
    package: str = "idcbq"

    @property
    def patterns(self) -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
        return _patterns(self.package)

    @classmethod
    def load(cls, path: Path) -> Moves:
        data = tomllib.loads(path.read_text())
        moves = cls(dict(data.get("modules", {})), dict(data.get("packages", {})), {})
        targets = [*moves.modules.values(), *moves.packages.values()]
        moves.package = (targets or ["idcbq"])[0].split(".")[0]
        targets += data.get("new", {}).get("modules", [])
        for old, new in data.get("names", {}).items():
            targets.append(new.rpartition(".")[0])
            moves.names[old] = new
            # The same name reached through its module's new path.
            mod, _, name = old.rpartition(".")
            moves.names.setdefault(f"{moves.module(mod)}.{name}", new)
        for target in targets:
            parts = target.split(".")
            moves.new.update(".".join(parts[:i]) for i in range(2, len(parts) + 1))
        return moves

    def module(self, dotted: str) -> str:
        """``dotted`` (a module or ``module.attr...``) with its module part moved."""
        parts = dotted.split(".")
        for i in range(len(parts), 1, -1):
            prefix = ".".join(parts[:i])
            rest = parts[i:]
            if prefix in self.modules:
                return ".".join([self.modules[prefix], *rest])
            if prefix in self.packages:
                return ".".join([self.packages[prefix], *rest])
            if prefix in self.new:
                return dotted
        return dotted

    def reference(self, dotted: str, *, names: bool = True) -> str:
        """A dotted reference moved: its module, then a moved name in it."""
        moved = self.module(dotted)
        if not names:
            return moved
        parts = moved.split(".")
        for i in range(len(parts), 1, -1):
            prefix = ".".join(parts[:i])
            if prefix in self.names and not parts[i - 1].startswith("__"):
                return ".".join([self.names[prefix], *parts[i:]])
        return moved


def _python_imports(text: str, moves: Moves) -> str:
    def one(match: re.Match[str]) -> str:
        mod, indent = match["mod"], match["indent"]
        raw = match["names"].strip()
        inner = raw[1:-1] if raw.startswith("(") else raw
        items = [n.strip() for n in re.split(r",", re.sub(r"#[^\n]*", "", inner)) if n.strip()]
        if not items or any(not re.fullmatch(r"[\w*]+(\s+as\s+\w+)?", n) for n in items):
            return match[0]
        groups: dict[str, list[str]] = {}
        changed = False
        for item in items:
            name, _, alias = (p.strip() for p in item.partition(" as "))
            full = f"{mod}.{name}"
            target_mod, target_name = None, name
            if full in moves.names:
                target_mod, _, target_name = moves.names[full].rpartition(".")
            elif full in moves.new:
                target_mod = mod  # a module of the new layout, imported from its package
            else:
                moved_full = moves.module(full)
                if moved_full != full and full in (*moves.modules, *moves.packages):
                    # ``from pkg import module`` where the module itself moved.
                    target_mod, _, target_name = moved_full.rpartition(".")
                else:
                    target_mod = moves.module(mod)
            local = alias or name
            entry = f"{target_name} as {local}" if target_name != local else target_name
            changed |= target_mod != mod or entry != item
            groups.setdefault(target_mod, []).append(entry)
        if not changed:
            return match[0]
        comment = match["comment"] or ""
        lines = [f"{indent}from {m} import {', '.join(ns)}" for m, ns in groups.items()]
        lines[0] += comment
        return "\n".join(lines)

    return moves.patterns[2].sub(one, text)


def _dotted_paths(text: str, moves: Moves) -> str:
    def dotted(match: re.Match[str]) -> str:
        return moves.reference(match[0])

    def pathlike(match: re.Match[str]) -> str:
        path = match[0]
        is_dir = path.endswith("/")
        stem = path.rstrip("/").removesuffix(".py")
        parts = stem.split("/")
        dot = ".".join(parts)
        for i in range(len(parts), 1, -1):
            prefix = ".".join(parts[:i])
            if prefix in moves.new:
                return path
            if prefix in moves.packages or (prefix in moves.modules and i == len(parts)):
                if prefix in moves.modules and is_dir:
                    return path  # a directory named like an old module file: not it
                new = moves.module(dot).replace(".", "/")
                return new + ("/" if is_dir else ".py")
        return path

    dotted_re, path_re, _ = moves.patterns
    return path_re.sub(pathlike, dotted_re.sub(dotted, text))


def rewrite_text(text: str, moves: Moves, *, python: bool) -> str:
    """One file's text with every reference to an old path moved."""
    if python:
        text = _python_imports(text, moves)
    return _dotted_paths(text, moves)


def rewrite_file(path: Path, moves: Moves) -> str | None:
    """The new text of ``path`` if it changes, else None."""
    try:
        text = path.read_text()
    except (UnicodeDecodeError, OSError):
        return None
    if moves.package not in text:
        return None
    if path.suffix == ".ipynb":
        nb = json.loads(text)
        for cell in nb.get("cells", []):
            src = cell.get("source")
            joined = "".join(src) if isinstance(src, list) else src or ""
            new = rewrite_text(joined, moves, python=cell.get("cell_type") == "code")
            if new != joined:
                cell["source"] = new.splitlines(keepends=True) if isinstance(src, list) else new
        new_text = json.dumps(nb, indent=1, ensure_ascii=False) + "\n"
    else:
        new_text = rewrite_text(text, moves, python=path.suffix == ".py")
    return new_text if new_text != text else None


def _files(root: Path) -> list[Path]:
    found = [root / name for name in SCAN_TOP if (root / name).is_file()]
    for d in SCAN_DIRS:
        for p in sorted((root / d).rglob("*")) if (root / d).is_dir() else ():
            if p.is_file() and p.suffix in SUFFIXES and "__pycache__" not in p.parts:
                found.append(p)
    return [p for p in found if p.relative_to(root).as_posix() not in SKIP]


def _in_git(root: Path) -> bool:
    return (
        shutil.which("git") is not None
        and subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--git-dir"],
            capture_output=True,
        ).returncode
        == 0
    )


def _file_moves(root: Path, moves: Moves) -> list[tuple[Path, Path]]:
    pairs: list[tuple[Path, Path]] = []
    for old, new in moves.modules.items():
        src = root / (old.replace(".", "/") + ".py")
        if src.is_file():
            pairs.append((src, root / (new.replace(".", "/") + ".py")))
    for old, new in moves.packages.items():
        src_dir = root / old.replace(".", "/")
        if src_dir.is_dir():
            dst_dir = root / new.replace(".", "/")
            for p in sorted(src_dir.rglob("*")):
                if p.is_file() and "__pycache__" not in p.parts:
                    pairs.append((p, dst_dir / p.relative_to(src_dir)))
    return pairs


def move_files(root: Path, moves: Moves, problems: list[str]) -> list[str]:
    """Move every file still at an old place; a file already at both places is a problem."""
    done = []
    git = _in_git(root)
    for src, dst in _file_moves(root, moves):
        rel_src, rel_dst = src.relative_to(root), dst.relative_to(root)
        if dst.exists():
            problems.append(f"{rel_src}: both it and {rel_dst} exist; merge them by hand")
            continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        tracked = (
            git
            and subprocess.run(
                ["git", "-C", str(root), "ls-files", "--error-unmatch", str(rel_src)],
                capture_output=True,
            ).returncode
            == 0
        )
        if tracked:
            subprocess.run(["git", "-C", str(root), "mv", str(rel_src), str(rel_dst)], check=True)
        else:
            src.rename(dst)
        done.append(f"moved {rel_src} -> {rel_dst}")
    for old in moves.packages:
        src_dir = root / old.replace(".", "/")
        for d in sorted(src_dir.rglob("*"), reverse=True) if src_dir.is_dir() else ():
            if d.name == "__pycache__":
                shutil.rmtree(d)
        for d in sorted((p for p in src_dir.rglob("*") if p.is_dir()), reverse=True):
            if not any(d.iterdir()):
                d.rmdir()
        if src_dir.is_dir() and not any(src_dir.iterdir()):
            src_dir.rmdir()
    for new in sorted(moves.new):
        pkg = root / new.replace(".", "/")
        if pkg.is_dir() and not (pkg / "__init__.py").exists():
            # The path form: a dotted name here could read as an old module's and be rewritten.
            folder = new.replace(".", "/")
            (pkg / "__init__.py").write_text(f'"""The ``{folder}/`` package."""\n')
            if git:
                subprocess.run(
                    ["git", "-C", str(root), "add", str(pkg / "__init__.py")], check=True
                )
            done.append(f"created {pkg.relative_to(root)}/__init__.py")
    return done


def _ruff(root: Path, paths: list[Path]) -> None:
    # The project's own ruff (beside this Python, i.e. in the venv) before any on PATH.
    beside = Path(sys.executable).with_name("ruff")
    ruff = str(beside) if beside.exists() else shutil.which("ruff") or str(beside)
    py = [str(p) for p in paths if p.suffix == ".py"]
    if not py or not Path(ruff).exists():
        return
    subprocess.run([ruff, "check", "-q", "--fix", "--select", "I", *py], cwd=root)
    subprocess.run([ruff, "format", "-q", *py], cwd=root)


def check(root: Path, moves: Moves) -> list[str]:
    """Every file still at an old place and every line still naming an old path."""
    out = [f"{s.relative_to(root)}: still at its old place" for s, _ in _file_moves(root, moves)]
    for path in _files(root):
        new = rewrite_file(path, moves)
        if new is None:
            continue
        old_lines = path.read_text().splitlines()
        new_lines = new.splitlines()
        rel = path.relative_to(root)
        shown = 0
        for i, line in enumerate(old_lines):
            if i >= len(new_lines) or line != new_lines[i]:
                out.append(f"{rel}:{i + 1}: {line.strip()}")
                shown += 1
                if path.suffix == ".py" and len(new_lines) != len(old_lines):
                    break  # an import split: later lines are shifted, not wrong
        if not shown:
            out.append(f"{rel}: names an old path")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="checkout to rewrite")
    parser.add_argument("--moves", type=Path, help=f"moves file (default: ROOT/{MOVES_FILE})")
    parser.add_argument("--check", action="store_true", help="change nothing; list old paths")
    parser.add_argument("--no-ruff", action="store_true", help="do not sort/format with ruff")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    moves = Moves.load(args.moves or root / MOVES_FILE)
    if args.check:
        left = check(root, moves)
        for line in left:
            print(line)
        return 1 if left else 0
    problems: list[str] = []
    for line in move_files(root, moves, problems):
        print(line)
    changed = []
    for path in _files(root):
        new = rewrite_file(path, moves)
        if new is not None:
            path.write_text(new)
            changed.append(path)
            print(f"rewrote {path.relative_to(root)}")
    if changed and not args.no_ruff:
        _ruff(root, changed)
    for p in problems:
        print(f"problem: {p}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
