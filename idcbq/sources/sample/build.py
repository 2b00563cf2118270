"""Build the derived IDC sample export (``idcbq sample build``).

Example (builds a one-collection sample in a few seconds)::

    >>> from idcbq.sources.sample import build_sample
    >>> root = build_sample(tmp_path, collections=["qin_pet_phantom"])  # doctest: +SKIP
    >>> sorted(p.name for p in (root / "bigquery_export").iterdir())  # doctest: +SKIP
    ['idc_current', 'idc_current_clinical', 'idc_v25', 'idc_v25_clinical']
"""

from __future__ import annotations

import json
import logging
import shutil
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from idcbq.errors import UsageError
from idcbq.sources.releases import EXPORT_DIR, SAMPLE_IDC_VERSION
from idcbq.sources.sample import clinical, derived, history, releases, select, tables
from idcbq.sources.sample.dicom_all import dicom_all_sample_fields, instance_rows
from idcbq.sources.sample.instances import VersionFacts, plan_series
from idcbq.sources.sample.paths import sample_code_hash
from idcbq.sources.sample.source import (
    all_collection_ids,
    iter_series_batches,
    read_series,
    source_files,
)
from idcbq.sources.sample.writer import TableSink, build_lock, copy_dataset, publish, temp_root
from idcbq.sources.schema import DERIVED_TABLES, arrow_schema, other_table_fields

log = logging.getLogger("idcbq.sources.sample")

MANIFEST = "idcbq_sample.json"
PER_INSTANCE_TABLES = ("auxiliary_metadata", "dicom_metadata", "dicom_metadata_curated")
SERIES_PER_CHUNK = 400


@dataclass(frozen=True)
class BuildOptions:
    """Everything that determines the sample's bytes (recorded in idcbq_sample.json)."""

    collections: tuple[str, ...] | None
    max_instances_per_series: int | None
    max_series_per_collection: int | None
    full: bool
    rows_per_file: int
    row_group_size: int
    idc_version: int = SAMPLE_IDC_VERSION
    #: Earlier releases built beside the current one (``idc_vNN`` datasets).
    prior_releases: tuple[int, ...] = ()
    source_version: str = ""
    builder: str = ""


@dataclass
class BuildStats:
    rows: dict[str, int] = field(default_factory=dict)
    files: dict[str, int] = field(default_factory=dict)
    series: int = 0
    collections: list[str] = field(default_factory=list)
    modalities: dict[str, int] = field(default_factory=dict)
    seedable: list[dict[str, Any]] = field(default_factory=list)
    #: Seedable series of the current release, and (SOPInstanceUID, crdc_series_uuid) ->
    #: (instance_size, instance_hash) of their files: earlier releases reuse both.
    seedable_uids: set[str] = field(default_factory=set)
    seeded_files: dict[tuple[str, str], tuple[int, str]] = field(default_factory=dict)


def builder_hash() -> str:
    """Hash of the builder's code: part of the options, so a code change rebuilds."""
    return sample_code_hash()


