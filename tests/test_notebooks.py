"""Execute every notebook in ``notebooks/`` top to bottom against local engines and servers.

``IDCBQ_LOCAL_SANDBOX=1`` is the one setting that switches the notebooks' Google cells to
the BigQuery emulator and a fake GCS server (see notebooks/_build.py). The kernel is the
current interpreter (the project venv), so the notebooks import this checkout of idcbq.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
NAMES = [
    "01_getting_started.ipynb",
    "02_bigquery_in_colab.ipynb",
    "03_cohort_to_files.ipynb",
    "04_write_your_own_template.ipynb",
]
#: Per-notebook execution budget in seconds (the goal is well under a minute each).
BUDGET_S = 120


@pytest.fixture(scope="module")
def kernel_env(tmp_path_factory, sample_root):
    """A ``python3`` kernelspec for this interpreter, first on JUPYTER_PATH."""
    base = tmp_path_factory.mktemp("jupyter")
    spec_dir = base / "kernels" / "python3"
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (idcbq venv)",
        "language": "python",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    return {"JUPYTER_PATH": str(base), "IDCBQ_SAMPLE_ROOT": str(sample_root)}


def run_notebook(name: str, env: dict[str, str], monkeypatch) -> tuple[object, float]:
    import nbformat
    from nbclient import NotebookClient

    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("IDCBQ_LOCAL_SANDBOX", "1")
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    for var in ("IDCBQ_BIGQUERY_API_ENDPOINT", "GOOGLE_CLOUD_PROJECT", "IDCBQ_TEMPLATES"):
        monkeypatch.delenv(var, raising=False)
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = NotebookClient(
        nb,
        kernel_name="python3",
        timeout=BUDGET_S,
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    began = time.monotonic()
    client.execute()  # raises CellExecutionError on the first failing cell
    return nb, time.monotonic() - began


def outputs_of(nb, tag: str) -> list[dict]:
    cells = [c for c in nb.cells if tag in c.get("metadata", {}).get("tags", [])]
    assert cells, f"no cell tagged {tag!r}"
    return [o for c in cells for o in c.get("outputs", [])]


def text_of(nb, tag: str) -> str:
    parts = []
    for out in outputs_of(nb, tag):
        if out.get("output_type") == "stream":
            parts.append(out["text"])
        elif "data" in out:
            parts.append(out["data"].get("text/plain", ""))
    return "".join(parts)


def assert_no_errors(nb) -> None:
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            assert out.get("output_type") != "error", f"cell {cell['id']} errored: {out}"
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                assert "Traceback" not in out["text"], f"cell {cell['id']}: {out['text']}"


def assert_stopped(url: str) -> None:
    """The notebook's last cell stopped its local server: nothing answers there any more."""
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(url, timeout=2)


