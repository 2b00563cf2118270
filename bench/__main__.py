"""``make bench``: run every benchmark module and print its table.

Each module under ``bench/`` exposes ``main(argv) -> int``; pass names to run a subset:
``python -m bench templates download``.
"""

from __future__ import annotations

import importlib
import sys
import time

MODULES = ("templates", "download")


def main(argv: list[str] | None = None) -> int:
    names = (argv if argv is not None else sys.argv[1:]) or list(MODULES)
    status = 0
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        print(f"\n## bench/{name}.py\n", flush=True)
        started = time.perf_counter()
        status |= int(module.main([]) or 0)
        print(f"\n({name}: {time.perf_counter() - started:.1f} s)", flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