def build_sample(
    root: str | Path,
    *,
    collections: Sequence[str] | None = None,
    max_instances_per_series: int | None = select.DEFAULT_MAX_INSTANCES_PER_SERIES,
    max_series_per_collection: int | None = select.DEFAULT_MAX_SERIES_PER_COLLECTION,
    full: bool = False,
    force: bool = False,
    prior_releases: Sequence[int] | None = None,
) -> Path:
    """Build the sample export under ``root`` and return ``root``.

    Args:
        root: export root; gets ``bigquery_export/``, ``README.md`` and ``idcbq_sample.json``.
        collections: collection ids (default: ``select.DEFAULT_COLLECTIONS``; all with ``full``).
        max_instances_per_series: cap on instance rows per series (``None``: no cap).
        max_series_per_collection: whole studies are added up to this many series per
            collection (``None``: every series). Ignored with ``full``.
        full: every series of the index (1,044,191), streamed in chunks.
        force: rebuild even if ``root`` already holds a sample built with the same options.
        prior_releases: earlier IDC releases to build beside the current one (default
            ``releases.DEFAULT_PRIOR_RELEASES``; none with ``full``).

    Raises:
        UsageError: unknown collection ids or non-positive caps.
    """
    root = Path(root).expanduser().resolve()
    if prior_releases and any(not 1 <= v < SAMPLE_IDC_VERSION for v in prior_releases):
        raise UsageError(
            f"prior releases must be between 1 and {SAMPLE_IDC_VERSION - 1}, got {prior_releases}"
        )
    if max_instances_per_series is not None and max_instances_per_series < 1:
        raise UsageError(f"max_instances_per_series must be >= 1, got {max_instances_per_series}")
    if collections is not None:
        collections = select.check_collections(collections, all_collection_ids())
    elif not full:
        collections = list(select.DEFAULT_COLLECTIONS)
    options = BuildOptions(
        collections=tuple(collections) if collections else None,
        max_instances_per_series=max_instances_per_series,
        max_series_per_collection=None if full else max_series_per_collection,
        full=full,
        prior_releases=tuple(
            sorted(set(prior_releases))
            if prior_releases is not None
            else (() if full else releases.DEFAULT_PRIOR_RELEASES)
        ),
        rows_per_file=500_000 if full else 2_000,
        row_group_size=100_000 if full else 1_000,
        source_version=source_files().version,
        builder=builder_hash(),
    )
    with build_lock(root):
        if not force and _same_build(root, options):
            log.info("sample at %s is up to date", root)
            return root
        tmp = temp_root(root)
        try:
            stats = _build_into(tmp, options)
            _write_labels(tmp, options, stats)
            publish(tmp, root)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return root


def _same_build(root: Path, options: BuildOptions) -> bool:
    manifest = root / MANIFEST
    if not manifest.is_file() or not (root / EXPORT_DIR).is_dir():
        return False
    try:
        recorded = json.loads(manifest.read_text())["options"]
    except (ValueError, KeyError):
        return False
    return recorded == json.loads(json.dumps(asdict(options)))


def _series_chunks(
    options: BuildOptions,
) -> Iterator[tuple[list[dict[str, Any]], list[dict[str, Any]]]]:
    """Yield (all series of the source slice, selected series) in study-whole chunks."""
    if options.full and options.collections is None:
        for batch in iter_series_batches():
            yield batch, batch
        return
    series = read_series(
        list(options.collections or ()),
        max_series_per_collection=options.max_series_per_collection,
    )
    chosen = select.select_series(
        series, max_series_per_collection=options.max_series_per_collection
    )
    start = 0
    while start < len(chosen):
        end = min(start + SERIES_PER_CHUNK, len(chosen))
        while (
            end < len(chosen)
            and chosen[end]["StudyInstanceUID"] == chosen[end - 1]["StudyInstanceUID"]
        ):
            end += 1
        yield series, chosen[start:end]
        start = end


def _build_into(tmp: Path, options: BuildOptions) -> BuildStats:
    export = tmp / EXPORT_DIR
    main = f"idc_v{options.idc_version}"
    stats = BuildStats()
    # Selected once: every release is built from the same (current) selection.
    chunks = None if options.full else list(_series_chunks(options))
    _build_release(tmp, options, options.idc_version, stats, chunks)
    if not stats.rows["dicom_all"]:
        raise UsageError("the selection has no series; nothing to build")
    for release in options.prior_releases:
        _build_release(tmp, options, release, stats, chunks)
    copy_dataset(export, main, "idc_current")
    copy_dataset(export, f"{main}_clinical", "idc_current_clinical")
    return stats


