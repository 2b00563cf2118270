"""Mirror bookkeeping: per-file state (for resume and incremental runs) and the manifest.

Layout under the destination::

    <dest>/bigquery_export/<dataset>/<table>/<file>.parquet     query-ready copy
    <dest>/.idcbq-mirror/state/<dataset>/<table>/<file>.json    what each copy holds
    <dest>/idcbq-mirror.json                                    provenance (MANIFEST)

A file's state is written (atomically) only after its copy is in place, so after a
kill -9 a file is either complete and recorded, or redone.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

MANIFEST = "idcbq-mirror.json"
STATE_DIR = ".idcbq-mirror"
_FORMAT = 1
#: The alias IDC's export (and BigQuery) give the newest release.
CURRENT = "idc_current"


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file and rename (no torn files)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{threading.get_ident()}")
    with tmp.open("w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def state_path(dest: Path, dataset: str, table: str, name: str) -> Path:
    return dest / STATE_DIR / "state" / dataset / table / f"{name}.json"


def read_state(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("format") == _FORMAT else None


def write_state(path: Path, state: dict[str, Any]) -> None:
    atomic_write_text(path, json.dumps({"format": _FORMAT, **state}, sort_keys=True))


def states_by_footer(dest: Path, table: str) -> dict[str, tuple[Path, dict[str, Any]]]:
    """Every recorded copy of ``table`` (any dataset) by source footer hash."""
    out: dict[str, tuple[Path, dict[str, Any]]] = {}
    base = dest / STATE_DIR / "state"
    if not base.is_dir():
        return out
    for path in base.glob(f"*/{table}/*.json"):
        state = read_state(path)
        if state and state.get("footer_sha"):
            local = dest / "bigquery_export" / path.parent.parent.name / table / path.stem
            out[state["footer_sha"]] = (local, state)
    return out


def now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


def read_manifest(dest: Path) -> dict[str, Any]:
    """The mirror manifest at ``dest`` (empty dict when there is none)."""
    try:
        data = json.loads((Path(dest) / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def update_manifest(
    dest: Path, source: str, dataset: str, table: str, entry: dict[str, Any]
) -> dict[str, Any]:
    """Record one mirrored table in the manifest; return the whole manifest."""
    from idcbq.core.version import __version__

    data = read_manifest(dest) or {"format": _FORMAT, "created": now()}
    data.update(source=source, updated=now(), idcbq_version=__version__)
    datasets = data.setdefault("datasets", {})
    datasets.setdefault(dataset, {}).setdefault("tables", {})[table] = entry
    numbered = [d for d in datasets if d.startswith("idc_v") and d[5:].isdigit()]
    if numbered:
        data["latest"] = max(numbered, key=lambda d: int(d[5:]))
    atomic_write_text(dest / MANIFEST, json.dumps(data, indent=2, sort_keys=True) + "\n")
    return data


def mirrored_tables(root: str | os.PathLike[str], dataset: str) -> dict[str, Any]:
    """The manifest entries of a mirrored dataset's tables (``idc_current``: the newest)."""
    data = read_manifest(Path(root))
    datasets = data.get("datasets", {})
    if dataset not in datasets and dataset == CURRENT and data.get("latest"):
        dataset = data["latest"]
    return datasets.get(dataset, {}).get("tables", {})


def mirrored_columns(root: str | os.PathLike[str], dataset: str, table: str) -> list[str] | None:
    """Columns a mirror at ``root`` holds for a table (None: not a mirror, or table absent)."""
    entry = mirrored_tables(root, dataset)
    found = entry.get(table)
    return list(found["columns"]) if found else None


def encode_schema(schema: pa.Schema) -> str:
    """An Arrow schema as base64 text (the source's full schema, kept in the manifest)."""
    import base64

    return base64.b64encode(schema.serialize().to_pybytes()).decode("ascii")


def source_schema(root: str | os.PathLike[str], dataset: str, table: str) -> pa.Schema | None:
    """The full source schema of a mirrored table (None: not a mirror or not recorded)."""
    import base64

    import pyarrow as pa

    entry = mirrored_tables(root, dataset)
    text = (entry.get(table) or {}).get("source_schema")
    if not text:
        return None
    return pa.ipc.read_schema(pa.py_buffer(base64.b64decode(text)))


def missing_column_hint(
    root: str | os.PathLike[str], dataset: str, table: str, column: str
) -> str | None:
    """The `idcbq mirror` command that adds ``column``, if the mirror lacks a source column."""
    have = mirrored_columns(root, dataset, table)
    schema = source_schema(root, dataset, table)
    if have is None or schema is None:
        return None
    by_lower = {n.lower(): n for n in schema.names}
    name = by_lower.get(column.lower())
    if name is None or name in have:
        return None
    data = read_manifest(Path(root))
    version = dataset.removeprefix("idc_")
    return (
        f"idcbq mirror --source {data.get('source', '<source>')} --idc-version {version} "
        f"--tables {table} --columns {entry_spec(root, dataset, table)},{name} --dest {root}"
    )


def entry_spec(root: str | os.PathLike[str], dataset: str, table: str) -> str:
    """The ``--columns`` value a table was mirrored with."""
    entry = mirrored_tables(root, dataset)
    return str((entry.get(table) or {}).get("columns_spec") or "templates")


def link_current(dest: Path, latest: str) -> None:
    """Point ``<dest>/bigquery_export/idc_current`` at the newest mirrored release.

    Templates and the default ``--idc-version current`` read ``idc_current``; on a mirror
    that is the release it mirrors. A relative symbolic link (replaced atomically), so
    every engine and listing sees the same files; where links cannot be made (some
    Windows setups) the mirror still answers ``--idc-version vNN``.
    """
    export = Path(dest) / "bigquery_export"
    for alias, target in ((CURRENT, latest), (f"{CURRENT}_clinical", f"{latest}_clinical")):
        link = export / alias
        if not (export / target).is_dir():
            continue
        if link.is_symlink() and os.readlink(link) == target:
            continue
        if link.exists() and not link.is_symlink():
            continue  # a real folder of that name: leave it
        tmp = export / f".{alias}.tmp-{os.getpid()}-{threading.get_ident()}"
        try:
            os.symlink(target, tmp, target_is_directory=True)
            os.replace(tmp, link)
        except OSError:
            tmp.unlink(missing_ok=True)
