"""Keep DuckDB from importing pandas for nothing (about 0.3 s of a CLI query).

DuckDB's Python binding compares every bound parameter value with ``pandas.NA`` and
``pandas.NaT``, importing pandas to do so, although idcbq never binds either. While
pandas is not loaded yet, :func:`pandas_held_off` makes ``import pandas`` fail at once;
DuckDB takes that as "no pandas" and looks again on its next call, so a later
``import pandas`` (``QueryResult.to_pandas``) works as usual.

Hiding a module is process-wide: another thread importing pandas inside the window
would fail. Only the CLI, which runs no other thread of its own then, turns it on
(:func:`hold_off_pandas`); the library leaves pandas alone.

Example:
    >>> hold_off_pandas(False)
    >>> with pandas_held_off():
    ...     pass
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

_enabled = False


def hold_off_pandas(enabled: bool = True) -> None:
    """Turn :func:`pandas_held_off` on (the CLI's process) or off (the default)."""
    global _enabled
    _enabled = enabled


@contextmanager
def pandas_held_off() -> Iterator[None]:
    """Within the block, ``import pandas`` fails unless pandas is loaded already (when on)."""
    if not _enabled or "pandas" in sys.modules:
        yield
        return
    sys.modules["pandas"] = None  # type: ignore[assignment]  # import machinery: "not found"
    try:
        yield
    finally:
        if "pandas" in sys.modules and sys.modules["pandas"] is None:
            del sys.modules["pandas"]
