"""Resume state: which final files were verified, so a re-run skips them cheaply.

A small SQLite database in the destination (``.idcbq-download.sqlite``) records, per
relative path, the verified size, MD5 and file mtime. A re-run trusts a file whose
size and mtime still match its record and whose MD5 matches the manifest: no rehash.
Files present without a record are hashed once (then recorded).
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

STATE_NAME = ".idcbq-download.sqlite"


class DownloadState:
    """The verified-files table in ``dest``; commits in batches (a lost tail only costs a rehash)."""

    def __init__(self, dest: Path):
        self.path = dest / STATE_NAME
        self.db = sqlite3.connect(self.path, timeout=30)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS files (path TEXT PRIMARY KEY, url TEXT, size INTEGER,"
            " md5 TEXT, mtime_ns INTEGER, verified REAL)"
        )
        self.db.commit()
        self._rows: list[tuple[str, str, int, str | None, int, float]] = []
        self._last = time.monotonic()

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
        if self._rows:
            self.db.executemany(
                "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?)", self._rows
            )
            self._rows.clear()
        self.db.commit()
        self._last = time.monotonic()

    def close(self) -> None:
        self.commit()
        self.db.close()
