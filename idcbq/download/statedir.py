"""Where a download keeps its lock and resume state: beside the files, or on a local disk.

The lock (``flock``) and the resume database (SQLite in WAL mode) need a local file
system. On network and FUSE mounts (gcsfuse, NFS, SMB, sshfs...) ``flock`` may lock
nothing and SQLite's WAL needs shared memory the mount cannot give, so idcbq refuses
to keep them there: ``--state-dir DIR`` on a local disk holds them instead (one
sub-folder per destination), while the files still go to ``--dest``. On such a
shared destination the lock then guards one machine only; that each shard runs
once at a time is the batch engine's promise (one task per index).

Example:
    >>> fs_type_of("/proc/self", mountinfo="/proc/self/mountinfo") in ("proc", None)
    True
    >>> state_folder(Path("/data/x"), Path("/var/tmp/s")).parent
    PosixPath('/var/tmp/s')
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from idcbq.errors import UsageError

#: File system types where flock and SQLite cannot be trusted (``fuse.*`` also counts,
#: except ``fuseblk``: a local disk through FUSE, such as NTFS).
UNRELIABLE_FS = frozenset(
    {"nfs", "nfs4", "cifs", "smb3", "smbfs", "9p", "ceph", "glusterfs", "lustre", "afs",
     "gpfs", "beegfs", "fuse", "davfs", "ncpfs", "orangefs"}
)  # fmt: skip


def _unescape(field: str) -> str:
    """mountinfo writes space, tab, newline and backslash as octal escapes."""
    for code, char in (("\\040", " "), ("\\011", "\t"), ("\\012", "\n"), ("\\134", "\\")):
        field = field.replace(code, char)
    return field


def fs_type_of(
    path: str | os.PathLike[str], *, mountinfo: str = "/proc/self/mountinfo"
) -> str | None:
    """The file system type of the mount holding ``path`` (or its nearest existing parent).

    None when it cannot be told (not Linux, no ``/proc``).
    """
    probe = Path(os.path.abspath(path))
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    real = os.path.realpath(probe)
    best, best_type = "", None
    try:
        with open(mountinfo, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                left, sep, right = line.partition(" - ")
                fields, after = left.split(), right.split()
                if not sep or len(fields) < 5 or not after:
                    continue
                point = _unescape(fields[4])
                inside = real == point or real.startswith(point.rstrip("/") + "/")
                if inside and len(point) >= len(best):
                    best, best_type = point, after[0]
    except OSError:
        return None
    return best_type


def unreliable(fs_type: str | None) -> bool:
    """True for network and FUSE file systems (see :data:`UNRELIABLE_FS`).

    Example:
        >>> unreliable("fuse.gcsfuse"), unreliable("nfs4"), unreliable("ext4"), unreliable("fuseblk")
        (True, True, False, False)
    """
    if not fs_type:
        return False
    return fs_type in UNRELIABLE_FS or (fs_type.startswith("fuse.") and fs_type != "fuseblk")


def state_folder(dest: Path, state_dir: Path | None) -> Path:
    """The folder for the lock and state: ``dest``, or a per-destination folder in ``state_dir``."""
    if state_dir is None:
        return dest
    key = hashlib.sha256(os.path.abspath(dest).encode("utf-8")).hexdigest()[:16]
    return Path(state_dir).expanduser() / key


def check_state_place(dest: Path, state_dir: Path | None, *,
                      mountinfo: str = "/proc/self/mountinfo") -> None:  # fmt: skip
    """Refuse to keep the lock and resume state on a network or FUSE mount."""
    if state_dir is not None:
        kind = fs_type_of(state_dir, mountinfo=mountinfo)
        if unreliable(kind):
            raise UsageError(f"--state-dir {state_dir} is on a {kind} file system",
                             hint="give a folder on a local disk")  # fmt: skip
        return
    kind = fs_type_of(dest, mountinfo=mountinfo)
    if unreliable(kind):
        raise UsageError(
            f"--dest {dest} is on a {kind} file system, where file locks and SQLite are unreliable",
            hint="add --state-dir DIR on a local disk (the lock and resume state go there; "
            "the files still go to --dest)",
        )
