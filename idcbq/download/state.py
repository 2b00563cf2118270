"""Resume state: which final files were verified, so a re-run skips them cheaply.

A small SQLite database in the destination (``.idcbq-download.sqlite``) records, per
relative path, the verified size, MD5 and file mtime. A re-run trusts a file whose
size and mtime still match its record and whose MD5 matches the manifest: no rehash.
Files present without a record are hashed once (then recorded).

A destination that cannot be written (a read-only mount, no permission) is opened
read-only: a complete tree still re-runs with nothing to do. A full disk while
recording raises :class:`~idcbq.download.transfer.DiskFullError`, which stops the run.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import sqlite3
import time
from pathlib import Path
from urllib.parse import quote

from idcbq.download.transfer import DiskFullError, LocalWriteError
from idcbq.io.localfs import errno_of, fs_error

STATE_NAME = ".idcbq-download.sqlite"


def state_name(shard_tag: str | None = None) -> str:
    """The resume database's file name: one per (destination, shard).

    Example:
        >>> state_name(), state_name("shard-0-of-4")
        ('.idcbq-download.sqlite', '.idcbq-download.shard-0-of-4.sqlite')
    """
    return STATE_NAME if shard_tag is None else f".idcbq-download.{shard_tag}.sqlite"


class DownloadState:
    """The verified-files table in ``dest``; commits in batches (a lost tail only costs a rehash)."""

    def __init__(self, dest: Path, *, writable: bool = True, name: str = STATE_NAME):
        # ``dest`` is the folder holding the state: the destination or its --state-dir.
        self.path = dest / name
        self.readonly = not writable
        self.db = self._open()
        self._rows: list[tuple[str, str, int, str | None, int, float]] = []
        self._last = time.monotonic()

    def _open(self) -> sqlite3.Connection:
        if not self.readonly:
            db = None
            try:
                # Made here so it gets the umask's mode (sqlite's own default is 0644;
                # its -wal/-shm files copy the database's mode).
                os.close(os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666))
                db = sqlite3.connect(self.path, timeout=30)
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")
                db.execute(
                    "CREATE TABLE IF NOT EXISTS files (path TEXT PRIMARY KEY, url TEXT,"
                    " size INTEGER, md5 TEXT, mtime_ns INTEGER, verified REAL)"
                )
                db.commit()
                return db
            except (sqlite3.Error, OSError) as exc:
                with contextlib.suppress(Exception):
                    db.close()
                number = self._errno(exc)
                if number not in (errno.EROFS, errno.EACCES):
                    raise fs_error(OSError(number, str(exc)), self.path) from exc
                self.readonly = True
        # Read-only: the records of an earlier run, if any (immutable: no locks, no WAL).
        if self.path.is_file():
            try:
                uri = f"file:{quote(os.path.abspath(self.path))}?mode=ro&immutable=1"
                db = sqlite3.connect(uri, uri=True)
                db.execute("SELECT 1 FROM files LIMIT 1")
                return db
            except sqlite3.Error:
                pass
        db = sqlite3.connect(":memory:")
        db.execute(
            "CREATE TABLE files (path TEXT PRIMARY KEY, url TEXT, size INTEGER, md5 TEXT,"
            " mtime_ns INTEGER, verified REAL)"
        )
        return db

    def _errno(self, exc: BaseException) -> int:
        """errno for a sqlite error: SQLite says "disk I/O error" when a full disk stops its WAL."""
        number = errno_of(exc) or errno.EIO
        if number == errno.EIO:
            with contextlib.suppress(OSError):
                if shutil.disk_usage(self.path.parent).free < (1 << 20):
                    return errno.ENOSPC
        return number

    def lookup(self, rel: str) -> tuple[int, str | None, int] | None:
        row = self.db.execute(
            "SELECT size, md5, mtime_ns FROM files WHERE path = ?", (rel,)
        ).fetchone()
        return None if row is None else (int(row[0]), row[1], int(row[2]))

    def lookup_many(self, rels: list[str]) -> dict[str, tuple[int, str | None, int]]:
        out: dict[str, tuple[int, str | None, int]] = {}
        for start in range(0, len(rels), 500):
            chunk = rels[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for path, size, md5, mtime in self.db.execute(
                f"SELECT path, size, md5, mtime_ns FROM files WHERE path IN ({marks})", chunk
            ):
                out[path] = (int(size), md5, int(mtime))
        return out

    def record(self, rel: str, url: str, size: int, md5: str | None, mtime_ns: int) -> None:
        self._rows.append((rel, url, size, md5, mtime_ns, time.time()))
        if len(self._rows) >= 500 or time.monotonic() - self._last > 2:
            self.commit()

    def forget(self, rel: str) -> None:
        self.db.execute("DELETE FROM files WHERE path = ?", (rel,))

    def commit(self) -> None:
        """Write the pending records; a full disk raises DiskFullError (the run stops)."""
        if self.readonly:
            self._rows.clear()
            return
        try:
            if self._rows:
                self.db.executemany(
                    "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?)", self._rows
                )
                self._rows.clear()
            self.db.commit()
        except sqlite3.Error as exc:
            self._rows.clear()  # lost records only cost a rehash on the next run
            number = self._errno(exc)
            if number in (errno.ENOSPC, errno.EDQUOT):
                raise DiskFullError(number, f"database or disk is full: {self.path}") from exc
            raise LocalWriteError(number, f"{exc}: {self.path}") from exc
        self._last = time.monotonic()

    def close(self) -> None:
        """Commit what is pending and close; errors are raised after the database is closed."""
        try:
            self.commit()
        finally:
            self.db.close()
