"""What a run writes into its folder: results, manifests, the series list and the diff.

Files of one run (all written atomically)::

    results.<fmt>             the query's rows, in each requested format
    manifest.parquet          every instance of the cohort (canonical; always written)
    manifest.<fmt>            the requested manifest formats
    series.parquet            one row per series: uuid, revision, instances, bytes (diff input)
    diff.json                 series added / removed / revised vs the previous good run
    changes.<fmt>             manifests of only the added and revised series
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from idcbq.jobs.diff import KEY, REVISION_COLUMNS, CohortDiff, diff_cohorts

if TYPE_CHECKING:
    import pyarrow as pa

    from idcbq.jobs.spec import JobSpec
    from idcbq.result import QueryResult

RESULTS_STEM = "results"
CANONICAL_MANIFEST = "manifest.parquet"
SERIES_FILE = "series.parquet"
DIFF_FILE = "diff.json"


def manifest_name(stem: str, fmt: str) -> str:
    """``manifest`` + ``urls`` -> ``manifest.txt``; other formats keep their name."""
    return f"{stem}.{ {'urls': 'txt'}.get(fmt, fmt) }"


def write_results(result: QueryResult, folder: Path, formats: list[str]) -> dict[str, str]:
    import json

    from idcbq.io.formats import PROVENANCE_KEY, write_table

    # Parquet keeps it in its metadata, text formats in <file>.provenance.json: a results
    # file expanded to files later (idcbq manifest/download) asks its own source.
    meta = {PROVENANCE_KEY: json.dumps(result.provenance(), default=str)}
    written = {}
    for fmt in formats:
        path = folder / f"{RESULTS_STEM}.{fmt}"
        write_table(result.table, path, fmt, metadata=meta)
        written[f"results.{fmt}"] = path.name
    return written


def write_canonical_manifest(
    result: QueryResult, folder: Path, spec: JobSpec, engine: Any
) -> tuple[pa.Table, dict[str, Any]]:
    """Expand the result to instances (on the job's own engine) and keep it as Parquet."""
    import pyarrow.parquet as pq

    from idcbq.manifest import write_manifest

    path = folder / CANONICAL_MANIFEST
    prov = write_manifest(
        result,
        path,
        format="parquet",
        level="instance",
        provider=spec.outputs.provider,
        engine=engine,
        provenance=result.provenance(),
    )
    return pq.read_table(path), prov


def write_manifests(
    table: pa.Table,
    folder: Path,
    spec: JobSpec,
    provenance: dict[str, Any],
    *,
    stem: str = "manifest",
) -> dict[str, str]:
    """Each requested manifest format from an instance-level manifest table."""
    from idcbq.manifest import write_manifest

    written = {}
    for fmt in spec.outputs.manifests:
        name = manifest_name(stem, fmt)
        if stem == "manifest" and name == CANONICAL_MANIFEST:
            written[f"{stem}.{fmt}"] = name  # already there
            continue
        # Series-level lines (one prefix per series) exist only for s5cmd and URL lists.
        level = spec.outputs.manifest_level if fmt in ("s5cmd", "urls") else "instance"
        write_manifest(
            table,
            folder / name,
            format=fmt,
            level=level,
            provider=spec.outputs.provider,
            provenance=provenance,
        )
        written[f"{stem}.{fmt}"] = name
    return written


def series_table(manifest: pa.Table, results: pa.Table) -> pa.Table:
    """One row per series of the cohort, with what marks a revision.

    ``crdc_series_uuid`` comes from the manifest (IDC gives a revised series a new one);
    ``series_revised_idc_version`` is kept when the query selected it.
    """
    import pyarrow as pa

    grouped = manifest.group_by([KEY, "crdc_series_uuid"]).aggregate(
        [("crdc_instance_uuid", "count"), ("size", "sum")]
    )
    table = grouped.rename_columns(
        {"crdc_instance_uuid_count": "instances", "size_sum": "bytes"}
    ).select([KEY, "crdc_series_uuid", "instances", "bytes"])
    extra = [
        c for c in REVISION_COLUMNS if c in results.column_names and c not in table.column_names
    ]
    if extra and KEY in results.column_names:
        revisions = (
            results.select([KEY, *extra]).group_by(KEY).aggregate([(c, "max") for c in extra])
        )
        revisions = revisions.rename_columns({f"{c}_max": c for c in extra})
        table = table.join(revisions, KEY, join_type="left outer")
    return (
        table.sort_by(KEY).combine_chunks()
        if table.num_rows
        else pa.table(
            {name: pa.array([], table.schema.field(name).type) for name in table.column_names}
        )
    )


def diff_series(previous: pa.Table, current: pa.Table) -> CohortDiff:
    """Diff two ``series.parquet`` tables, comparing only revision columns both have."""
    shared = [
        c for c in REVISION_COLUMNS if c in previous.column_names and c in current.column_names
    ]
    return diff_cohorts(previous.select([KEY, *shared]), current.select([KEY, *shared]))


def changed_rows(manifest: pa.Table, changes: CohortDiff) -> pa.Table:
    """The manifest rows of added and revised series."""
    import pyarrow as pa
    import pyarrow.compute as pc

    keep = pc.is_in(manifest.column(KEY), value_set=pa.array(changes.changed, pa.string()))
    return manifest.filter(keep)
