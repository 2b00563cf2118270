"""One object to fetch: the record the planner makes and every transport reads.

Below both :mod:`.transfer` (which fetches and verifies it) and :mod:`.transport` (which
turns it into a request), so neither imports the other for it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class Item:
    """One object to fetch and where it goes (``rel`` is relative to the destination)."""

    provider: str
    bucket: str
    key: str
    rel: str
    size: int | None = None
    md5: str | None = None

    @property
    def url(self) -> str:
        return f"{'gs' if self.provider == 'gcs' else 's3'}://{self.bucket}/{self.key}"
