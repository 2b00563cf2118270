"""Cache files written whole or not at all: a temp file in the same folder, then a rename.

Readers of idcbq's caches (GoogleSQL verdicts, the compiled analyzer module, prepared
queries) never see a torn file: a crash leaves either the old file or the new one.

Example:
    >>> import tempfile
    >>> from pathlib import Path
    >>> target = Path(tempfile.mkdtemp()) / "sub" / "entry.json"
    >>> replace_file(target, b'{"a": 1}')
    >>> target.read_bytes()
    b'{"a": 1}'
    >>> sorted(p.name for p in target.parent.iterdir())
    ['entry.json']
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def replace_file(path: Path, *chunks: bytes) -> None:
    """Write ``chunks`` to ``path`` through a temp file and a rename (folders made).

    Raises:
        OSError: the folder or file cannot be written (no temp file is left behind).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            for chunk in chunks:
                fh.write(chunk)
        os.replace(tmp, path)  # private (0600) like the rest of a user's cache
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
