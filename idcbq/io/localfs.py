"""Local file system failures as one-line errors naming the path (exit code 8).

Disk full, a read-only mount, a permission problem or a path under a regular file
are not bugs: the user fixes them by freeing space or choosing another place. Every
writer of idcbq (results, manifests, downloads, the resume database) turns the
``OSError`` into a :class:`~idcbq.errors.LocalFileError` with :func:`fs_error`.

Example:
    >>> import errno
    >>> str(fs_error(OSError(errno.ENOSPC, "No space left on device"), "/data/x.parquet"))
    'cannot write /data/x.parquet: no space left on device\\n  hint: free some space or choose another location'
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from pathlib import Path

from idcbq.errors import LocalFileError

_TEXT = {
    errno.ENOSPC: ("no space left on device", "free some space or choose another location"),
    errno.EDQUOT: ("disk quota exceeded", "free some space or choose another location"),
    errno.EROFS: ("read-only file system", "choose a writable location"),
    errno.EACCES: ("permission denied", "choose a location you can write to"),
    errno.EPERM: ("operation not permitted", "choose a location you can write to"),
    errno.ENOTDIR: ("a parent of it is not a directory", "choose a path inside a directory"),
    errno.EISDIR: ("it is a directory", "give a file name"),
    errno.ENOENT: ("no such file or directory (cannot be created here)", "check the path"),
    errno.EEXIST: ("a file is in the way", "choose another path"),
    errno.ENAMETOOLONG: ("the name is too long", "choose a shorter path"),
    errno.EIO: ("input/output error", "check the disk"),
}
#: errno values a user fixes on their side (space, permissions, paths); the rest are bugs.
LOCAL_ERRNOS = frozenset(_TEXT) | {errno.EINVAL, errno.ENXIO, errno.ENODEV, errno.EMFILE}
_MESSAGES = (
    ("database or disk is full", errno.ENOSPC),
    ("no space left", errno.ENOSPC),
    ("read-only", errno.EROFS),
    ("permission denied", errno.EACCES),
    ("not a directory", errno.ENOTDIR),
    ("attempt to write a readonly database", errno.EROFS),
    ("unable to open database file", errno.EACCES),
    ("disk i/o error", errno.EIO),
)


def errno_of(exc: BaseException) -> int | None:
    """The errno of an OSError, or the one its message names (pyarrow and sqlite drop errno)."""
    number = getattr(exc, "errno", None)
    if isinstance(number, int):
        return number
    text = str(exc).lower()
    for needle, value in _MESSAGES:
        if needle in text:
            return value
    return None


def is_local_fs_error(exc: BaseException) -> bool:
    """Whether ``exc`` is a local file system problem (disk full, read-only, permissions...)."""
    return errno_of(exc) in LOCAL_ERRNOS


def is_disk_full(exc: BaseException) -> bool:
    return errno_of(exc) in (errno.ENOSPC, errno.EDQUOT)


def fs_error(
    exc: BaseException, path: str | os.PathLike[str], doing: str = "write"
) -> LocalFileError:
    """A :class:`LocalFileError` for ``exc`` met while ``doing`` ``path``."""
    number = errno_of(exc)
    text, hint = _TEXT.get(number or -1, (None, None))
    if text is None:
        text = (getattr(exc, "strerror", None) or str(exc)).strip().splitlines()[0]
        hint = "check the path and the file system"
    return LocalFileError(f"cannot {doing} {path}: {text}", hint=hint)


def check_output_file(path: str | os.PathLike[str]) -> Path:
    """Refuse an output path that is not (and cannot become) a plain file: devices, dirs, /proc.

    Writers create a temp file beside ``path`` and rename it over ``path``; for
    ``/dev/null`` that would replace the device node, so anything existing that is not a
    regular file is refused up front.
    """
    path = Path(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise fs_error(exc, path) from exc
    else:
        if stat.S_ISDIR(st.st_mode):
            raise LocalFileError(f"cannot write {path}: it is a directory", hint="give a file name")
        if not stat.S_ISREG(st.st_mode):
            raise LocalFileError(
                f"cannot write {path}: not a regular file (a device, pipe or socket)",
                hint="write to a regular file, then copy it where it must go",
            )
    if _pseudo(path.parent):
        raise LocalFileError(
            f"cannot write {path}: {path.parent} is a kernel or device file system",
            hint="choose a location on a disk",
        )
    return path


def _pseudo(path: Path) -> bool:
    """Whether ``path`` is in /proc, /sys or /dev (but not /dev/shm, a normal tmpfs)."""
    real = os.path.realpath(path)
    if real == "/dev/shm" or real.startswith("/dev/shm/"):
        return False
    return real in ("/proc", "/sys", "/dev") or real.startswith(("/proc/", "/sys/", "/dev/"))


def check_dest_dir(path: str | os.PathLike[str]) -> Path:
    """Refuse a destination folder that is a file/device or lives in /proc or /sys."""
    path = Path(path)
    if _pseudo(path):
        raise LocalFileError(
            f"cannot use {path} as a destination folder: it is on a kernel or device file system",
            hint="choose a folder on a disk",
        )
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return path
    except OSError as exc:
        raise fs_error(exc, path, "use") from exc
    if not stat.S_ISDIR(st.st_mode):
        raise LocalFileError(
            f"cannot use {path} as a destination folder: it is not a directory",
            hint="choose a folder (it is created if missing)",
        )
    return path


def make_dir(path: str | os.PathLike[str]) -> list[Path]:
    """``mkdir -p``; return the folders it created (outermost first) so a failure can undo them."""
    path = Path(path)
    missing: list[Path] = []
    probe = path
    while not probe.exists():
        missing.append(probe)
        if probe.parent == probe:
            break
        probe = probe.parent
    created: list[Path] = []
    try:
        for folder in reversed(missing):
            try:
                folder.mkdir()
            except FileExistsError:
                if not folder.is_dir():
                    raise
                continue
            created.append(folder)
    except OSError as exc:
        remove_empty_dirs(created)
        raise fs_error(exc, path, "create") from exc
    return created


def remove_empty_dirs(dirs: list[Path] | list[str]) -> None:
    """Remove those of ``dirs`` that are empty, deepest first; never anything else."""
    for folder in sorted((Path(d) for d in dirs), key=lambda p: len(p.parts), reverse=True):
        with contextlib.suppress(OSError):
            folder.rmdir()


def current_umask() -> int:
    """The process umask, read without changing it (Linux ``/proc``), else set-and-restore."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def publish(tmp: str | os.PathLike[str], final: str | os.PathLike[str]) -> None:
    """Rename the finished temp file ``tmp`` onto ``final`` with the mode the umask gives.

    ``tempfile.mkstemp`` makes a private (0600) file; renamed as is, a manifest or a job
    output would be unreadable to colleagues on shared storage. Every file idcbq writes
    gets ``0o666 & ~umask``, as ``open()`` would give a new file, before it appears.

    Example:
        >>> import tempfile
        >>> d = Path(tempfile.mkdtemp())
        >>> fd, tmp = tempfile.mkstemp(dir=d); os.close(fd)
        >>> publish(tmp, d / "x.txt")
        >>> oct((d / "x.txt").stat().st_mode & 0o777) == oct(0o666 & ~current_umask())
        True
    """
    with contextlib.suppress(NotImplementedError, PermissionError):  # FS without modes
        os.chmod(tmp, 0o666 & ~current_umask())
    os.replace(tmp, final)
