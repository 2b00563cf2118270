"""Every earlier IDC release of the sample, built on first use.

The sample holds ``idc_v25`` (plus ``idc_current`` and the eagerly built
``releases.DEFAULT_PRIOR_RELEASES``); any other release from v2 on is derivable from
idc-index-data's version history. Building all of them up front would multiply the
sample's size and build time by ~8 for datasets most users never read, so a release
is built the first time a query (or a listing of its tables) needs it: a few seconds
for the default sample, under the sample's build lock, moved into place atomically
(its clinical dataset first, then the main one, whose ``dicom_all`` marks it done).

The release is built by the same code, from the same selection and options, as an
eager build would: ``idcbq_sample.json`` records them.

v1 cannot be derived: idc-index-data's version history starts at v2.

Example:
    >>> derivable_releases(25)
    (2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24)
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
from pathlib import Path
from typing import Any

from idcbq.errors import SourceError
from idcbq.sources.releases import EXPORT_DIR
from idcbq.sources.sample.history import FIRST_CLINICAL_RELEASE, has_clinical_dataset

log = logging.getLogger("idcbq.sources.sample")

#: The build manifest at a sample root (``build.MANIFEST``; read here without the builder).
MANIFEST = "idcbq_sample.json"
#: The first release idc-index-data's ``prior_versions_index`` describes.
FIRST_DERIVABLE_RELEASE = 2

_DATASET = re.compile(r"^idc_v(\d+)(_clinical)?$")


def derivable_releases(current: int) -> tuple[int, ...]:
    """Releases before ``current`` the sample can derive (v2 on)."""
    return tuple(range(FIRST_DERIVABLE_RELEASE, current))


def sample_manifest(root: Path) -> dict[str, Any] | None:
    """The build manifest of a sample root, or None if ``root`` is not a sample."""
    path = Path(root) / MANIFEST
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _derivable_here(manifest: dict[str, Any]) -> tuple[int, ...]:
    options = manifest.get("options") or {}
    if options.get("full"):  # a full build's release takes as long as the build: not lazily
        return ()
    return derivable_releases(int(manifest.get("idc_version") or options.get("idc_version") or 0))


def unbuilt_datasets(root: Path) -> dict[str, int]:
    """``{dataset: release}`` of the releases a sample root can derive but has not built yet."""
    manifest = sample_manifest(root)
    if manifest is None:
        return {}
    export = Path(root) / EXPORT_DIR
    out: dict[str, int] = {}
    for release in _derivable_here(manifest):
        if (export / f"idc_v{release}" / "dicom_all").is_dir():
            continue
        out[f"idc_v{release}"] = release
        if has_clinical_dataset(release):
            out[f"idc_v{release}_clinical"] = release
    return out


def why_missing(root: Path, dataset: str) -> str | None:
    """Why a sample root cannot hold ``dataset`` (an IDC release dataset), or None."""
    manifest = sample_manifest(root)
    match = _DATASET.match(dataset)
    if manifest is None or match is None:
        return None
    release, clinical = int(match.group(1)), bool(match.group(2))
    current = int(manifest.get("idc_version") or 0)
    if release < FIRST_DERIVABLE_RELEASE:
        return (
            f"idc-index-data's version history starts at v{FIRST_DERIVABLE_RELEASE}: "
            f"the sample cannot derive IDC v{release}"
        )
    if release > current:
        return f"the sample is derived from IDC v{current}, the latest release it knows"
    if clinical and not has_clinical_dataset(release):
        return f"IDC's clinical datasets start at v{FIRST_CLINICAL_RELEASE}"
    return None


def ensure_release(root: Path, release: int) -> bool:
    """Build ``idc_v<release>`` (and its clinical dataset) into a sample root if missing.

    Returns True if it was built now, False if it was there already.

    Raises:
        SourceError: the root is not a sample, cannot derive the release, was built by
            other code, or cannot be written.
    """
    from idcbq.sources.sample.writer import build_lock

    root = Path(root)
    export = root / EXPORT_DIR
    main = f"idc_v{release}"
    if (export / main / "dicom_all").is_dir():
        return False
    manifest = sample_manifest(root)
    if manifest is None or release not in _derivable_here(manifest):
        reason = why_missing(root, main) or "the sample builds earlier releases only"
        raise SourceError(f"{root}: cannot derive IDC release {main}", hint=reason)
    try:
        with build_lock(root):
            if (export / main / "dicom_all").is_dir():  # another process built it meanwhile
                return False
            log.info("deriving %s for the sample at %s (first use)", main, root)
            _build_missing_release(root, manifest, release)
    except OSError as exc:
        raise SourceError(
            f"{root}: cannot add IDC release {main} to the sample ({exc.strerror or exc})",
            hint="make the sample directory writable, or rebuild it: idcbq sample build --force",
        ) from exc
    return True


def _build_missing_release(root: Path, manifest: dict[str, Any], release: int) -> None:
    from idcbq.sources.sample import build
    from idcbq.sources.sample.source import source_files
    from idcbq.sources.sample.writer import temp_root

    raw = dict(manifest["options"])
    raw["collections"] = tuple(raw["collections"]) if raw.get("collections") else None
    raw["prior_releases"] = tuple(raw.get("prior_releases") or ())
    options = build.BuildOptions(**raw)
    if options.builder != build.builder_hash() or options.source_version != source_files().version:
        raise SourceError(
            f"{root}: the sample was built by other code or from another idc-index-data",
            hint="rebuild it (idcbq sample build --force) to derive earlier releases",
        )
    stats = _current_release_facts(root, manifest, options.idc_version)
    tmp = temp_root(root)
    try:
        chunks = None if options.full else list(build._series_chunks(options))
        build._build_release(tmp, options, release, stats, chunks)
        export = root / EXPORT_DIR
        for dataset in (f"idc_v{release}_clinical", f"idc_v{release}"):  # main last: the marker
            built = tmp / EXPORT_DIR / dataset
            if not built.is_dir():
                continue
            target = export / dataset
            if target.exists():  # a half-moved earlier attempt
                shutil.rmtree(target)
            os.replace(built, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _current_release_facts(root: Path, manifest: dict[str, Any], current: int) -> Any:
    """The facts an earlier release reuses from the current one: its seeded files."""
    import pyarrow.parquet as pq

    from idcbq.sources.sample.build import BuildStats

    stats = BuildStats()
    stats.seedable_uids = {s["SeriesInstanceUID"] for s in manifest.get("seedable_series") or ()}
    if stats.seedable_uids:
        table = pq.read_table(
            root / EXPORT_DIR / f"idc_v{current}" / "dicom_all",
            columns=[
                "SeriesInstanceUID",
                "SOPInstanceUID",
                "crdc_series_uuid",
                "instance_size",
                "instance_hash",
            ],
            filters=[("SeriesInstanceUID", "in", sorted(stats.seedable_uids))],
        )
        for r in table.to_pylist():
            key = (r["SOPInstanceUID"], r["crdc_series_uuid"])
            stats.seeded_files[key] = (r["instance_size"], r["instance_hash"])
    return stats
