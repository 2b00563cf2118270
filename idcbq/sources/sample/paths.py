"""Where the embedded sample lives, and the hash of the code that builds it.

Cheap to import (no builder, no engine): the engines resolve the default source with it.
"""

from __future__ import annotations

import os
from pathlib import Path

from idcbq.core.version import __version__
from idcbq.sources.releases import cache_dir


def default_sample_root() -> Path:
    """Root of the embedded sample export (contains ``bigquery_export/``)."""
    override = os.environ.get("IDCBQ_SAMPLE_ROOT")
    if override:
        return Path(override).expanduser()
    return cache_dir() / f"sample-{__version__}-{sample_code_hash()[:10]}"


def sample_code_hash() -> str:
    """Hash of the sample builder's files: a new builder gets a new sample, never a stale one.

    Read from the files (a few ms) rather than imported, so resolving the root stays cheap.
    """
    import hashlib

    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        if path.name != "seed.py":
            digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:16]
