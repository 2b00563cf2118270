"""UNNEST joins become select-list UNNESTs on DuckDB only where that keeps every row.

Each query runs on DuckDB twice over the same rows: transpiled as usual, and with the
rewrite switched off (the joins stay). Both must give the same rows; the SQL shows
which form was used.
"""

from __future__ import annotations

import pytest

from idcbq.transpile import to_duckdb, unnest_joins
from tests.test_transpile_rewrites import T

COLUMNS = {
    "id": "INT64",
    "ImageType": "ARRAY<STRING>",
    "SegmentSequence": "ARRAY<STRUCT<CodeMeaning STRING, Names ARRAY<STRING>>>",
    "Modality": "STRING",
    "txt": "STRING",
    "i": "INT64",
    "Rows": "STRING",
}
SCHEMA = {"bigquery-public-data": {"idc_v25": {"dicom_all": COLUMNS}}}


def both(small_con, sql: str) -> tuple[str, list[tuple], list[tuple]]:
    """The rewritten SQL, its rows, and the rows of the same query left as joins."""
    rewritten = to_duckdb(sql, schema=SCHEMA)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(unnest_joins, "unnest_joins_to_projections", lambda tree, _columns: tree)
        as_join = to_duckdb(sql, schema=SCHEMA)
    assert "JOIN UNNEST" in as_join.upper() or "JOIN (SELECT" in as_join.upper()
    return (
        rewritten,
        sorted(small_con.execute(rewritten).fetchall()),
        sorted(small_con.execute(as_join).fetchall()),
    )


CONVERTED = {
    "chain": f"SELECT d.id, seg.CodeMeaning, n FROM {T} AS d CROSS JOIN UNNEST(d.SegmentSequence) AS seg "
    "CROSS JOIN UNNEST(seg.Names) AS n WHERE Modality = 'CT' AND n <> 'z'",
    "comma_unaliased_table": f"SELECT id, t FROM {T}, UNNEST(ImageType) AS t WHERE t > 'a'",
    "star": f"SELECT * EXCEPT (SegmentSequence) FROM {T} CROSS JOIN UNNEST(ImageType) AS t",
    "cte_source": f"WITH c AS (SELECT id, ImageType AS arr FROM {T}) "
    "SELECT c.id, x FROM c CROSS JOIN UNNEST(c.arr) AS x ORDER BY c.id, x",
    "group_by_element": f"SELECT t, COUNT(*) AS n FROM {T}, UNNEST(ImageType) AS t GROUP BY t",
}
KEPT = {
    "left_join": f"SELECT id, t FROM {T} LEFT JOIN UNNEST(ImageType) AS t",
    "with_offset": f"SELECT id, t, pos FROM {T}, UNNEST(ImageType) AS t WITH OFFSET AS pos",
    "qualified_star": f"SELECT d.* EXCEPT (SegmentSequence, ImageType) FROM {T} AS d, UNNEST(d.ImageType) AS t",
    "alias_is_a_column": f"SELECT id FROM {T}, UNNEST(ImageType) AS txt",
    "cte_with_star": f"WITH c AS (SELECT * FROM {T}) SELECT id, t FROM c, UNNEST(c.ImageType) AS t",
}


@pytest.mark.parametrize("name", CONVERTED)
def test_rewritten_to_select_list_unnest_with_the_same_rows(small_con, name):
    sql, rewritten, as_join = both(small_con, CONVERTED[name])
    assert "JOIN UNNEST" not in sql.upper() and "SELECT *, UNNEST(" in sql.upper()
    assert rewritten == as_join
    assert rewritten  # the rows exist, so a dropped row would show


@pytest.mark.parametrize("name", KEPT)
def test_kept_as_a_join_where_a_projection_could_differ(small_con, name):
    sql, rewritten, as_join = both(small_con, KEPT[name])
    assert "SELECT *, UNNEST(" not in sql.upper()
    assert rewritten == as_join


def test_left_join_keeps_rows_with_empty_or_null_arrays(small_con):
    _, rows, _ = both(small_con, KEPT["left_join"])
    assert (2, None) in rows and (3, None) in rows