def _build_release(
    tmp: Path,
    options: BuildOptions,
    release: int,
    stats: BuildStats,
    chunks: list[tuple[list[dict[str, Any]], list[dict[str, Any]]]] | None = None,
) -> None:
    """Write ``idc_v<release>`` and its clinical dataset; earlier releases via ``releases``."""
    export = tmp / EXPORT_DIR
    main = f"idc_v{release}"
    current = release == options.idc_version
    key = (lambda name: name) if current else (lambda name: f"{main}.{name}")
    meta = {
        "idcbq.source": f"idc-index-data {options.source_version}",
        "idcbq.idc_version": str(release),
    }

    def sink(dataset: str, table: str, schema: Any, **kw: int) -> TableSink:
        return TableSink(
            export / dataset / table,
            schema,
            rows_per_file=kw.get("rows_per_file", options.rows_per_file),
            row_group_size=kw.get("row_group_size", options.row_group_size),
            metadata=meta,
        )

    # The columns the release had (idcbq.sources.sample.history); all of them for the current one.
    dicom_all_fields = history.release_fields("dicom_all", release, dicom_all_sample_fields())
    sinks = {"dicom_all": sink(main, "dicom_all", arrow_schema(dicom_all_fields))}
    for name in (*PER_INSTANCE_TABLES, "dicom_metadata_curated_series_level"):
        fields = history.release_fields(name, release, other_table_fields(name))
        sinks[name] = sink(main, name, arrow_schema(fields))

    def per_release(name: str, table: Any) -> Any:
        return history.select_release_columns(name, release, table)

    patients: dict[str, set[str]] = defaultdict(set)
    modalities: dict[str, int] = defaultdict(int)
    versions: VersionFacts | None = None
    seen_source: int | None = None
    seedable: set[str] | None = None
    series = 0
    for source_series, chunk in chunks if chunks is not None else _series_chunks(options):
        if not current:
            source_id = id(source_series)
            source_series = releases.series_at(source_series, release)
            chunk = releases.series_at(chunk, release)
        else:
            source_id = id(source_series)
        if versions is None or source_id != seen_source:
            # Versions aggregate over the source slice (whole collections when subsetting).
            versions = VersionFacts.of(source_series)
            seen_source = source_id
        if seedable is None and current:
            pool = (
                chunk
                if options.full
                else select.select_series(
                    source_series, max_series_per_collection=options.max_series_per_collection
                )
            )
            seedable = stats.seedable_uids = set(select.seedable_series(pool))
        elif seedable is None:
            seedable = stats.seedable_uids
        plans = plan_series(chunk, cap=options.max_instances_per_series, seedable=seedable)
        if not current:
            for p in plans:
                # Whole series as in the current release; files are seeded for it only.
                p.seedable = False
        rows = list(instance_rows(plans, versions))
        if current:
            for r in rows:
                if r["SeriesInstanceUID"] in seedable:
                    file_key = (r["SOPInstanceUID"], r["crdc_series_uuid"])
                    stats.seeded_files[file_key] = (r["instance_size"], r["instance_hash"])
        else:
            releases.renumber_prior_instances(rows, plans)
            for r in rows:
                same = stats.seeded_files.get((r["SOPInstanceUID"], r["crdc_series_uuid"]))
                if same:  # an unchanged seeded series: the same files
                    r["instance_size"], r["instance_hash"] = same
        history.add_legacy_values(rows, release)
        sinks["dicom_all"].write(tables.to_arrow(dicom_all_fields, rows))
        sinks["auxiliary_metadata"].write(
            per_release("auxiliary_metadata", tables.auxiliary_metadata(rows))
        )
        sinks["dicom_metadata"].write(tables.dicom_metadata(rows))
        sinks["dicom_metadata_curated"].write(
            per_release("dicom_metadata_curated", tables.dicom_metadata_curated(rows))
        )
        sinks["dicom_metadata_curated_series_level"].write(
            tables.dicom_metadata_curated_series_level(rows)
        )
        series += len(plans)
        for p in plans:
            patients[p.row["collection_id"]].add(p.row["PatientID"])
            modalities[p.modality] += p.kept
            if p.seedable:
                stats.seedable.append(
                    {
                        "SeriesInstanceUID": p.uid,
                        "collection_id": p.row["collection_id"],
                        "Modality": p.modality,
                        "crdc_series_uuid": p.row["crdc_series_uuid"],
                        "instances": p.kept,
                    }
                )
    for name, s in sinks.items():
        s.close()
        stats.rows[key(name)], stats.files[key(name)] = s.rows, len(s.files)
    small = {"rows_per_file": 1_000_000, "row_group_size": 100_000}
    collection_ids = sorted(patients)
    for name, table in (
        ("original_collections_metadata", tables.original_collections_metadata(collection_ids)),
        ("analysis_results_metadata", tables.analysis_results_metadata()),
        ("version_metadata", tables.version_metadata(upto=release)),
    ):
        table = per_release(name, table)
        _write_one(sink(main, name, table.schema, **small), table, stats, key(name))
    for name in DERIVED_TABLES:
        # After dicom_metadata/dicom_all are on disk: IDC derives these from them.
        table = derived.compute(tmp, main, name)
        _write_one(sink(main, name, table.schema, **small), table, stats, key(name))
    clin = (
        clinical.clinical_tables({c: sorted(p) for c, p in patients.items()}, idc_version=release)
        if history.has_clinical_dataset(release)
        else {}
    )
    for name, table in sorted(clin.items()):
        _write_one(
            sink(f"{main}_clinical", name, table.schema, **small),
            table,
            stats,
            key(f"clinical.{name}"),
        )
    if current:
        stats.series = series
        stats.collections = collection_ids
        stats.modalities = dict(sorted(modalities.items()))


