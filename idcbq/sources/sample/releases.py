"""Earlier IDC releases of the sample, from the real version history in idc-index-data.

``idc_index.parquet`` holds each series' current version (``crdc_series_uuid``) with
``series_init_idc_version`` (first release with the series) and
``series_revised_idc_version`` (first release with this version).
``prior_versions_index.parquet`` lists every earlier version of a series: its own
``crdc_series_uuid``, size and buckets, and the releases ``min_idc_version`` ..
``max_idc_version`` that served it.

So the series of release N are, for each selected series with
``series_init_idc_version <= N``: the current version when
``series_revised_idc_version <= N``, else the prior version whose range holds N.
Series that IDC removed before the current release are not in the sample (their
DICOM attributes are not in idc-index-data).

Example:
    >>> rows = [{"SeriesInstanceUID": "1.2", "series_init_idc_version": 20,
    ...          "series_revised_idc_version": 25, "crdc_series_uuid": "new"}]
    >>> prior = {"1.2": [{"crdc_series_uuid": "old", "min_idc_version": 20,
    ...                   "max_idc_version": 24, "series_size_MB": 1.0,
    ...                   "aws_bucket": "idc-open-data"}]}
    >>> [r["crdc_series_uuid"] for r in series_at(rows, 23, prior)]
    ['old']
    >>> series_at(rows, 19, prior)
    []
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

#: Earlier releases the default sample carries besides the current one.
DEFAULT_PRIOR_RELEASES = (23, 24)


@cache
def prior_versions(series_uids: frozenset[str]) -> dict[str, list[dict[str, Any]]]:
    """``prior_versions_index.parquet`` rows of the given series, by SeriesInstanceUID."""
    import pyarrow.parquet as pq

    from idcbq.sources.sample.source import source_files

    table = pq.read_table(
        source_files().path("prior_versions_index.parquet"),
        columns=[
            "SeriesInstanceUID",
            "crdc_series_uuid",
            "series_size_MB",
            "aws_bucket",
            "min_idc_version",
            "max_idc_version",
        ],
        filters=[("SeriesInstanceUID", "in", sorted(series_uids))] if series_uids else None,
    )
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in table.to_pylist():
        out[row["SeriesInstanceUID"]].append(row)
    return dict(out)


@cache
def _all_prior_versions() -> dict[str, list[dict[str, Any]]]:
    return prior_versions(frozenset())


def series_at(
    rows: Iterable[Mapping[str, Any]],
    release: int,
    prior: Mapping[str, list[dict[str, Any]]] | None = None,
) -> list[dict[str, Any]]:
    """The given current-release series rows as they were in ``release``.

    A prior version keeps the series' DICOM attributes and takes its own
    ``crdc_series_uuid``, size and bucket; its ``series_revised_idc_version`` is the
    first release that served it, and the row is marked ``prior_version=True``.
    """
    rows = list(rows)
    if prior is None:
        prior = _all_prior_versions()
    out: list[dict[str, Any]] = []
    for r in rows:
        init = r["series_init_idc_version"] or 1
        revised = r["series_revised_idc_version"] or init
        if init > release:
            continue
        if revised <= release:
            out.append(dict(r))
            continue
        for version in prior.get(r["SeriesInstanceUID"], ()):
            if version["min_idc_version"] <= release <= version["max_idc_version"]:
                old = dict(r)
                old.update(
                    crdc_series_uuid=version["crdc_series_uuid"],
                    series_size_MB=version["series_size_MB"],
                    aws_bucket=version["aws_bucket"] or r.get("aws_bucket"),
                    series_revised_idc_version=version["min_idc_version"],
                    prior_version=True,
                )
                out.append(old)
                break
    return out


def renumber_prior_instances(rows: list[dict[str, Any]], plans: Iterable[Any]) -> None:
    """Give the instances of prior series versions their own UUIDs and URLs (in place).

    IDC names every file by ``<crdc_series_uuid>/<crdc_instance_uuid>.dcm``; a new
    series version has new instance UUIDs, so an earlier version's files differ.
    """
    from idcbq.sources.sample import ids

    prior = {p.uid for p in plans if p.row.get("prior_version")}
    for row in rows:
        if row["SeriesInstanceUID"] not in prior:
            continue
        uuid = ids.derived_uuid("instance-version", row["SOPInstanceUID"], row["crdc_series_uuid"])
        row["instance_uuid"] = row["crdc_instance_uuid"] = uuid
        row["gcs_url"] = ids.instance_url("gs", row["gcs_bucket"], row["crdc_series_uuid"], uuid)
        row["aws_url"] = ids.instance_url("s3", row["aws_bucket"], row["crdc_series_uuid"], uuid)
