"""A small bounded memo: what the engines and the client keep between queries.

A query run again is neither transpiled, parsed nor validated again (issue 21 §3); each
user keys its entries by everything the kept value depends on.
"""

from __future__ import annotations

import threading
from typing import Any


class Memo:
    """Values by key, at most ``size`` of them (the oldest goes first); never None values.

    Example:
        >>> kept = Memo(size=1)
        >>> kept.put("a", "SELECT 1"), kept.get("a")
        ('SELECT 1', 'SELECT 1')
        >>> kept.put("b", "SELECT 2") and kept.get("a") is None
        True
    """

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._by_key: dict[object, Any] = {}
        self._lock = threading.Lock()  # a client may be shared by threads

    def get(self, key: object) -> Any:
        return self._by_key.get(key)

    def put(self, key: object, value: Any) -> Any:
        with self._lock:
            while len(self._by_key) >= self.size > 0:
                self._by_key.pop(next(iter(self._by_key)))
            self._by_key[key] = value
        return value

    def __len__(self) -> int:
        return len(self._by_key)
