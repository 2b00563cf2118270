"""Pause Python's cyclic garbage collector for the length of one pipeline call.

sqlglot trees are cycles (each node points at its parent), so every tree a
validation or translation builds and drops waits for the cyclic collector. Left
running, the collector fires every few hundred allocations, and each young
collection re-examines the trees still in use; the survivors it promotes then
trigger full collections that walk every object of the process (sqlglot's and
idcbq's tables: ~130,000 after the first query). Over the library templates that
was 12-14% of render+validate+transpile. Paused, the call's garbage is collected
once, as young objects, on the first allocation after it returns.

The pause is counted: nested and concurrent calls (threads share one collector)
re-enable it when the last of them returns, and only if it was enabled when the
first began. A caller that disables the collector during a paused call sees it
enabled again when that call ends.
"""

from __future__ import annotations

import functools
import gc
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")

_LOCK = threading.Lock()
_depth = 0
_resume = False  # whether the collector was enabled when the outermost pause began


@contextmanager
def gc_paused() -> Iterator[None]:
    """Disable the cyclic collector inside the block (counted across nesting and threads).

    Example:
        >>> import gc
        >>> with gc_paused():
        ...     inside = gc.isenabled()
        >>> inside, gc.isenabled()
        (False, True)
    """
    global _depth, _resume
    with _LOCK:
        if _depth == 0:
            _resume = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _LOCK:
            _depth -= 1
            if _depth == 0 and _resume:
                gc.enable()


def pausing_gc(fn: Callable[P, R]) -> Callable[P, R]:
    """Decorator: run ``fn`` under :func:`gc_paused`."""

    @functools.wraps(fn)
    def paused(*args: P.args, **kwargs: P.kwargs) -> R:
        with gc_paused():
            return fn(*args, **kwargs)

    return paused
