"""Write the Colab notebooks in ``notebooks/`` from the Python source below.

The notebooks are generated so their content can be reviewed as plain Python and kept
consistent (badge, install cell, local-sandbox switch). Run after editing::

    .venv/bin/python notebooks/_build.py          # writes notebooks/*.ipynb
    .venv/bin/python notebooks/_build.py --check  # exit 1 if a .ipynb is out of date

One environment setting switches every cell that would talk to Google to local servers:
``IDCBQ_LOCAL_SANDBOX=1`` (the BigQuery emulator loaded with the embedded sample, and a
fake GCS server seeded with the sample's DICOM files). ``make test`` sets it; in Colab it
is unset and the notebooks use real Google services.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent
COLAB = "https://colab.research.google.com/github/idcbq/idcbq/blob/main/notebooks/{file}"
BADGE = "https://colab.research.google.com/assets/colab-badge.svg"

#: Sandbox switch. Tests and `make test` set it; Colab users never do.
SANDBOX_ENV = "IDCBQ_LOCAL_SANDBOX"


def md(text: str) -> dict:
    return new_markdown_cell(text.strip("\n"))


def code(text: str, *tags: str) -> dict:
    cell = new_code_cell(text.strip("\n"))
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def header(file: str, title: str, intro: str) -> list[dict]:
    return [
        md(
            f"[![Open In Colab]({BADGE})]({COLAB.format(file=file)})\n\n# {title}\n\n{intro.strip()}"
        ),
        code(
            """
# idcbq is not on PyPI yet. This cell installs it from a wheel you upload to the Colab
# session (Files pane; build one with `uv build --wheel` in a checkout), or else from
# IDCBQ_PIP_SPEC: a pip requirement such as "idcbq @ git+https://<host>/<owner>/idcbq.git"
# naming the repository you got idcbq from. Colab's preinstalled pandas, pyarrow and
# google-cloud-* stay as they are: no runtime restart needed.
# Skipped when idcbq is already importable (a local checkout, or a re-run).
import glob
import importlib.util
import os

IDCBQ_PIP_SPEC = os.environ.get("IDCBQ_PIP_SPEC", "")  # or paste the requirement here

if importlib.util.find_spec("idcbq") is None:
    wheels = sorted(glob.glob("idcbq-*.whl") + glob.glob("/content/idcbq-*.whl"))
    spec = wheels[-1] if wheels else IDCBQ_PIP_SPEC
    if not spec:
        raise SystemExit(
            "idcbq is not on PyPI yet: upload an idcbq-*.whl to this session, "
            "or set IDCBQ_PIP_SPEC to the repository's pip requirement, then re-run this cell"
        )
    %pip install --quiet {spec}
""",
            "install",
        ),
    ]


SWITCH = f"""
import os
import sys

# One switch: IDCBQ_LOCAL_SANDBOX=1 replaces Google (BigQuery, Cloud Storage) with local
# servers holding the embedded sample. `make test` sets it; leave it unset in Colab.
SANDBOX = os.environ.get("{SANDBOX_ENV}") == "1"
IN_COLAB = "google.colab" in sys.modules
"""

# Loads only what the notebook queries: the emulator needs ~5 s per table.
BQ_SANDBOX = """
    import atexit

    from idcbq.sources.sample import ensure_sample
    from idcbq.testing.bqemulator import DATA_PROJECT, BigQueryEmulator, export_tables, load_table

    emulator = BigQueryEmulator().start()
    atexit.register(emulator.stop)  # also stopped in the last cell
    bq_admin = emulator.client()
    files = export_tables(ensure_sample())["idc_current"]
    bq_admin.create_dataset(f"{DATA_PROJECT}.idc_current", exists_ok=True)
    for table in ("dicom_all",):
        load_table(bq_admin, f"{DATA_PROJECT}.idc_current.{table}", files[table])
    # Every BigQuery client idcbq makes (API, magics, CLI) follows these two settings.
    os.environ["IDCBQ_BIGQUERY_API_ENDPOINT"] = emulator.url
    os.environ["GOOGLE_CLOUD_PROJECT"] = emulator.project
    print(f"sandbox: BigQuery emulator at {emulator.url} (sample loaded)")
"""


# --------------------------------------------------------------------------------------
# 01: getting started on the embedded DuckDB sample
# --------------------------------------------------------------------------------------


def getting_started() -> list[dict]:
    file = "01_getting_started.ipynb"
    return [
        *header(
            file,
            "Getting started with idcbq",
            """
