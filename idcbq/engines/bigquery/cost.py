"""The cost guard: estimate bytes before running, refuse above the cap, label jobs.

BigQuery on-demand pricing bills bytes processed rounded up to whole MiB, and at
least 10 MiB per query (and per table referenced; we count the per-query minimum). A query BigQuery estimates at 0 bytes is still
billed 10 MiB, and BigQuery itself refuses ``maximum_bytes_billed`` below that.
The guard compares the *billed* estimate with the cap.

Example:
    >>> guard = CostGuard(max_bytes_billed=10 * 2**30)
    >>> guard.decide(2**40).allowed
    False
    >>> round(guard.decide(2**40).cost_usd, 2)
    6.25
    >>> CostGuard().decide(0).billed_bytes == MIN_BILLED_BYTES
    True
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from idcbq.errors import CostCapError, UsageError

if TYPE_CHECKING:
    from idcbq.engines.base import PreparedQuery

TIB = 2**40
MIB = 2**20
MIN_BILLED_BYTES = 10 * MIB
DEFAULT_PRICE_PER_TIB = 6.25

#: Anything that can say how many bytes a query would process (None = unknown).
Estimator = Callable[["PreparedQuery"], "int | None"]


def billed_bytes(processed: int) -> int:
    """Bytes billed on demand for ``processed`` bytes: whole MiB, at least 10 MiB."""
    rounded = -(-max(processed, 0) // MIB) * MIB
    return max(rounded, MIN_BILLED_BYTES)


def format_bytes(n: int | None) -> str:
    """Human size with binary units.

    Example:
        >>> format_bytes(1536), format_bytes(3 * 2**40), format_bytes(12)
        ('1.5 KiB', '3.0 TiB', '12 B')
    """
    if n is None:
        return "unknown"
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "PiB":
            return f"{int(size)} B" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} PiB"


@dataclass(frozen=True)
class Estimate:
    """A dry-run estimate and what the guard makes of it."""

    processed_bytes: int | None
    billed_bytes: int | None
    cost_usd: float | None
    max_bytes_billed: int | None
    price_per_tib: float

    @property
    def allowed(self) -> bool:
        if self.max_bytes_billed is None or self.billed_bytes is None:
            return True
        return self.billed_bytes <= self.max_bytes_billed

    def describe(self) -> str:
        if self.processed_bytes is None:
            return "estimate unavailable"
        text = f"{self.processed_bytes:,} bytes processed ({format_bytes(self.processed_bytes)})"
        if self.billed_bytes is not None and self.billed_bytes != self.processed_bytes:
            text += f", {self.billed_bytes:,} bytes billed ({format_bytes(self.billed_bytes)})"
        if self.cost_usd is not None:
            text += f", about ${self.cost_usd:,.4f} on demand at ${self.price_per_tib:g}/TiB"
        return text

    def as_dict(self) -> dict[str, object]:
        return {
            "bytes_processed": self.processed_bytes,
            "bytes_billed": self.billed_bytes,
            "cost_usd": self.cost_usd,
            "price_per_tib": self.price_per_tib,
            "max_bytes_billed": self.max_bytes_billed,
            "allowed": self.allowed,
        }


@dataclass(frozen=True)
class CostGuard:
    """Decides whether a query may run, given an estimate of the bytes it processes."""

    max_bytes_billed: int | None = None
    price_per_tib: float = DEFAULT_PRICE_PER_TIB

    def __post_init__(self) -> None:
        if self.max_bytes_billed is not None and self.max_bytes_billed < 0:
            raise UsageError(f"max_bytes_billed must be >= 0, got {self.max_bytes_billed}")
        if self.price_per_tib < 0:
            raise UsageError(f"price_per_tib must be >= 0, got {self.price_per_tib}")

    def decide(self, processed: int | None) -> Estimate:
        billed = None if processed is None else billed_bytes(processed)
        cost = None if billed is None else billed / TIB * self.price_per_tib
        return Estimate(processed, billed, cost, self.max_bytes_billed, self.price_per_tib)

    def check(self, processed: int | None, *, template: str | None = None) -> Estimate:
        """Return the estimate, or raise :class:`CostCapError` if it is above the cap."""
        est = self.decide(processed)
        if not est.allowed:
            what = f"template {template!r}" if template else "query"
            raise CostCapError(
                f"{what} refused by the cost guard: estimate {est.describe()} is above the "
                f"cap --max-bytes-billed {self.max_bytes_billed:,} "
                f"({format_bytes(self.max_bytes_billed)})",
                hint="narrow the query (fewer columns, a collection filter) or raise "
                "--max-bytes-billed",
            )
        return est


_LABEL_BAD = re.compile(r"[^a-z0-9_-]+")


def label_value(text: str) -> str:
    """Sanitize to BigQuery's label charset: lowercase, digits, ``_`` and ``-``, <= 63 chars.

    Example:
        >>> label_value("cohort.Series_by Modality")
        'cohort_series_by_modality'
    """
    return _LABEL_BAD.sub("_", text.lower()).strip("_")[:63]


def label_key(text: str) -> str:
    key = label_value(text)
    if not key or not key[0].isalpha():
        key = f"k_{key}"[:63]
    return key


def job_labels(template: str | None, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Labels every job carries so users can find their spend (template, tool version)."""
    from idcbq.core.version import __version__

    labels = {"tool": "idcbq", "idcbq_version": label_value(__version__)}
    labels["idcbq_template"] = label_value(template) if template else "adhoc"
    for key, value in (extra or {}).items():
        labels[label_key(str(key))] = label_value(str(value))
    return labels


_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGTP]?)(I?)B?\s*$", re.IGNORECASE)


def parse_size(text: str | int) -> int:
    """Bytes from ``1000``, ``10GB`` (10**9), ``10GiB`` (2**30), ``1.5TiB``...

    Example:
        >>> parse_size("10GiB"), parse_size("2MB"), parse_size(42)
        (10737418240, 2000000, 42)
    """
    if isinstance(text, int):
        return text
    match = _SIZE_RE.match(str(text))
    if not match:
        raise UsageError(
            f"{text!r} is not a byte size", hint="use bytes (1000000) or units: 10GB, 10GiB, 1TiB"
        )
    number, unit, binary = match.groups()
    power = " KMGTP".index(unit.upper() or " ")
    return int(float(number) * ((1024 if binary else 1000) ** power))
