"""``idcbq mirror``: a local, query-ready copy of (part of) an IDC Parquet export.

The mirror keeps IDC's layout (``<dest>/bigquery_export/idc_vNN/<table>/*.parquet``),
so ``--source <dest>`` runs every template unchanged, with no Google account and no
network. See :func:`idcbq.sources.mirror.core.mirror` and ``idcbq mirror --help``.
"""

from __future__ import annotations

from idcbq.sources.mirror.core import MirrorReport, mirror
from idcbq.sources.mirror.state import MANIFEST, mirrored_columns, read_manifest

__all__ = ["MANIFEST", "MirrorReport", "mirror", "mirrored_columns", "read_manifest"]
