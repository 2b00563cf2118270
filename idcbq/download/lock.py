"""One download per destination: an exclusive ``flock`` on ``DEST/.idcbq-download.lock``.

A second ``idcbq download`` into the same folder stops at once with exit code 7
instead of deleting the first run's temp files. The lock is released by the kernel
when the process ends, however it ends (``kill -9`` included), so a stale lock file
never blocks a later run. A destination that cannot be written (read-only) takes the
lock on the existing file if there is one; if there is none, no run can write there
either, so there is nothing to lock.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
from pathlib import Path

from idcbq.errors import DestinationLockedError
from idcbq.io.localfs import errno_of, fs_error

LOCK_NAME = ".idcbq-download.lock"


class DestLock:
    """Holds the destination's lock from :meth:`acquire` until :meth:`release`."""

    def __init__(self, dest: Path):
        self.path = dest / LOCK_NAME
        self.fd: int | None = None

    def acquire(self) -> DestLock:
        try:
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
        except OSError as exc:
            if errno_of(exc) not in (errno.EROFS, errno.EACCES, errno.EPERM):
                raise fs_error(exc, self.path, "create the lock file") from exc
            try:
                self.fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
            except OSError:
                return self  # nothing can be written here, by us or by anyone else
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(self.fd)
            self.fd = None
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise DestinationLockedError(
                    f"another download is using {self.path.parent}",
                    hint="wait for it to finish, or download into another --dest",
                ) from None
            raise fs_error(exc, self.path, "lock") from exc
        with contextlib.suppress(OSError):
            os.ftruncate(self.fd, 0)
            os.write(self.fd, f"{os.getpid()}\n".encode())
        return self

    def release(self, *, remove: bool = False) -> None:
        if self.fd is None:
            return
        if remove:  # only while still holding it: no other run can be between open and flock
            with contextlib.suppress(OSError):
                os.unlink(self.path)
        os.close(self.fd)
        self.fd = None
