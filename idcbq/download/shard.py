"""Split a download over many workers: a stable, series-whole share of a manifest.

``idcbq download MANIFEST --shard i/n`` fetches only the series whose
``crdc_series_uuid`` falls to shard ``i`` of ``n`` (0-based). The split hashes the
UUID with SHA-256, so every worker, on any machine and any Python version, computes
the same split; a series is never split across shards, and the n shards together
cover every series exactly once.

``--shard auto`` takes the index and count from the batch engine the process runs under:

=======================  =========================  ====================================
engine                   index                      count
=======================  =========================  ====================================
Google Cloud Batch       ``BATCH_TASK_INDEX``       ``BATCH_TASK_COUNT``
Cloud Run jobs           ``CLOUD_RUN_TASK_INDEX``   ``CLOUD_RUN_TASK_COUNT``
Kubernetes indexed Job   ``JOB_COMPLETION_INDEX``   ``--shard-count`` / ``IDCBQ_SHARD_COUNT``
=======================  =========================  ====================================

Example:
    >>> Shard.parse("1/4")
    Shard(index=1, count=4)
    >>> Shard.parse("1/4").label, Shard.parse("1/4").file_tag
    ('1/4', 'shard-1-of-4')
    >>> shard_of("b8c1e9a4-0000-4000-8000-000000000001", 4)
    0
    >>> Shard.from_environment({"JOB_COMPLETION_INDEX": "2"}, count=3)
    Shard(index=2, count=3)
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass

from idcbq.errors import ManifestError, UsageError

#: (engine, index variable, count variable or None when the engine sets no count).
ENGINES: tuple[tuple[str, str, str | None], ...] = (
    ("Google Cloud Batch", "BATCH_TASK_INDEX", "BATCH_TASK_COUNT"),
    ("Cloud Run jobs", "CLOUD_RUN_TASK_INDEX", "CLOUD_RUN_TASK_COUNT"),
    ("Kubernetes indexed Job", "JOB_COMPLETION_INDEX", None),
)
#: Where the count comes from under Kubernetes (which sets only the index).
COUNT_VARIABLE = "IDCBQ_SHARD_COUNT"
#: More shards than this is surely a typo (Cloud Batch allows 100,000 tasks per group).
MAX_SHARDS = 1_000_000


def shard_of(series_uuid: str, count: int) -> int:
    """The shard (0-based) a series belongs to: SHA-256 of its UUID, modulo ``count``.

    The same on every machine and process (unlike ``hash()``, which is salted per process).
    """
    digest = hashlib.sha256(series_uuid.strip().lower().encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % count


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` (0-based) of ``count``."""

    index: int
    count: int

    def __post_init__(self) -> None:
        if not 1 <= self.count <= MAX_SHARDS:
            raise UsageError(f"shard count {self.count} is not between 1 and {MAX_SHARDS}")
        if not 0 <= self.index < self.count:
            raise UsageError(
                f"shard index {self.index} is not in 0..{self.count - 1}",
                hint="shards are numbered from 0: --shard 0/4 .. --shard 3/4",
            )

    @property
    def label(self) -> str:
        return f"{self.index}/{self.count}"

    @property
    def file_tag(self) -> str:
        """Part of the lock and state file names: one pair per (destination, shard)."""
        return f"shard-{self.index}-of-{self.count}"

    def holds(self, series_uuid: object, where: str = "manifest row") -> bool:
        """True when the series falls to this shard; a row without a series UUID is refused."""
        if not isinstance(series_uuid, str) or not series_uuid.strip():
            raise ManifestError(
                f"{where} has no crdc_series_uuid, so it cannot be given to a shard",
                hint="every idcbq, s5cmd and URL manifest names the series; drop --shard otherwise",
            )
        return shard_of(series_uuid, self.count) == self.index

    def as_dict(self) -> dict[str, int]:
        return {"index": self.index, "count": self.count}

    @classmethod
    def parse(cls, text: str) -> Shard:
        """``"i/n"`` (0-based index) -> Shard; anything else is a UsageError naming it."""
        index, slash, count = text.strip().partition("/")
        try:
            if not slash:
                raise ValueError(text)
            return cls(int(index), int(count))
        except ValueError:
            raise UsageError(
                f"--shard {text!r} is not i/n",
                hint="e.g. --shard 0/4 (the first of four), or --shard auto under a batch engine",
            ) from None

    @classmethod
    def from_environment(
        cls, environ: Mapping[str, str] | None = None, *, count: int | None = None
    ) -> Shard:
        """The shard of the batch engine task this process runs as (see the module docs).

        ``count`` (``--shard-count``) is required under Kubernetes, which sets no count;
        under the other engines it must agree with theirs.
        """
        env = os.environ if environ is None else environ
        found = [(name, i, c) for name, i, c in ENGINES if env.get(i, "").strip()]
        if not found:
            names = ", ".join(i for _, i, _ in ENGINES)
            raise UsageError(
                f"--shard auto: not running as a batch task (none of {names} is set)",
                hint="give --shard i/n instead, or run under Cloud Batch, Cloud Run jobs or a "
                "Kubernetes indexed Job",
            )
        if len(found) > 1:
            names = ", ".join(i for _, i, _ in found)
            raise UsageError(f"--shard auto: more than one batch engine's index is set ({names})",
                             hint="unset the ones that do not apply, or give --shard i/n")  # fmt: skip
        engine, index_var, count_var = found[0]
        index = _int_var(env, index_var)
        if count_var is not None:
            engine_count = _int_var(env, count_var, missing=f"{engine} set {index_var} but not")
            if count is not None and count != engine_count:
                raise UsageError(
                    f"--shard-count {count} disagrees with {count_var}={engine_count} ({engine})"
                )
            count = engine_count
        elif count is None:
            if not env.get(COUNT_VARIABLE, "").strip():
                raise UsageError(
                    f"--shard auto under a {engine}: {index_var} is set but the number of "
                    f"shards is unknown",
                    hint=f"give --shard-count N or set {COUNT_VARIABLE} (the Job's completions)",
                )
            count = _int_var(env, COUNT_VARIABLE)
        return cls(index, count)


def resolve_shard(text: str | None, *, count: int | None = None,
                  environ: Mapping[str, str] | None = None) -> Shard | None:  # fmt: skip
    """``--shard`` and ``--shard-count`` as given on the command line (or in a job spec)."""
    if text is None or not text.strip():
        if count is not None:
            raise UsageError("--shard-count needs --shard auto")
        return None
    if text.strip().lower() == "auto":
        return Shard.from_environment(environ, count=count)
    shard = Shard.parse(text)
    if count is not None and count != shard.count:
        raise UsageError(f"--shard-count {count} disagrees with --shard {text}")
    return shard


def _int_var(env: Mapping[str, str], name: str, missing: str | None = None) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        raise UsageError(f"--shard auto: {missing or 'not set:'} {name}")
    try:
        value = int(raw)
    except ValueError:
        raise UsageError(f"--shard auto: {name}={raw!r} is not a whole number") from None
    if value < 0:
        raise UsageError(f"--shard auto: {name}={raw!r} is negative")
    return value
