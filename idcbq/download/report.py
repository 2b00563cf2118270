"""Progress bar and the end-of-run report."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


def human_bytes(n: float) -> str:
    """Example:
    >>> human_bytes(1536)
    '1.5 KB'
    """
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1024 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"


@dataclass
class DownloadReport:
    """What a run did. ``ok`` only when every planned file is present and verified."""

    dest: str
    planned: int = 0
    downloaded: int = 0
    skipped: int = 0
    failed: list[tuple[str, str, str]] = field(default_factory=list)  # (url, path, reason)
    bytes_downloaded: int = 0
    bytes_planned: int = 0
    elapsed_s: float = 0.0
    retries: int = 0
    aborted: str | None = None
    #: why the run stopped early: "local" (disk full, read-only...) or "unreachable".
    abort_kind: str | None = None
    note: str | None = None
    #: ``{"index": i, "count": n}`` when the run fetched one shard of a split manifest
    shard: dict[str, int] | None = None

    @property
    def ok(self) -> bool:
        return (
            not self.failed
            and self.aborted is None
            and self.downloaded + self.skipped == self.planned
        )

    @property
    def files_per_s(self) -> float:
        return self.downloaded / self.elapsed_s if self.elapsed_s else 0.0

    @property
    def bytes_per_s(self) -> float:
        return self.bytes_downloaded / self.elapsed_s if self.elapsed_s else 0.0

    def summary(self, max_failures: int = 20) -> str:
        lines = [
            (f"shard {self.shard['index']}/{self.shard['count']}: " if self.shard else "")
            + f"{'OK' if self.ok else 'INCOMPLETE'}: {self.downloaded} downloaded, {self.skipped} already present "
            f"(verified), {len(self.failed)} failed of {self.planned} files into {self.dest}",
            f"{human_bytes(self.bytes_downloaded)} in {self.elapsed_s:.1f} s "
            f"({self.files_per_s:.0f} files/s, {human_bytes(self.bytes_per_s)}/s), {self.retries} retries",
        ]
        if self.note:
            lines.append(self.note)
        if self.aborted:
            lines.append(f"run stopped: {self.aborted}")
        if self.failed:
            lines.append("failed files:")
            for url, path, reason in self.failed[:max_failures]:
                lines.append(f"  {url} -> {path}: {reason}")
            if len(self.failed) > max_failures:
                lines.append(f"  ... and {len(self.failed) - max_failures} more (see --report)")
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok, "dest": self.dest, "planned": self.planned, "downloaded": self.downloaded,
            "skipped": self.skipped, "failed": [dict(zip(("url", "path", "reason"), f, strict=True)) for f in self.failed],
            "bytes_downloaded": self.bytes_downloaded, "bytes_planned": self.bytes_planned,
            "elapsed_s": round(self.elapsed_s, 3), "files_per_s": round(self.files_per_s, 1),
            "retries": self.retries, "aborted": self.aborted, "abort_kind": self.abort_kind,
            "shard": self.shard,
        }  # fmt: skip

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), indent=2)


@dataclass
class DryRun:
    """The plan without transferring: counts, bytes, free space, layout sample."""

    plan: Any  # download.plan.Plan, or DICOMweb's plan (same counts)
    dest: str
    free_bytes: int
    #: ``{"index": i, "count": n}`` when this is one shard's plan
    shard: dict[str, int] | None = None

    @property
    def fits(self) -> bool:
        return self.free_bytes >= self.plan.total_bytes

    def summary(self) -> str:
        p = self.plan
        estimated = getattr(p, "estimated", [])  # series counted from their own sizes
        lines = [
            (f"shard {self.shard['index']}/{self.shard['count']}: " if self.shard else "")
            + f"plan: {p.file_count} files, {human_bytes(p.total_bytes)} ({p.total_bytes} bytes)"
            + (f", {p.unknown_sizes} of unknown size" if p.unknown_sizes else "")
            + (
                f"; {len(estimated)} series counted from the source's own sizes (not listed)"
                if estimated
                else ""
            ),
            f"destination: {self.dest} (free: {human_bytes(self.free_bytes)}; "
            + ("enough space" if self.fits else "NOT ENOUGH SPACE")
            + ")",
            f"provider: {p.provider}; layout: {p.template}",
        ]
        lines += [f"  {r['url']} -> {r['path']}" for r in p.sample_rows]
        lines += [f"problem: {url}: {why}" for url, why in p.problems[:20]]
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        """What ``--dry-run --report FILE`` writes (``idcbq report`` sums these across shards)."""
        p = self.plan
        return {
            "dry_run": True, "ok": not p.problems, "dest": self.dest, "shard": self.shard,
            "planned_files": p.file_count, "planned_bytes": p.total_bytes,
            "unknown_sizes": p.unknown_sizes, "free_bytes": self.free_bytes, "fits": self.fits,
            "provider": getattr(p, "provider", None), "layout": getattr(p, "template", None),
            "examples": list(p.sample_rows),
            "problems": [{"url": url, "reason": why} for url, why in p.problems],
        }  # fmt: skip

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), indent=2)


class Progress:
    """One tqdm bar counting bytes, with files done in its description; silent when quiet."""

    def __init__(self, total_files: int, total_bytes: int | None, quiet: bool):
        self.bar = None
        self.total_files = total_files
        self.files = 0
        if not quiet:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total_bytes or None, unit="B", unit_scale=True, unit_divisor=1024,
                            desc=self._desc(), dynamic_ncols=True, mininterval=0.25)  # fmt: skip

    def _desc(self) -> str:
        return f"{self.files}/{self.total_files} files"

    def update(self, nbytes: int, files: int = 1) -> None:
        self.files += files
        if self.bar is not None:
            self.bar.set_description_str(self._desc(), refresh=False)
            self.bar.update(nbytes)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
