"""Install the built wheel into a venv holding Google Colab's stack: nothing it holds changes.

A fresh venv gets exactly ``tests/colab/constraints.txt`` (Colab's numpy, pandas, pyarrow,
google-cloud-*, IPython, fsspec, gcsfs, protobuf, grpcio, duckdb ... and bigframes, which
pins ``rich<14``), once as is and once without gcsfs (issue 17 o), then the idcbq wheel
is installed with plain ``pip``, as ``%pip install`` does in a notebook. The tests check
that no preinstalled package changed (but duckdb, below idcbq's lower bound), that ``pip check`` is clean, and that idcbq works
there in a process that imported pandas first (the session state in which a pyarrow
upgrade used to break ``to_pandas()``), from Python and from the IPython magic.

This needs the package index (the venv is built from it), so it is marked ``install`` and
runs as its own step: ``make test-install`` (``.ci/run`` calls it); ``make test`` leaves it
out. Timings and the package changes go to ``install-report.json`` in the test's tmp dir
and are printed (``-s`` or ``-rP`` shows them).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.install, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[1]
CONSTRAINTS = REPO / "tests" / "colab" / "constraints.txt"
#: Colab packages installing idcbq may move, each with its reason: duckdb, because idcbq
#: needs duckdb>=1.5.5 (its httpfs extension wheel exists for that exact version).
MAY_MOVE = {"duckdb"}
#: The stack with gcsfs, as Colab ships it, and without it (a user's or a slimmer
#: runtime): in neither may installing idcbq pull gcsfs or move google-cloud-storage.
STACKS = ("with-gcsfs", "without-gcsfs")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pinned(path: Path) -> dict[str, str]:
    """``name==version`` lines of a constraints file."""
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            pins[canonical(name)] = version.strip()
    return pins


def installed(python: Path) -> dict[str, str]:
    out = run([str(python), "-m", "pip", "list", "--format", "json"]).stdout
    return {canonical(p["name"]): p["version"] for p in json.loads(out)}


def run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    assert proc.returncode == 0, f"{cmd}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


def stack_pins(stack: str) -> dict[str, str]:
    """The pinned Colab packages of one stack variant."""
    pins = pinned(CONSTRAINTS)
    if stack == "without-gcsfs":
        pins.pop("gcsfs")
        pins.pop("bigframes")  # bigframes requires gcsfs: it would bring it back
    return pins


@pytest.fixture(scope="module", params=STACKS)
def colab(request, tmp_path_factory):
    """The Colab-like venv after installing the wheel, with before/after package lists."""
    stack = request.param
    uv = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    assert uv, "uv is installed in the project venv by `make venv`"
    base = tmp_path_factory.mktemp("colab")
    venv = base / "venv"
    python = venv / "bin" / "python"
    timings = {}

    began = time.monotonic()
    run([uv, "venv", "-q", "--seed", "--python", "3.11", str(venv)])
    requirements = base / "colab-stack.txt"
    requirements.write_text("".join(f"{n}=={v}\n" for n, v in stack_pins(stack).items()))
    run([uv, "pip", "install", "-q", "--python", str(python), "-r", str(requirements)])
    timings["colab_stack_s"] = round(time.monotonic() - began, 1)
    before = installed(python)

    began = time.monotonic()
    dist = base / "dist"
    run([uv, "build", "-q", "--wheel", "--out-dir", str(dist), str(REPO)])
    (wheel,) = dist.glob("idcbq-*.whl")
    timings["build_wheel_s"] = round(time.monotonic() - began, 1)

    began = time.monotonic()
    pip = run([str(python), "-m", "pip", "install", "--disable-pip-version-check", str(wheel)])
    timings["pip_install_wheel_s"] = round(time.monotonic() - began, 1)
    after = installed(python)

    changed = {
        name: [before[name], after.get(name)] for name in before if after.get(name) != before[name]
    }
    added = {name: version for name, version in after.items() if name not in before}
    report = {
        "stack": stack,
        "timings": timings,
        "wheel": wheel.name,
        "changed": changed,
        "added": added,
        "colab_stack": {name: before.get(name) for name in stack_pins(stack)},
    }
    (base / "install-report.json").write_text(json.dumps(report, indent=2))
    print("\ncolab install report:", json.dumps(report, indent=2))
    return {
        "stack": stack,
        "python": python,
        "before": before,
        "after": after,
        "report": report,
        "pip": pip,
    }


def test_colab_stack_is_what_the_constraints_say(colab):
    for name, version in stack_pins(colab["stack"]).items():
        assert colab["before"].get(name) == version, name
    assert ("gcsfs" in colab["before"]) == (colab["stack"] == "with-gcsfs")


def test_installing_the_wheel_changes_no_preinstalled_package(colab):
    assert colab["after"].get("idcbq") == "0.1.0"
    changed = colab["report"]["changed"]
    assert set(changed) <= MAY_MOVE, changed
    # Without gcsfs, installing idcbq does not bring it (nor its google-cloud-storage 3).
    assert "gcsfs" not in colab["report"]["added"], colab["report"]["added"]
    assert colab["after"]["google-cloud-storage"] == pinned(CONSTRAINTS)["google-cloud-storage"]


def test_pip_check_is_clean(colab):
    proc = subprocess.run(
        [str(colab["python"]), "-m", "pip", "check"], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


SESSION = """
import json
import pandas as pd  # a notebook session that imported pandas before idcbq

from IPython.core.interactiveshell import InteractiveShell

import idcbq

frame = idcbq.connect().query("summary.modalities").to_pandas()
assert isinstance(frame, pd.DataFrame) and len(frame) > 0, frame

shell = InteractiveShell.instance()
loaded = shell.run_cell("%load_ext idcbq")
cell = shell.run_cell(
    "%%idcbq by_modality --engine duckdb\\n"
    "SELECT Modality, COUNT(*) AS n FROM dicom_all GROUP BY Modality"
)
failing = shell.run_cell("%%idcbq --engine duckdb\\nSELECT nope FROM dicom_all")
print(json.dumps({
    "pandas": pd.__version__,
    "api_rows": len(frame),
    "load_ext_ok": loaded.success,
    "cell_ok": cell.success,
    "cell_rows": len(shell.user_ns.get("by_modality", [])),
    "failing_ok": failing.success,
    "failing_error": type(failing.error_in_exec).__name__,
}))
"""


def test_api_and_magic_work_in_a_session_that_imported_pandas_first(colab, sample_root):
    env = {**os.environ, "IDCBQ_SAMPLE_ROOT": str(sample_root)}
    for name in ("IDCBQ_ENGINE", "IDCBQ_SOURCE", "IDCBQ_CONFIG", "PYTHONPATH"):
        env.pop(name, None)
    env["IDCBQ_CONFIG"] = os.devnull  # an empty config: built-in defaults
    proc = run([str(colab["python"]), "-c", textwrap.dedent(SESSION)], env=env, cwd="/")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["pandas"] == pinned(CONSTRAINTS)["pandas"]
    assert result["api_rows"] > 0
    assert result["load_ext_ok"] and result["cell_ok"] and result["cell_rows"] > 0, proc.stdout
    assert not result["failing_ok"] and result["failing_error"] == "ValidationError", result
    assert "error: <sql>:1:8: unknown column nope" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr
