"""The package's layout stays readable: imports flow one way, modules stay small.

Every ``import`` statement of ``idcbq/`` counts, wherever it sits: at the top, inside a
function (a lazy import still ties the two modules together) or under ``TYPE_CHECKING``.
See docs/architecture.md for the floors these rules keep apart.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "idcbq"
MAX_LINES = 500
#: The public face: the only modules allowed at the root of the package.
ROOT_MODULES = {
    "__init__",
    "__main__",
    "api",
    "result",
    "params",
    "errors",
    "config",
    "magics",
    "demo",
}


def _modules() -> dict[str, tuple[Path, bool]]:
    """``{dotted name: (file, is a package)}`` for every module of the package."""
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(REPO).with_suffix("").parts)
        is_pkg = parts[-1] == "__init__"
        out[".".join(parts[:-1] if is_pkg else parts)] = (path, is_pkg)
    return out


MODULES = _modules()


def _imports(name: str) -> list[tuple[int, str, str | None]]:
    """``(line, imported module, imported name or None)`` for each import of a module."""
    path, is_pkg = MODULES[name]
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name, None) for a in node.names if a.name in MODULES]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                here = name.split(".") if is_pkg else name.split(".")[:-1]
                here = here[: len(here) - (node.level - 1)]
                base = ".".join([*here, *([node.module] if node.module else [])])
            if base.split(".")[0] != "idcbq":
                continue
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                if sub in MODULES:
                    out.append((node.lineno, sub, None))
                else:
                    out.append((node.lineno, base, alias.name))
    return out


def _graph() -> dict[str, set[str]]:
    return {m: {t for _, t, _ in _imports(m) if t != m} for m in MODULES}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def _path_in(comp: list[str], graph: dict[str, set[str]]) -> list[str]:
    """One circle through a component's first module, for the failure message."""
    start, members = comp[0], set(comp)
    seen = {start: [start]}
    todo = [start]
    while todo:
        v = todo.pop(0)
        for w in sorted(graph[v] & members):
            if w == start:
                return [*seen[v], start]
            if w not in seen:
                seen[w] = [*seen[v], w]
                todo.append(w)
    return comp


def test_the_cycle_finder_finds_a_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"]]
    assert _path_in(["a", "b", "c"], graph) == ["a", "b", "c", "a"]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles_between_modules():
    graph = _graph()
    circles = [
        f"{' -> '.join(_path_in(c, graph))}  (a circle among {len(c)}: {', '.join(c)})"
        for c in _cycles(graph)
    ]
    assert not circles, "import circles:\n" + "\n".join(circles)


def test_no_module_imports_a_private_name_of_another():
    bad = []
    for name in MODULES:
        for line, target, imported in _imports(name):
            last = imported or target.rsplit(".", 1)[-1]
            if last.startswith("_") and not last.startswith("__"):
                path = MODULES[name][0].relative_to(REPO)
                bad.append(f"{path}:{line}: {target}{'.' + imported if imported else ''}")
    assert not bad, "private names taken from another module:\n" + "\n".join(bad)


def test_no_module_over_500_lines():
    long = [
        f"{path.relative_to(REPO)}: {n} lines"
        for path, _ in MODULES.values()
        if (n := len(path.read_text().splitlines())) > MAX_LINES
    ]
    assert not long, "\n".join(long)


def test_the_root_holds_only_the_public_face_and_packages():
    loose = sorted(
        p.name for p in PACKAGE.iterdir() if p.suffix == ".py" and p.stem not in ROOT_MODULES
    )
    assert not loose, f"modules at the root of idcbq/ (move them into a package): {loose}"
    for d in PACKAGE.iterdir():
        if d.is_dir() and d.name not in ("__pycache__", "data") and any(d.glob("*.py")):
            assert (d / "__init__.py").is_file(), f"{d.relative_to(REPO)} has no __init__.py"


@pytest.mark.parametrize("module", ["idcbq", "idcbq.api", "idcbq.magics", "idcbq.cli"])
def test_what_users_import_does_not_import_the_testing_package(module, tmp_path):
    code = (
        f"import sys, {module}\n"
        "print(sorted(m for m in sys.modules if m.startswith('idcbq.testing')))\n"
    )
    out = tmp_path / "out.txt"
    with open(out, "w") as fh:
        proc = subprocess.run(
            [sys.executable, "-c", code], cwd=REPO, stdout=fh, stderr=subprocess.STDOUT
        )
    text = out.read_text()
    assert proc.returncode == 0, text
    assert text.strip() == "[]", f"import {module} imported {text.strip()}"


def test_names_of_the_old_sources_module_still_import_from_the_package():
    """The names of the old one-file ``sources`` module (``ensure_sample``...) import as before.

    Spelled through the package object so that tests/tools/rewrite_moves.py leaves it be.
    """
    import importlib

    import idcbq.sources.releases as releases
    from idcbq.sources.sample import ensure_sample

    package = importlib.import_module(releases.__name__.rpartition(".")[0])
    assert package.ensure_sample is ensure_sample
    assert package.IdcVersion is releases.IdcVersion
    with pytest.raises(AttributeError):
        package.no_such_name  # noqa: B018