idcbq runs **named, checked SQL templates** over the metadata of the NCI
[Imaging Data Commons](https://portal.imaging.datacommons.cancer.gov/) (IDC), on Google
BigQuery or on DuckDB over IDC's Parquet exports, with the same results.

This notebook needs no Google account: it uses the **embedded sample**, a small export
in IDC's Parquet layout (12 collections) built locally from `idc-index-data`, queried
with DuckDB.
""",
        ),
        md("## Connect to the embedded sample"),
        code(
            """
import json

import idcbq
from idcbq.sources.sample import ensure_sample

root = ensure_sample()  # built once (a few seconds), then reused
info = json.loads((root / "idcbq_sample.json").read_text())
print(f"IDC v{info['idc_version']} sample: {len(info['collections'])} collections, "
      f"{info['counts']['series']} series, {info['counts']['rows']['dicom_all']:,} dicom_all rows")

client = idcbq.connect("duckdb")  # default source: the embedded sample
client
"""
        ),
        md(
            """
## The template library

Every template is a `.sql` file with a YAML header (parameters and their types,
tables, examples). `client.templates` lists them.
"""
        ),
        code(
            """
import pandas as pd

pd.set_option("display.max_colwidth", 100)
catalog = pd.DataFrame([{"name": t.name, "description": t.description} for t in client.templates])
catalog
""",
            "templates",
        ),
        md(
            """
## Run a template

Parameters are keyword arguments, typed by the template header. `render` shows what
would run: the BigQuery SQL (the template's own dialect) and the DuckDB SQL it is
transpiled to, with the parameters bound, never pasted into the text.
"""
        ),
        code(
            """
rendered = client.render("cohort.series_by_modality", modalities=["CT", "MR", "PT"])
print(rendered.bigquery_sql)
print("-- DuckDB:")
print(rendered.engine_sql)
pd.DataFrame(rendered.param_table())
"""
        ),
        code(
            """
result = client.query("cohort.series_by_modality", modalities=["CT", "MR", "PT"])
series = result.to_pandas()
print(f"{len(series)} series in {result.elapsed_s * 1000:.0f} ms")
series.head()
""",
            "template-query",
        ),
        code(
            """
client.query("summary.collections").to_pandas()
"""
        ),
        md(
            """
## Ad-hoc BigQuery SQL

`client.sql` takes BigQuery SQL with `@name` parameters; it is validated (tables,
columns, parameter types) and runs on whichever engine the client uses.
"""
        ),
        code(
            """
per_modality = client.sql(
    \"\"\"
    SELECT collection_id, Modality, COUNT(DISTINCT SeriesInstanceUID) AS series,
           SUM(instance_size) AS size_bytes
    FROM `bigquery-public-data.idc_current.dicom_all`
    WHERE Modality IN UNNEST(@modalities)
    GROUP BY collection_id, Modality
    ORDER BY collection_id, Modality
    \"\"\",
    params={"modalities": ["CT", "MR", "PT", "SEG", "SM", "RTSTRUCT", "SR"]},
).to_pandas()
per_modality.head(10)
""",
            "adhoc-sql",
        ),
        md("## Look rather than read"),
        code(
            """
import matplotlib.pyplot as plt

counts = per_modality.pivot_table(
    index="collection_id", columns="Modality", values="series", aggfunc="sum", fill_value=0
).astype(int)
ax = counts.plot.barh(stacked=True, figsize=(9, 5), colormap="tab10")
ax.set_xlabel("series")
ax.set_ylabel("")
ax.set_title("Series per modality and collection (sample)")
ax.legend(title="Modality", bbox_to_anchor=(1.01, 1), loc="upper left")
plt.tight_layout()
plt.show()
""",
            "plot",
        ),
        code(
            """
import numpy as np

fig, ax = plt.subplots(figsize=(9, 4))
bins = np.logspace(np.log10(max(series["series_size_bytes"].min(), 1)),
                   np.log10(series["series_size_bytes"].max()), 30)
for modality, group in series.groupby("Modality"):
    ax.hist(group["series_size_bytes"].astype(float), bins=bins, alpha=0.6, label=modality)
ax.set_xscale("log")
ax.set_xlabel("series size (bytes)")
ax.set_ylabel("series")
ax.set_title("Series size distribution")
ax.legend()
plt.show()
""",
            "plot",
        ),
        md(
            """
## Where a result came from

Every result carries its provenance: engine, IDC version, SQL, parameters, timing.
Next: `02_bigquery_in_colab.ipynb` runs the same templates on BigQuery.
"""
        ),
        code(
            """
{k: v for k, v in result.provenance().items() if k not in ("sql", "source_sql")}
"""
        ),
    ]


# --------------------------------------------------------------------------------------
# 02: BigQuery in Colab
# --------------------------------------------------------------------------------------


def bigquery_in_colab() -> list[dict]:
    file = "02_bigquery_in_colab.ipynb"
    return [
        *header(
            file,
            "BigQuery in Colab: the `%%idcbq` magic, dry runs and cost caps",
            """
IDC's metadata is public in BigQuery (`bigquery-public-data.idc_current.*`); queries
are billed to **your** Google Cloud project. This notebook signs in, runs SQL cells
with the `%%idcbq` magic, estimates cost before running, sets a cost cap, and runs the
same template on BigQuery and DuckDB.
""",
        ),
        md(
            """
## Sign in

In Colab, `authenticate_user()` opens the Google sign-in. Put your billing project in
`GOOGLE_CLOUD_PROJECT`: idcbq (API, magics and CLI) reads it.
"""
        ),
        code(
            SWITCH
            + """
if SANDBOX:
"""
            + BQ_SANDBOX
            + """
else:
    if IN_COLAB:
        from google.colab import auth

        auth.authenticate_user()
    PROJECT = os.environ.get("GOOGLE_CLOUD_PROJECT") or "my-gcp-project"  # <- your project
    if PROJECT == "my-gcp-project":
        from idcbq.magics import stop

        stop(
            "no billing project: replace my-gcp-project in this cell with your Google Cloud "
            "project, then run the notebook again",
            hint="queries are billed to it; or set GOOGLE_CLOUD_PROJECT before this cell",
        )
    os.environ["GOOGLE_CLOUD_PROJECT"] = PROJECT
PROJECT = os.environ["GOOGLE_CLOUD_PROJECT"]
# %idcbq / %%idcbq take their defaults like the CLI (flag > env > config): BigQuery here.
os.environ["IDCBQ_ENGINE"] = "bigquery"
print("billing project:", PROJECT)
""",
            "setup",
        ),
        md(
            """
## The `%%idcbq` magic

A cell of BigQuery SQL; `--params` is a JSON object bound as query parameters. With a
variable name the result is stored as a DataFrame instead of displayed.
"""
        ),
        code("%load_ext idcbq"),
        code(
            """
%%idcbq series_per_modality --params {"modalities": ["CT", "MR", "PT"]}
SELECT Modality, collection_id, COUNT(DISTINCT SeriesInstanceUID) AS series
FROM `bigquery-public-data.idc_current.dicom_all`
WHERE Modality IN UNNEST(@modalities)
GROUP BY Modality, collection_id
ORDER BY Modality, collection_id
""",
            "magic-cell",
        ),
        code(
            """
print(f"{len(series_per_modality)} rows")
series_per_modality.head()
""",
            "magic-rows",
        ),
        md("`%idcbq NAME` runs a named template; `-p name=value` sets its parameters."),
        code(
            """
%idcbq summary.modalities -p collection_ids=qin_lung_ct,mri_dir,qin_pet_phantom
""",
            "magic-template",
        ),
        md(
            """
## Know the cost before you pay it

`--dry-run` asks BigQuery how many bytes the query would scan, without running it.
(BigQuery bills at least 10 MiB per query; the local emulator reports 0 bytes scanned.)
"""
        ),
        code(
            """
%%idcbq --dry-run
SELECT SeriesInstanceUID, instance_size
FROM `bigquery-public-data.idc_current.dicom_all`
WHERE collection_id = 'qin_lung_ct'
""",
            "dry-run",
        ),
        md(
            """
`--max-bytes-billed` (magic) or `max_bytes_billed=` (Python) is a cost cap: idcbq
estimates first and refuses a query above the cap before anything is billed (BigQuery
enforces the same cap on the job itself). A refused `%%idcbq` cell fails like any error,
so "Run all" stops there; to see a refusal and carry on, this cell uses Python with a
deliberately tiny cap:
"""
        ),
        code(
            """
import idcbq
from idcbq.errors import CostCapError

bq = idcbq.connect("bigquery", project=PROJECT, max_bytes_billed="1MB")
print(f"estimate: {bq.estimate('cohort.series_by_modality', modalities=['CT']):,} bytes")
try:
    bq.query("cohort.series_by_modality", modalities=["CT"])
except CostCapError as exc:
    print("refused:", exc)
""",
            "cost-cap",
        ),
        md(
            """
## The same template on both engines

The template is written once in BigQuery SQL; for DuckDB it is transpiled. In the
sandbox both engines read the same sample rows. In Colab, DuckDB reads IDC's own
Parquet export of the same release (`source="idc"`), so the results agree there too.
"""
        ),
        code(
            """
# cohort.series_by_modality reads a few columns of every dicom_all row: about 15 GB in
# IDC today (the emulator reports 0). A 50 GB cap leaves room for IDC to grow and still
# refuses a query that reads far more (a SELECT * over dicom_all); print the estimate first.
bq = idcbq.connect("bigquery", project=PROJECT, max_bytes_billed="50GB")
duck = idcbq.connect("duckdb", source=None if SANDBOX else "idc")
params = {"modalities": ["PT", "CT"], "collection_id": "qin_pet_phantom"}
print(f"estimate: {bq.estimate('cohort.series_by_modality', **params):,} bytes (cap 50 GB)")
on_bq = bq.query("cohort.series_by_modality", **params).to_arrow()
on_duck = duck.query("cohort.series_by_modality", **params).to_arrow()
print(f"BigQuery: {on_bq.num_rows} rows, DuckDB: {on_duck.num_rows} rows")
print("identical:", on_bq.num_rows > 0 and on_bq.to_pylist() == on_duck.to_pylist())
on_duck.to_pandas().head()
""",
            "both-engines",
        ),
        code(
            """
print(duck.render("cohort.series_by_modality", **params).engine_sql)
"""
        ),
        code(
            """
# Clean up: close the clients (and stop the local emulator in the sandbox).
bq.close()
duck.close()
if SANDBOX:
    emulator.stop()
""",
            "cleanup",
        ),
    ]


# --------------------------------------------------------------------------------------
# 03: from a cohort to downloaded, verified files
# --------------------------------------------------------------------------------------


def cohort_to_files() -> list[dict]:
    file = "03_cohort_to_files.ipynb"
    return [
        *header(
            file,
            "From a cohort to downloaded files",
            """
Pick a cohort with a template, turn it into download manifests (s5cmd, URL list,
JSONL), download the DICOM files from IDC's public Cloud Storage buckets with MD5
verification (resumable, atomic), and open one with pydicom.
""",
        ),
        code(
            SWITCH.replace("import sys\n", "import sys\n\nimport idcbq\n")
            + """
if SANDBOX:
    import atexit
    from concurrent.futures import ThreadPoolExecutor

    from idcbq.sources.sample.seed import seed_gcs
    from idcbq.sources.sample import ensure_sample
    from idcbq.testing.servers import FakeGcsServer

    # A local GCS server holding real DICOM files for some series of the embedded sample.
    gcs = FakeGcsServer().start()
    atexit.register(gcs.stop)  # also stopped in the last cell
    # seed_gcs uses asyncio.run, which cannot run on the kernel's own event loop: a thread can.
    with ThreadPoolExecutor(1) as pool:
        seeded = pool.submit(seed_gcs, ensure_sample(), gcs.url, collections=["mri_dir"]).result()
    print("sandbox:", seeded.summary())
    GCS_ENDPOINT = gcs.url
    AVAILABLE = set(seeded.series)  # the series whose files the local server holds
    client = idcbq.connect("duckdb")  # the embedded sample
else:
    if IN_COLAB:
        from google.colab import auth

        auth.authenticate_user()
    PROJECT = os.environ.get("GOOGLE_CLOUD_PROJECT") or "my-gcp-project"  # <- your project
    if PROJECT == "my-gcp-project":
        from idcbq.magics import stop

        stop(
            "no billing project: replace my-gcp-project in this cell with your Google Cloud "
            "project, then run the notebook again",
            hint="queries are billed to it; or set GOOGLE_CLOUD_PROJECT before this cell",
        )
    GCS_ENDPOINT = None  # https://storage.googleapis.com, anonymous (IDC buckets are public)
    AVAILABLE = None
    # The cohort query reads a few columns of every dicom_all row (about 15 GB in IDC
    # today): a 50 GB cap fits it and refuses anything near a full scan.
    client = idcbq.connect("bigquery", project=PROJECT, max_bytes_billed="50GB")
client
""",
            "setup",
        ),
        md("## 1. Choose a cohort"),
        code(
            """
cohort_params = {"modalities": ["MR", "CT"], "collection_id": "mri_dir"}
if client.engine.name == "bigquery":  # know the cost before the capped query runs
    estimate = client.estimate("cohort.series_by_modality", **cohort_params)
    print(f"estimate: {estimate:,} bytes (cap 50 GB)")
cohort = client.query("cohort.series_by_modality", **cohort_params)
series = cohort.to_pandas()
if AVAILABLE is not None:
    series = series[series["SeriesInstanceUID"].isin(AVAILABLE)]
picked = series.sort_values("series_size_bytes").head(2)
picked[["collection_id", "PatientID", "SeriesInstanceUID", "instance_count", "series_size_bytes"]]
""",
            "cohort",
        ),
        md(
            """
## 2. Write manifests

`manifest.instances_of_series` returns one row per file with its URLs, size and MD5.
Manifests carry provenance (query, counts, bytes, licenses) in a header.
"""
        ),
        code(
            """
import tempfile
from pathlib import Path

from idcbq.manifest import write_manifest

files = client.query("manifest.instances_of_series",
                     series_uids=picked["SeriesInstanceUID"].tolist())
work = Path(tempfile.mkdtemp(prefix="idcbq-cohort-"))
for fmt, name in (("s5cmd", "cohort.s5cmd"), ("urls", "cohort.txt"), ("jsonl", "cohort.jsonl")):
    prov = write_manifest(files, work / name, format=fmt, provider="gcs")
print(f"{len(files)} files; manifests in {work}")
print({k: prov[k] for k in prov if k in ("instances", "series", "bytes", "licenses")})
""",
            "manifest",
        ),
        code(
            """
for name in ("cohort.s5cmd", "cohort.txt", "cohort.jsonl"):
    lines = (work / name).read_text().splitlines()
    print(f"== {name} ({len(lines)} lines)")
    print("\\n".join(line[:150] for line in lines[:6]))
"""
        ),
        md(
            """
## 3. Download and verify

`download()` (or `idcbq download` at the shell) checks every file against its size and
MD5 and moves it into place only when it matches; a second run skips files already
present and verified. (The s5cmd manifest works with `s5cmd run` too.)
"""
        ),
        code(
            """
from idcbq.download import download

dest = work / "files"
first = download(work / "cohort.jsonl", dest, endpoint=GCS_ENDPOINT, quiet=True)
print(first.summary())
again = download(work / "cohort.jsonl", dest, endpoint=GCS_ENDPOINT, quiet=True)
print(f"re-run: {again.skipped} already present and verified, {again.downloaded} downloaded")
print("all verified:", first.ok and again.ok and again.skipped == len(files))
""",
            "download",
        ),
        md("## 4. Open a file"),
        code(
            """
import pydicom

paths = sorted(dest.rglob("*.dcm"))
print(f"{len(paths)} files, e.g. {paths[0].relative_to(dest)}")
ds = pydicom.dcmread(paths[0])
expected = set(files.to_arrow().column("SOPInstanceUID").to_pylist())
print("Modality:", ds.Modality, "| SeriesInstanceUID:", ds.SeriesInstanceUID)
print("SOPInstanceUID in the cohort:", ds.SOPInstanceUID in expected)
""",
            "pydicom",
        ),
        code(
            """
import matplotlib.pyplot as plt

if "PixelData" in ds:
    plt.imshow(ds.pixel_array if ds.pixel_array.ndim == 2 else ds.pixel_array[0], cmap="gray")
    plt.title(f"{ds.Modality} {ds.get('SeriesDescription', '')}")
    plt.axis("off")
    plt.show()
else:
    print("no pixel data in", paths[0].name)
"""
        ),
        code(
            """
# Clean up: close the client (and stop the local GCS server in the sandbox).
client.close()
if SANDBOX:
    gcs.stop()
""",
            "cleanup",
        ),
    ]


# --------------------------------------------------------------------------------------
# 04: write your own template
# --------------------------------------------------------------------------------------

MY_TEMPLATE = """/*---
name: my.series_by_body_part
description: Series of one body part (case-insensitive), with at least some instances.
parameters:
  body_part: {type: STRING, required: true, example: PHANTOM, description: BodyPartExamined}
  min_instances: {type: INT64, default: 1}
tables: [dicom_all]
examples:
  phantoms: {body_part: phantom}
  big_prostate: {body_part: PROSTATE, min_instances: 10}
---*/
SELECT
  ANY_VALUE(collection_id) AS collection_id,
  SeriesInstanceUID,
  ANY_VALUE(Modality) AS Modality,
  COUNT(DISTINCT SOPInstanceUID) AS instances
FROM {{ table('dicom_all') }}
WHERE UPPER(BodyPartExamined) = UPPER(@body_part)
GROUP BY SeriesInstanceUID
HAVING COUNT(DISTINCT SOPInstanceUID) >= @min_instances
ORDER BY collection_id, SeriesInstanceUID
"""


def own_template() -> list[dict]:
    file = "04_write_your_own_template.ipynb"
    return [
        *header(
            file,
            "Write your own template",
            """
A template is a `.sql` file: a YAML header between `/*---` and `---*/` (name,
description, typed parameters, tables, examples) and a BigQuery SQL body where
`{{ table('dicom_all') }}` names IDC tables and `@name` marks parameters. idcbq checks
it (header, Jinja, SQL, tables, columns, parameter types) before anything runs.
""",
        ),
        code(
            f'''
import tempfile
from pathlib import Path

template_dir = Path(tempfile.mkdtemp(prefix="idcbq-templates-"))
(template_dir / "my.series_by_body_part.sql").write_text("""{MY_TEMPLATE}""")
print(f"wrote {{template_dir}}/my.series_by_body_part.sql")
''',
            "write",
        ),
        md(
            """
## Check it

`idcbq templates check DIR` renders every example and validates it against IDC's
schema without running anything: use it in CI for a template library.
"""
        ),
        code(
            """
import sys

!{sys.executable} -m idcbq templates check {template_dir}
""",
            "check",
        ),
        md(
            """
## Render it: the final SQL and the bound parameters

User directories come from `templates=[...]` (or `--templates DIR` /
`IDCBQ_TEMPLATES` on the command line). Values are bound as typed parameters, never
pasted into the SQL.
"""
        ),
        code(
            """
import pandas as pd

import idcbq

client = idcbq.connect("duckdb", templates=[template_dir])
rendered = client.render("my.series_by_body_part", body_part="phantom", min_instances=2)
print(rendered.bigquery_sql)
print("-- DuckDB:")
print(rendered.engine_sql)
pd.DataFrame(rendered.param_table())
""",
            "render",
        ),
        md("## Run it on DuckDB (the embedded sample)"),
        code(
            """
phantoms = client.query("my.series_by_body_part", body_part="phantom", min_instances=2).to_pandas()
print(f"{len(phantoms)} series")
phantoms.groupby(["collection_id", "Modality"]).size()
""",
            "run",
        ),
        md(
            """
## When something is wrong

Errors name the file, line and value at fault. A misspelt column:
"""
        ),
        code(
            """
broken_dir = Path(tempfile.mkdtemp(prefix="idcbq-broken-"))
text = (template_dir / "my.series_by_body_part.sql").read_text()
(broken_dir / "my.series_by_body_part.sql").write_text(text.replace("UPPER(BodyPartExamined)", "UPPER(BodyPart)"))
!{sys.executable} -m idcbq templates check {broken_dir}
""",
            "check-broken",
        ),
        code(
            """
from idcbq.errors import IdcbqError

broken = idcbq.connect("duckdb", templates=[broken_dir])
try:
    broken.query("my.series_by_body_part", body_part="phantom")
except IdcbqError as exc:
    print(f"{type(exc).__name__}: {exc}")
""",
            "validation-error",
        ),
        md("A value of the wrong type is refused before any SQL runs:"),
        code(
            """
try:
    client.query("my.series_by_body_part", body_part="phantom", min_instances="two")
except IdcbqError as exc:
    print(f"{type(exc).__name__}: {exc}")
""",
            "param-error",
        ),
        code(
            """
client.close()
broken.close()
"""
        ),
    ]


NOTEBOOKS = {
    "01_getting_started.ipynb": getting_started,
    "02_bigquery_in_colab.ipynb": bigquery_in_colab,
    "03_cohort_to_files.ipynb": cohort_to_files,
    "04_write_your_own_template.ipynb": own_template,
}


def build(name: str) -> str:
    nb = new_notebook(cells=NOTEBOOKS[name]())
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.metadata["language_info"] = {"name": "python"}
    nb.metadata["colab"] = {"provenance": []}
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"c{i:02d}"  # stable ids: regenerating gives identical files
    nbformat.validate(nb)
    return nbformat.writes(nb) + "\n"


def main(argv: list[str]) -> int:
    stale = []
    for name in NOTEBOOKS:
        text = build(name)
        path = HERE / name
        if "--check" in argv:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(name)
        else:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}")
    if stale:
        print(f"out of date (run notebooks/_build.py): {', '.join(stale)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
