"""The local copies of a mirror: atomic writes, hard links, reads and column merges."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa


def link(src: Path, dst: Path) -> None:
    import shutil

    tmp = dst.with_name(f".{dst.name}.tmp-{os.getpid()}")
    try:
        os.link(src, tmp)
    except OSError:
        shutil.copyfile(src, tmp)
    os.replace(tmp, dst)


def read_local(path: Path) -> pa.Table:
    import pyarrow.parquet as pq

    return pq.read_table(path)


def combine(old: pa.Table, added: pa.Table, order: list[str]) -> pa.Table:
    """Columns of ``old`` and ``added`` side by side, in the source's column order."""
    import pyarrow as pa

    cols = {n: old.column(n) for n in old.column_names}
    cols.update({n: added.column(n) for n in added.column_names})
    names = [n for n in order if n in cols]
    return pa.table([cols[n] for n in names], names=names)


def write(table: pa.Table, local: Path, meta: Any, groups: list[int]) -> int:
    import pyarrow.parquet as pq

    local.parent.mkdir(parents=True, exist_ok=True)
    tmp = local.with_name(f".{local.name}.tmp-{os.getpid()}-{id(table)}")
    rows = max([meta.row_group(g).num_rows for g in groups] or [1])
    pq.write_table(table, tmp, compression="zstd", row_group_size=max(rows, 1))
    with tmp.open("rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, local)
    return local.stat().st_size
