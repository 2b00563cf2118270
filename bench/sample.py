"""The embedded sample: build time and size, and the cost of an earlier release on first use.

Every step runs in a fresh child process (``python -m bench.sample --step ...``), so
imports count as a first run's do:

- ``build``: ``build_sample`` into an empty directory (the default: v25, ``idc_current``
  and the eagerly built v23/v24), wall seconds, peak RSS, bytes and Parquet files on disk;
- ``release vNN``: deriving one earlier release on first use (``ensure_release``), for
  a few releases, with the bytes it adds;
- ``query vNN``: a fresh ``idcbq sql --idc-version vNN`` once the release is built.

    python -m bench sample            # build + v2, v14, v15 on first use
    python -m bench sample --quick    # build + v14 only
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

from bench._util import dir_bytes, format_table, human_bytes, python_child

QUICK = True


def _step(root: Path, step: str, release: int | None) -> None:
    started = time.perf_counter()
    if step == "build":
        from idcbq.sources.sample import build_sample

        build_sample(root, force=True)
    else:
        from idcbq.sources.sample.lazy import ensure_release

        assert release is not None
        ensure_release(root, release)
    print(f"{time.perf_counter() - started:.2f}")


def _files(root: Path) -> int:
    return sum(1 for _ in root.rglob("*.parquet"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench sample")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--step", choices=("build", "release"), help=argparse.SUPPRESS)
    parser.add_argument("--root", help=argparse.SUPPRESS)
    parser.add_argument("--release", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.step:
        _step(Path(args.root), args.step, args.release)
        return 0
    releases = (14,) if args.quick else (2, 14, 15)
    tmp = Path(tempfile.mkdtemp(prefix="idcbq-bench-sample-"))
    root = tmp / "sample"
    rows = []
    try:
        child = python_child("bench.sample", "--step", "build", "--root", str(root)).check("build")
        size = dir_bytes(root)
        rows.append(["build (v25 + current + v23, v24)", child.seconds, child.peak_rss_mb,
                     human_bytes(size), _files(root)])  # fmt: skip
        for release in releases:
            before = dir_bytes(root)
            child = python_child(
                "bench.sample", "--step", "release", "--root", str(root), "--release", str(release)
            ).check(f"v{release}")
            rows.append([f"idc_v{release} on first use", child.seconds, child.peak_rss_mb,
                         "+" + human_bytes(dir_bytes(root) - before), _files(root)])  # fmt: skip
        for release in releases[:1]:
            child = python_child(
                "idcbq", "sql", "--source", str(root), "--idc-version", f"v{release}",
                "SELECT COUNT(*) AS n FROM dicom_all",
            ).check("query")  # fmt: skip
            rows.append([f"idcbq sql --idc-version v{release} (built)", child.seconds,
                         child.peak_rss_mb, "", ""])  # fmt: skip
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(format_table(["step (fresh process)", "wall s", "peak RSS MB", "disk", "files"], rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
