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


#: Keys that make a JSON file a download report (a run, or a dry run's plan).
_RUN_KEYS = ("planned", "downloaded", "skipped", "failed")
_PLAN_KEYS = ("planned_files", "planned_bytes")


def load_report(path: str) -> dict[str, Any]:
    """One ``download --report`` file (or a job's ``run.json``, whose ``download`` it takes).

    Anything else is a UsageError naming the file.
    """
    from idcbq.errors import Location, UsageError

    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except OSError as exc:
        raise UsageError(f"cannot read report {path}: {exc.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        line = getattr(exc, "lineno", None)
        raise UsageError(f"not JSON: {getattr(exc, 'msg', exc)}",
                         location=Location(path, line, getattr(exc, "colno", None))) from None  # fmt: skip
    if isinstance(data, dict) and isinstance(data.get("download"), dict) and "job" in data:
        data = data["download"]  # a job's run.json
    if not isinstance(data, dict) or not (
        all(k in data for k in _RUN_KEYS) or all(k in data for k in _PLAN_KEYS)
    ):
        raise UsageError(f"{path} is not an idcbq download report",
                         hint="give the files written by `idcbq download --report FILE`")  # fmt: skip
    shard = data.get("shard")
    if shard is not None and not (
        isinstance(shard, dict)
        and all(isinstance(shard.get(k), int) for k in ("index", "count"))
        and 0 <= shard["index"] < shard["count"]
    ):
        raise UsageError(
            f"{path}: bad shard {shard!r} (want {{'index': i, 'count': n}}, 0 <= i < n)"
        )
    return data


@dataclass
class MergedReport:
    """Shards' reports summed: totals, each shard's line, and what is missing or doubled."""

    reports: list[tuple[str, dict[str, Any]]]
    count: int
    dry_run: bool
    missing: list[int] = field(default_factory=list)
    duplicated: dict[int, list[str]] = field(default_factory=dict)

    def _sum(self, key: str) -> int:
        return sum(int(r.get(key) or 0) for _, r in self.reports)

    @property
    def failures(self) -> list[dict[str, Any]]:
        out = []
        for path, r in self.reports:
            label = _label(r)
            rows = r.get("problems", []) if self.dry_run else r.get("failed", [])
            for f in rows:
                out.append({"shard": label, "report": path, **f})
            if r.get("aborted"):
                out.append({"shard": label, "report": path, "url": "", "path": "",
                            "reason": f"run stopped: {r['aborted']}"})  # fmt: skip
        return out

    @property
    def failed_shards(self) -> list[str]:
        return [_label(r) for _, r in self.reports if not r.get("ok")]

    @property
    def ok(self) -> bool:
        return not self.failed_shards and not self.missing and not self.duplicated

    def as_dict(self) -> dict[str, Any]:
        totals: dict[str, Any] = (
            {"planned_files": self._sum("planned_files"), "planned_bytes": self._sum("planned_bytes")}
            if self.dry_run
            else {"planned": self._sum("planned"), "downloaded": self._sum("downloaded"),
                  "skipped": self._sum("skipped"), "failed": sum(len(r.get("failed", [])) for _, r in self.reports),
                  "bytes_downloaded": self._sum("bytes_downloaded"), "bytes_planned": self._sum("bytes_planned"),
                  "retries": self._sum("retries")}
        )  # fmt: skip
        return {
            "ok": self.ok, "dry_run": self.dry_run, "shard_count": self.count,
            "shards_present": sorted({_index(r) for _, r in self.reports}),
            "missing_shards": self.missing,
            "duplicated_shards": {str(k): v for k, v in sorted(self.duplicated.items())},
            "failed_shards": self.failed_shards, **totals,
            "shards": [{"report": p, **{k: v for k, v in r.items() if k not in ("failed", "problems", "examples")}}
                       for p, r in self.reports],
            "failures": self.failures,
        }  # fmt: skip

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), indent=2)

    def summary(self, max_failures: int = 20) -> str:
        lines = []
        for path, r in self.reports:
            if self.dry_run:
                what = f"{r.get('planned_files', 0)} files, {human_bytes(int(r.get('planned_bytes') or 0))} planned"
            else:
                what = (f"{r.get('downloaded', 0)} downloaded, {r.get('skipped', 0)} already present, "
                        f"{len(r.get('failed', []))} failed of {r.get('planned', 0)}")  # fmt: skip
            lines.append(f"shard {_label(r)}: {'OK' if r.get('ok') else 'FAILED'}: {what} ({path})")
        d = self.as_dict()
        head = f"{'OK' if self.ok else 'INCOMPLETE'}: {len({_index(r) for _, r in self.reports})} of {self.count} shards"
        if self.dry_run:
            head += f"; {d['planned_files']} files, {human_bytes(d['planned_bytes'])} ({d['planned_bytes']} bytes) planned"
        else:
            head += (f"; {d['downloaded']} downloaded, {d['skipped']} already present, {d['failed']} failed "
                     f"of {d['planned']} files; {human_bytes(d['bytes_downloaded'])} downloaded")  # fmt: skip
        lines.insert(0, head)
        if self.missing:
            lines.append(
                f"missing shards: {', '.join(map(str, self.missing))} (of 0..{self.count - 1})"
            )
        for index, paths in sorted(self.duplicated.items()):
            lines.append(f"shard {index}/{self.count} reported more than once: {', '.join(paths)}")
        failures = self.failures
        for f in failures[:max_failures]:
            lines.append(
                f"  shard {f['shard']}: {f.get('url', '')} -> {f.get('path', '')}: {f.get('reason', '')}"
            )
        if len(failures) > max_failures:
            lines.append(f"  ... and {len(failures) - max_failures} more (see --json)")
        return "\n".join(lines)


