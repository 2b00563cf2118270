"""The wide synthetic dicom_all export: real width, BigQuery-like files, mostly NULL."""

from __future__ import annotations

import pyarrow.parquet as pq

from idcbq.sources.sample.dicom_all import prune_empty_records
from idcbq.sources.schema import dicom_all_fields
from idcbq.testing.wide_export import (
    WideSpec,
    collection_name,
    footer_stats,
    wide_schema,
    write_wide_export,
)

SPEC = WideSpec(files=6, collections=3, rows_per_file=50, row_group_rows=25)


def test_schema_has_every_reference_column_and_the_target_width():
    schema = wide_schema(4000)
    # Parquet cannot store a struct without fields: records the reference lists with no
    # known sub-fields (after dropping empty sub-records) are the only ones left out.
    pruned = [prune_empty_records(f) for f in dicom_all_fields()]
    reference = {f.name for f in pruned if not (f.is_record and not f.fields)}
    assert reference <= set(schema.names)
    assert len(dicom_all_fields()) - len(reference) < 30
    assert len(schema.names) > 1000  # extra DICOM sequences on top of the reference's ~800


def test_files_are_wide_ordered_by_collection_and_mostly_null(tmp_path):
    root = write_wide_export(tmp_path, SPEC)
    files = sorted((root / "bigquery_export/idc_v25/dicom_all").glob("*.parquet"))
    assert [f.name for f in files] == [f"{i:012d}.parquet" for i in range(6)]
    facts = footer_stats(files[0])
    assert facts["leaf_columns"] == 4000
    assert facts["row_groups"] == 2 and facts["rows"] == 50
    assert facts["footer_bytes"] > 500_000  # thousands of column chunks per row group
    firsts = [pq.read_table(f, columns=["collection_id"]).column(0)[0].as_py() for f in files]
    assert firsts == sorted(firsts) and set(firsts) == {collection_name(i) for i in range(3)}
    meta = pq.read_metadata(files[0])
    rg = meta.row_group(0)
    nulls = sum(
        1
        for i in range(rg.num_columns)
        if rg.column(i).statistics is not None and rg.column(i).statistics.null_count == 25
    )
    assert nulls > 0.9 * rg.num_columns
    # Same collection -> byte copies (fast generation); the marker makes reruns free.
    assert files[0].read_bytes() == files[1].read_bytes()
    assert write_wide_export(tmp_path, SPEC) == root
