"""Strict BigQuery layer (placeholder; filled in below)."""

from __future__ import annotations

from typing import Any


def check_strict(tree: Any, sql: str, lmap: Any, add: Any) -> None:
    """Refuse what is not BigQuery."""
