"""Write a generated data file, or (``--check``) say whether the checked-in one is current."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def write_or_check(out: Path, data: Any, argv: list[str], *, indent: int) -> int:
    """Exit status: with ``--check`` 0 if ``out`` already holds ``data``, else write it (0).

    Example:
        >>> import tempfile
        >>> out = Path(tempfile.mkdtemp()) / "x.json"
        >>> write_or_check(out, {"a": 1}, ["--check"], indent=0)
        1
    """
    text = json.dumps(data, indent=indent, sort_keys=True) + "\n"
    if "--check" in argv:
        return 0 if out.exists() and out.read_text() == text else 1
    out.write_text(text)
    print(f"wrote {out}")
    return 0
