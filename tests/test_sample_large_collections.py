"""A large collection (NLST: 592,600 series) is read trimmed, with the same outcome.

The builder reads, of a collection over ``LARGE_COLLECTION`` series, only the series of
the patients its selection keeps (plus the two series holding the collection's extreme
versions). Selection and version facts must come out as from the whole collection.
"""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest

from idcbq.sources.sample import select
from idcbq.sources.sample.instances import VersionFacts
from idcbq.sources.sample.source import SERIES_COLUMNS, read_series, source_files


@pytest.mark.slow
def test_trimmed_read_selects_the_same_series_and_versions() -> None:
    cap = select.DEFAULT_MAX_SERIES_PER_COLLECTION
    whole = pq.read_table(
        source_files().path("idc_index.parquet"),
        columns=list(SERIES_COLUMNS),
        filters=[("collection_id", "=", "nlst")],
    ).to_pylist()
    trimmed = read_series(["nlst"], max_series_per_collection=cap)
    assert 0 < len(trimmed) < len(whole) // 100

    def uids(rows: list[dict]) -> list[str]:
        chosen = select.select_series(rows, max_series_per_collection=cap)
        return sorted(s["SeriesInstanceUID"] for s in chosen)

    assert uids(trimmed) == uids(whole)
    full, part = VersionFacts.of(whole), VersionFacts.of(trimmed)
    assert part.collection == full.collection
    # Patients and studies the sample holds (the extreme-version series' patients are
    # read for the collection facts only, and only partly).
    chosen = select.select_series(trimmed, max_series_per_collection=cap)
    kept = {(s["collection_id"], s["PatientID"]) for s in chosen}
    assert {k: full.patient[k] for k in kept} == {k: part.patient[k] for k in kept}
    studies = {s["StudyInstanceUID"] for s in chosen}
    assert {k: full.study[k] for k in studies} == {k: part.study[k] for k in studies}
