"""Local Parquet files whose footers were checked before, and have not changed since.

:func:`idcbq.sources.exports.check_footers` reads every file's footer of a table (all
readable, same columns) the first time a process uses it: about 50 ms of each CLI query
on the sample (issue 21 §3). A local table whose files are exactly those checked before
(same paths, inodes, sizes and change times) needs no second look: a marker file under
``<idcbq cache>/footers-checked/`` records each passing check. Only passing checks are
recorded, so a bad file is reported every time; any change to a file (rewritten,
replaced, touched) or to the list of files gives another key, and the check runs again.

Example:
    >>> key_of(["/nonexistent.parquet"]) is None     # a file we cannot stat: no key
    True
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Callable, Sequence
from pathlib import Path

#: Bump when check_footers checks more: older markers then no longer count.
CHECK_FORMAT = 1


def key_of(files: Sequence[str]) -> str | None:
    """A digest of the files' paths, inodes, sizes and times; None if one is missing."""
    h = hashlib.sha256(f"footers{CHECK_FORMAT}".encode())
    for name in files:
        try:
            st = os.stat(name)
        except OSError:
            return None
        stamp = (os.path.abspath(name), st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
        h.update(repr(stamp).encode())
    return h.hexdigest()


def _marker(key: str) -> Path:
    from idcbq.sources.releases import cache_dir

    return cache_dir() / "footers-checked" / key[:2] / key


def check_once(files: Sequence[str], check: Callable[[], None]) -> None:
    """Run ``check`` unless these very files passed it before; record a pass."""
    key = key_of(files)
    if key is not None and _marker(key).exists():
        return
    check()
    if key is not None:
        with contextlib.suppress(OSError):  # a read-only cache only costs the next check
            marker = _marker(key)
            marker.parent.mkdir(parents=True, exist_ok=True)
            marker.touch()