def _write_one(s: TableSink, table: Any, stats: BuildStats, key: str) -> None:
    s.write(table)
    s.close()
    stats.rows[key], stats.files[key] = s.rows, len(s.files)


def _write_labels(tmp: Path, options: BuildOptions, stats: BuildStats) -> None:
    """README.md and idcbq_sample.json: say plainly what this is."""
    manifest = {
        "what": "derived sample of an IDC BigQuery Parquet export (not IDC's instance-level data)",
        "idc_version": options.idc_version,
        "datasets": [
            f"idc_v{options.idc_version}",
            f"idc_v{options.idc_version}_clinical",
            "idc_current",
            "idc_current_clinical",
            *(f"idc_v{v}{suffix}" for v in options.prior_releases for suffix in ("", "_clinical")),
        ],
        "options": asdict(options),
        "counts": {"series": stats.series, "rows": stats.rows, "files": stats.files},
        "collections": stats.collections,
        "instances_by_modality": stats.modalities,
        "seedable_series": stats.seedable,
    }
    (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    lines = [
        "# Derived IDC sample export (built by idcbq)",
        "",
        "This folder is a **derived sample**, built by `idcbq sample build` from the",
        f"series-level index shipped in the PyPI package `idc-index-data` ({options.source_version},",
        f"IDC v{options.idc_version}). It is **not** IDC's instance-level data.",
        "",
        "- Collections, patients, studies, series, modalities, series sizes, licenses, buckets and",
        "  series UUIDs are real (from idc-index-data).",
        "- Instance rows, SOPInstanceUIDs, instance UUIDs, instance sizes and hashes, nested DICOM",
        "  attributes and all clinical values are synthetic, generated deterministically.",
        "- Layout follows IDC's export: `bigquery_export/<dataset>/<table>/*.parquet`.",
        "- `segmentations`, `measurement_groups`, `quantitative_measurements` and",
        "  `qualitative_measurements` are computed from the sample's own `dicom_metadata` with",
        "  the rules of IDC's view definitions (see idcbq/sources/sample/derived.py).",
        "- Earlier releases ("
        + (", ".join(f"`idc_v{v}`" for v in options.prior_releases) or "none")
        + ") hold the same series as they were then, from idc-index-data's",
        "  version history (`prior_versions_index.parquet`); series IDC removed are not included.",
        "  Any other release from v2 on is derived the same way the first time a query reads it",
        "  (idcbq/sources/sample/lazy.py), with the columns IDC had then (history.py).",
        "",
        f"Series: {stats.series}; dicom_all rows: {stats.rows['dicom_all']};"
        f" collections: {', '.join(stats.collections)}.",
        "",
        "Build options, counts and the seedable series are in `idcbq_sample.json`.",
        "",
    ]
    (tmp / "README.md").write_text("\n".join(lines))
