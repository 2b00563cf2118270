"""One download per (destination, shard): ``flock`` on lock files beside the resume state.

A second ``idcbq download`` into the same folder stops at once with exit code 7
instead of deleting the first run's temp files. The lock is released by the kernel
when the process ends, however it ends (``kill -9`` included), so a stale lock file
never blocks a later run. A destination that cannot be written (read-only) takes the
lock on the existing file if there is one; if there is none, no run can write there
either, so there is nothing to lock.

Shards of one split (``--shard i/n``) may share a destination. Each run holds:

- ``.idcbq-download.lock``: exclusive for a whole (unsharded) run, shared for a shard,
  so a whole run and a shard never overlap;
- ``.idcbq-download.split-of-N.lock`` (shared), after checking that no split with
  another count is active: shards ``0/4`` and ``0/3`` hold different series mixes and
  could write the same files;
- ``.idcbq-download.shard-I-of-N.lock`` (exclusive): the same shard runs once.

Lock files live where the resume state lives: in the destination, or in ``--state-dir``.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
from pathlib import Path
from typing import TYPE_CHECKING

from idcbq.errors import DestinationLockedError
from idcbq.io.localfs import errno_of, fs_error

if TYPE_CHECKING:
    from idcbq.download.shard import Shard

LOCK_NAME = ".idcbq-download.lock"
_SPLIT_PREFIX = ".idcbq-download.split-of-"


class DestLock:
    """Holds the destination's lock(s) from :meth:`acquire` until :meth:`release`."""

    def __init__(self, dest: Path, shard: Shard | None = None, *, lock_dir: Path | None = None):
        self.dest = dest
        self.shard = shard
        folder = lock_dir or dest
        self.path = folder / LOCK_NAME
        self.split_path = folder / f"{_SPLIT_PREFIX}{shard.count}.lock" if shard else None
        self.shard_path = folder / f".idcbq-download.{shard.file_tag}.lock" if shard else None
        self.fds: list[int] = []
        self.fd: int | None = None  # the lock this run owns alone (removed with remove=True)

    def acquire(self) -> DestLock:
        try:
            if self.shard is None:
                self.fd = self._take(
                    self.path, fcntl.LOCK_EX, f"another download is using {self.dest}"
                )
                return self
            shard = self.shard
            self._take(self.path, fcntl.LOCK_SH,
                       f"another download (not split into shards) is using {self.dest}")  # fmt: skip
            assert self.split_path is not None and self.shard_path is not None
            # Blocking: another count's run holds it exclusively only while probing.
            self._take(self.split_path, fcntl.LOCK_SH, "", wait=True)
            self._refuse_other_splits(shard.count)
            self.fd = self._take(self.shard_path, fcntl.LOCK_EX,
                                 f"shard {shard.label} is already downloading into {self.dest}")  # fmt: skip
        except BaseException:
            self.release()
            raise
        return self

    def _take(self, path: Path, mode: int, busy: str, *, wait: bool = False) -> int | None:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
        except OSError as exc:
            if errno_of(exc) not in (errno.EROFS, errno.EACCES, errno.EPERM):
                raise fs_error(exc, path, "create the lock file") from exc
            try:
                fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
            except OSError:
                return None  # nothing can be written here, by us or by anyone else
        try:
            fcntl.flock(fd, mode if wait else mode | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise DestinationLockedError(
                    busy, hint="wait for it to finish, or download into another --dest"
                ) from None
            raise fs_error(exc, path, "lock") from exc
        self.fds.append(fd)
        if mode == fcntl.LOCK_EX:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
                os.write(fd, f"{os.getpid()}\n".encode())
        return fd

    def _refuse_other_splits(self, count: int) -> None:
        """Stop if shards of a split with another count are active here.

        Each run holds its own split lock (shared) before probing the others, so of two
        runs with different counts at least one sees the other and stops.
        """
        folder = self.path.parent
        with contextlib.suppress(OSError):
            for entry in os.scandir(folder):
                name = entry.name
                if not (name.startswith(_SPLIT_PREFIX) and name.endswith(".lock")):
                    continue
                other = name[len(_SPLIT_PREFIX) : -len(".lock")]
                if other == str(count):
                    continue
                try:
                    fd = os.open(entry.path, os.O_RDONLY | os.O_CLOEXEC)
                except OSError:
                    continue
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    raise DestinationLockedError(
                        f"a download split into {other} shards is using {self.dest}; "
                        f"this one is split into {count}",
                        hint="every shard of one destination must use the same count",
                    ) from None
                finally:
                    os.close(fd)

    def release(self, *, remove: bool = False) -> None:
        if remove and self.fd is not None:
            # Only the lock this run holds alone, and only while still holding it: no
            # other run can be between open and flock.
            owned = self.shard_path if self.shard is not None else self.path
            with contextlib.suppress(OSError):
                os.unlink(owned)  # type: ignore[arg-type]
        for fd in self.fds:
            with contextlib.suppress(OSError):
                os.close(fd)
        self.fds.clear()
        self.fd = None
