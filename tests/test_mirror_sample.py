"""`idcbq mirror` of the embedded sample, used as a user would (issue 17 b, c).

b. ``--collections`` keeps exactly those collections: in the sample, row groups hold
   several collections, so row-group pruning alone copies parts of neighbours.
c. The mirror answers ``idc_current`` (the default release) as the release it mirrors,
   so ``idcbq query <template> --source MIRROR`` runs every template unchanged.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from idcbq.api import connect
from idcbq.templates import TemplateCatalog

REPO = Path(__file__).resolve().parents[1]


def _idcbq(*args: str, tmp: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "IDCBQ_FOOTER_CACHE": str(tmp / "footers"),
    }
    return subprocess.run(
        [sys.executable, "-m", "idcbq", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


def _shared_row_group(root: Path) -> tuple[str, str]:
    """A collection asked for, and a neighbour sharing one of its row groups (from the data)."""
    for path in sorted((root / "bigquery_export/idc_v25/dicom_all").glob("*.parquet")):
        pf = pq.ParquetFile(path)
        for g in range(pf.metadata.num_row_groups):
            ids = sorted(set(pf.read_row_group(g, columns=["collection_id"])[0].to_pylist()))
            if len(ids) >= 2:
                return ids[0], ids[1]
    raise AssertionError("the sample has no row group holding two collections")


def _summary(root: Path, tmp: Path, *extra: str) -> dict[str, dict]:
    out = _idcbq("query", "summary.collections", "--source", str(root), "--json", *extra, tmp=tmp)
    assert out.returncode == 0, out.stderr
    return {row["collection_id"]: row for row in json.loads(out.stdout)}


@pytest.fixture(scope="module")
def tables(sample_root: Path) -> list[str]:
    release = sample_root / "bigquery_export"
    main = sorted(p.name for p in (release / "idc_v25").iterdir() if p.is_dir())
    clinical = sorted(p.name for p in (release / "idc_v25_clinical").iterdir() if p.is_dir())
    return main + [f"clinical.{t}" for t in clinical]


def test_collections_mirror_holds_exactly_those_collections(sample_root, tmp_path):
    wanted, neighbour = _shared_row_group(sample_root)
    asked = sorted({wanted, "tcga_uvm"})
    dest = tmp_path / "mirror"
    out = _idcbq(
        "mirror", "--source", str(sample_root), "--idc-version", "v25",
        "--collections", ",".join(asked), "--dest", str(dest), "-q",
        tmp=tmp_path,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert f"idcbq query <template> --source {dest}" in out.stdout
    # The query `idcbq mirror` suggests, with no --idc-version: idc_current is the mirror's.
    mirrored = _summary(dest, tmp_path)
    source = _summary(sample_root, tmp_path, "--idc-version", "v25")
    assert neighbour in source and neighbour not in mirrored
    assert sorted(mirrored) == asked
    assert mirrored == {c: source[c] for c in asked}
    ids = pq.read_table(dest / "bigquery_export/idc_v25/dicom_all", columns=["collection_id"])
    assert set(ids[0].to_pylist()) == set(asked)


def test_rerun_keeps_the_copy_and_other_collections_refetch(sample_root, tmp_path):
    wanted, neighbour = _shared_row_group(sample_root)
    dest = tmp_path / "mirror"
    args = ("mirror", "--source", str(sample_root), "--idc-version", "v25",
            "--dest", str(dest), "-q", "--json")  # fmt: skip
    first = _idcbq(*args, "--collections", wanted, tmp=tmp_path)
    assert first.returncode == 0, first.stderr
    again = json.loads(_idcbq(*args, "--collections", wanted, tmp=tmp_path).stdout)
    assert again["fetched"] == 0 and again["unchanged"] == json.loads(first.stdout)["files"]
    # Same row groups, other rows: the file holding both collections is fetched again.
    other = json.loads(_idcbq(*args, "--collections", neighbour, tmp=tmp_path).stdout)
    assert other["fetched"] >= 1
    local = pq.read_table(dest / "bigquery_export/idc_v25/dicom_all", columns=["collection_id"])
    assert set(local[0].to_pylist()) == {neighbour}


def test_every_template_runs_unchanged_on_a_mirror(sample_root, tables, tmp_path):
    dest = tmp_path / "mirror"
    out = _idcbq(
        "mirror", "--source", str(sample_root), "--idc-version", "v25",
        "--tables", ",".join(tables), "--columns", "all", "--dest", str(dest), "-q",
        tmp=tmp_path,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    # The CLI, as `idcbq mirror` says to run it (no --idc-version).
    cli = _idcbq("query", "summary.counts", "--source", str(dest), "--json", tmp=tmp_path)
    assert cli.returncode == 0, cli.stderr
    differ = []
    with (
        connect(source=dest) as mirror,
        connect(source=sample_root, idc_version="v25") as source,
    ):
        for name in TemplateCatalog.discover(use_env=False).names():
            params = mirror.template(name).header.example_params()
            got = mirror.query(name, **params).to_arrow()
            want = source.query(name, **params).to_arrow()
            if not got.equals(want):
                differ.append(name)
    assert differ == []