def test_notebooks_are_generated_from_build_script():
    """The committed .ipynb files are exactly what notebooks/_build.py writes."""
    proc = subprocess.run(
        [sys.executable, str(NOTEBOOKS / "_build.py"), "--check"], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("name", NAMES)
def test_notebook_has_badge_and_guarded_install(name):
    import nbformat

    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    first, install = nb.cells[0], nb.cells[1]
    assert (
        f"colab.research.google.com/github/idcbq/idcbq/blob/main/notebooks/{name}" in first.source
    )
    assert 'find_spec("idcbq") is None' in install.source
    # Not on PyPI yet: the install cell says so, installs an uploaded wheel or the
    # repository named by IDCBQ_PIP_SPEC, and stops with one line when it has neither.
    assert "not on PyPI yet" in install.source
    assert "%pip install --quiet {spec}" in install.source
    assert "IDCBQ_PIP_SPEC" in install.source


@pytest.mark.parametrize("name", ["02_bigquery_in_colab.ipynb", "03_cohort_to_files.ipynb"])
def test_placeholder_billing_project_stops_run_all(name, kernel_env, monkeypatch):
    """Outside the sandbox with no project set, "Run all" stops at the setup cell, one line."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    for key, value in kernel_env.items():
        monkeypatch.setenv(key, value)
    for var in ("IDCBQ_LOCAL_SANDBOX", "GOOGLE_CLOUD_PROJECT", "IDCBQ_PROJECT", "IDCBQ_ENGINE"):
        monkeypatch.delenv(var, raising=False)
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = NotebookClient(
        nb,
        kernel_name="python3",
        timeout=BUDGET_S,
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    with pytest.raises(CellExecutionError):
        client.execute()
    setup = next(c for c in nb.cells if "setup" in c.get("metadata", {}).get("tags", []))
    (error,) = [o for o in setup.outputs if o["output_type"] == "error"]
    assert error["traceback"][0].startswith("error: no billing project: replace my-gcp-project")
    assert error["traceback"][1].startswith("  hint: ") and len(error["traceback"]) == 2
    later = nb.cells[nb.cells.index(setup) + 1 :]
    assert not any(c.get("outputs") for c in later if c.cell_type == "code"), "Run all went on"


def test_capped_queries_print_an_estimate_first_and_cap_at_50gb():
    """The BigQuery clients with a real cap use 50 GB and print an estimate before querying."""
    import nbformat

    for name in ("02_bigquery_in_colab.ipynb", "03_cohort_to_files.ipynb"):
        nb = nbformat.read(NOTEBOOKS / name, as_version=4)
        code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
        assert 'max_bytes_billed="10GB"' not in code, name
        assert 'max_bytes_billed="50GB"' in code, name
        first_query = code.index('.query("cohort.series_by_modality"')
        assert code.index("estimate: ") < first_query, name


@pytest.mark.slow
def test_01_getting_started(kernel_env, monkeypatch):
    nb, seconds = run_notebook("01_getting_started.ipynb", kernel_env, monkeypatch)
    assert_no_errors(nb)
    from idcbq.templates import builtin_dir

    listed = text_of(nb, "templates")
    for path in builtin_dir().glob("*.sql"):
        assert path.stem in listed, f"template {path.stem} missing from the listing"
    assert re.search(r"^[1-9]\d* series in \d+ ms", text_of(nb, "template-query"), re.M)
    images = [o for o in outputs_of(nb, "plot") if "image/png" in o.get("data", {})]
    assert len(images) == 2, "both plots must render"
    print(f"01 ran in {seconds:.1f} s")


@pytest.mark.slow
@pytest.mark.bigquery
def test_02_bigquery_in_colab(kernel_env, monkeypatch):
    nb, seconds = run_notebook("02_bigquery_in_colab.ipynb", kernel_env, monkeypatch)
    assert_no_errors(nb)
    setup = text_of(nb, "setup")
    url = re.search(r"BigQuery emulator at (http://127\.0\.0\.1:\d+)", setup)
    assert url, setup
    rows = re.search(r"^(\d+) rows", text_of(nb, "magic-rows"), re.M)
    assert rows and int(rows.group(1)) > 0, "the %%idcbq cell returned no rows"
    assert "Modality" in text_of(nb, "magic-template")
    assert "This query will process" in text_of(nb, "dry-run")
    assert "refused by the cost guard" in text_of(nb, "cost-cap")
    assert "identical: True" in text_of(nb, "both-engines")
    assert_stopped(url.group(1) + "/healthz")
    print(f"02 ran in {seconds:.1f} s")


@pytest.mark.slow
@pytest.mark.gcs
def test_03_cohort_to_files(kernel_env, monkeypatch):
    nb, seconds = run_notebook("03_cohort_to_files.ipynb", kernel_env, monkeypatch)
    assert_no_errors(nb)
    setup = text_of(nb, "setup")
    url = re.search(r"at (http://127\.0\.0\.1:\d+) \(gcs\)", setup)
    assert url, setup
    assert re.search(r"; 0 mismatched", setup)
    manifest = text_of(nb, "manifest")
    assert re.search(r"^[1-9]\d* files; manifests in", manifest, re.M), manifest
    download = text_of(nb, "download")
    assert download.startswith("OK: "), download
    assert "all verified: True" in download
    assert "SOPInstanceUID in the cohort: True" in text_of(nb, "pydicom")
    assert_stopped(url.group(1) + "/storage/v1/b")
    print(f"03 ran in {seconds:.1f} s")


@pytest.mark.slow
def test_04_write_your_own_template(kernel_env, monkeypatch):
    nb, seconds = run_notebook("04_write_your_own_template.ipynb", kernel_env, monkeypatch)
    assert_no_errors(nb)
    assert "checked 1 template(s): 0 problem(s)" in text_of(nb, "check")
    assert "@body_part" in text_of(nb, "render")
    assert re.search(r"^[1-9]\d* series", text_of(nb, "run"), re.M)
    broken = text_of(nb, "check-broken")
    assert "BodyPart" in broken and "1 problem(s)" in broken, broken
    assert "my.series_by_body_part.sql" in broken, "the error must name the file"
    err = text_of(nb, "validation-error")
    assert err.startswith("ValidationError") and "BodyPart" in err, err
    assert "ParameterError" in text_of(nb, "param-error")
    print(f"04 ran in {seconds:.1f} s")


@pytest.mark.slow
@pytest.mark.gcs
def test_download_api_inside_a_running_event_loop(seeded_gcs, gcs_server, tmp_path):
    import asyncio

    import pyarrow as pa

    from idcbq.download import download

    rows = pa.Table.from_pylist(seeded_gcs.rows[:4])

    async def in_a_notebook_cell():
        return download(rows, tmp_path / "files", endpoint=gcs_server.url, quiet=True)

    report = asyncio.run(in_a_notebook_cell())
    assert report.ok and report.downloaded == 4, report.summary()
