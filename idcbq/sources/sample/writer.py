"""Deterministic Parquet writing in IDC's export layout, built atomically.

``bigquery_export/<dataset>/<table>/000000000000.parquet, 000000000001.parquet, ...``
with fixed rows per file and per row group, ZSTD, and key-value metadata that labels
the files as a derived sample. The whole tree is built in a temporary sibling
directory and renamed into place, under an exclusive lock file.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from idcbq.sources.releases import EXPORT_DIR

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.parquet as pq

#: Parquet key-value metadata on every file of the sample.
LABEL = (
    "DERIVED SAMPLE built by idcbq from the series-level index of the idc-index-data "
    "package. It is NOT IDC's instance-level data: instance rows, UIDs, sizes, hashes, "
    "nested DICOM attributes and clinical values are synthetic (deterministic)."
)


class TableSink:
    """Writes one table as numbered Parquet files with fixed file and row-group sizes."""

    def __init__(
        self,
        directory: Path,
        schema: pa.Schema,
        *,
        rows_per_file: int,
        row_group_size: int,
        metadata: dict[str, str],
    ) -> None:
        self.directory = directory
        self.schema = schema.with_metadata({**metadata, "idcbq.label": LABEL})
        self.rows_per_file = rows_per_file
        self.row_group_size = row_group_size
        self.files: list[Path] = []
        self.rows = 0
        self._writer: pq.ParquetWriter | None = None
        self._in_file = 0

    def write(self, table: pa.Table) -> None:
        """Append rows; files roll over every ``rows_per_file`` rows."""
        table = table.replace_schema_metadata(self.schema.metadata)
        offset = 0
        while offset < table.num_rows:
            if self._writer is None:
                self._open()
            take = min(self.rows_per_file - self._in_file, table.num_rows - offset)
            part = table.slice(offset, take)
            assert self._writer is not None
            self._writer.write_table(part, row_group_size=self.row_group_size)
            offset += take
            self._in_file += take
            self.rows += take
            if self._in_file >= self.rows_per_file:
                self._close_file()

    def _open(self) -> None:
        import pyarrow.parquet as pq

        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"{len(self.files):012d}.parquet"
        self.files.append(path)
        self._writer = pq.ParquetWriter(
            path, self.schema, compression="zstd", write_statistics=True, store_schema=True
        )
        self._in_file = 0

    def _close_file(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def close(self) -> None:
        """Finish; an empty table still gets one (empty) file so its schema exists."""
        if not self.files:
            self._open()
        self._close_file()


def copy_dataset(export: Path, source: str, target: str) -> None:
    """``idc_current*`` are copies of ``idc_vNN*`` (IDC copies the tables too)."""
    shutil.copytree(export / source, export / target)


@contextlib.contextmanager
def build_lock(root: Path) -> Iterator[None]:
    """Exclusive lock beside ``root``: concurrent builders wait for each other."""
    root.parent.mkdir(parents=True, exist_ok=True)
    lock_path = root.parent / f".{root.name}.lock"
    with open(lock_path, "a+") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def temp_root(root: Path) -> Path:
    """A fresh temporary sibling of ``root`` to build into."""
    tmp = root.parent / f".{root.name}.tmp-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    (tmp / EXPORT_DIR).mkdir(parents=True)
    return tmp


def publish(tmp: Path, root: Path) -> None:
    """Swap the finished tree into place; readers never see a partial tree."""
    if root.exists():
        old = root.parent / f".{root.name}.old-{os.getpid()}"
        os.replace(root, old)
        os.replace(tmp, root)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, root)
