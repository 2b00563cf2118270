"""``make bench``: run every benchmark module and print its table.

Each module under ``bench/`` exposes ``main(argv) -> int``; pass names to run a subset,
and options after them go to each named module:
``python -m bench templates download``, ``python -m bench scale --quick``.
``python -m bench --quick`` runs every module, passing ``--quick`` to those that take it
(``QUICK = True`` in the module) for a fast path.
"""

from __future__ import annotations

import importlib
import sys
import time

MODULES = (
    "templates",
    "download",
    "dicomweb",
    "scale",
    "remote_parquet",
    "idc_index_compare",
    "mirror",
    "googlesql",
    "gate",
    "expression_types",
    "cli_query",
    "sample",
)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    names = [a for a in argv if not a.startswith("-") and a in MODULES]
    options = [a for a in argv if a not in names]
    quick_all = not names and options == ["--quick"]
    status = 0
    for name in names or list(MODULES):
        module = importlib.import_module(f"bench.{name}")
        if quick_all:
            args = ["--quick"] if getattr(module, "QUICK", False) else []
        else:
            args = options if names else []
        print(f"\n## bench/{name}.py {' '.join(args)}\n", flush=True)
        started = time.perf_counter()
        status |= int(module.main(args) or 0)
        print(f"\n({name}: {time.perf_counter() - started:.1f} s)", flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