def _index(report: dict[str, Any]) -> int:
    return int((report.get("shard") or {}).get("index", 0))


def _label(report: dict[str, Any]) -> str:
    shard = report.get("shard") or {"index": 0, "count": 1}
    return f"{shard['index']}/{shard['count']}"


def merge_reports(paths: list[str]) -> MergedReport:
    """Read and sum shards' reports; files that cannot be one split's reports are refused.

    Example:
        >>> import json, tempfile, os
        >>> d = tempfile.mkdtemp()
        >>> for i in (0, 2):
        ...     with open(os.path.join(d, f"{i}.json"), "w") as fh:
        ...         json.dump({"ok": True, "planned": 2, "downloaded": 2, "skipped": 0,
        ...                    "failed": [], "shard": {"index": i, "count": 3}}, fh)
        >>> merged = merge_reports([os.path.join(d, "0.json"), os.path.join(d, "2.json")])
        >>> merged.ok, merged.missing, merged.as_dict()["downloaded"]
        (False, [1], 4)
    """
    from idcbq.errors import UsageError

    if not paths:
        raise UsageError("no report files given")
    loaded = [(p, load_report(p)) for p in paths]
    kinds = {"planned_files" in r and "downloaded" not in r for _, r in loaded}
    if len(kinds) > 1:
        raise UsageError(
            "some reports are dry runs (plans) and some are runs: sum one kind at a time"
        )
    counts: dict[int, str] = {}
    for p, r in loaded:
        counts.setdefault(int((r.get("shard") or {"count": 1})["count"]), p)
    if len(counts) > 1:
        (a, pa), (b, pb) = list(counts.items())[:2]
        raise UsageError(f"reports of different splits: {pa} is one of {a} shards, {pb} one of {b}",
                         hint="sum the reports of one split (one --shard count) at a time")  # fmt: skip
    count = next(iter(counts))
    seen: dict[int, list[str]] = {}
    for p, r in loaded:
        seen.setdefault(_index(r), []).append(p)
    return MergedReport(
        reports=sorted(loaded, key=lambda pr: (_index(pr[1]), pr[0])),
        count=count,
        dry_run=kinds.pop(),
        missing=[i for i in range(count) if i not in seen],
        duplicated={i: ps for i, ps in seen.items() if len(ps) > 1},
    )
