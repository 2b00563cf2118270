"""INFORMATION_SCHEMA views keep only the tables a ``WHERE table_name = ...`` can match.

The view is a literal of every column of every table of a dataset (thousands of rows for
a clinical dataset); a query filtering one table must not carry the others through the
analysis and translation. Rows left out are rows that WHERE drops: the answer is the same.
"""

from __future__ import annotations

import pytest
import sqlglot

from idcbq.sources.schema import Field
from idcbq.transpile.metadata import expand_metadata

TABLES = ["alpha", "beta", "gamma"]


def _expanded(sql: str) -> str:
    tree = sqlglot.parse_one(sql, read="bigquery")
    out = expand_metadata(
        tree,
        is_idc=lambda dataset: dataset.startswith("idc_"),
        tables_of=lambda dataset: TABLES,
        fields_of=lambda dataset, table: (Field(f"{table}_col", "STRING", "NULLABLE"),),
    )
    return out.sql("bigquery")


def _tables_listed(sql: str) -> set[str]:
    text = _expanded(sql)
    return {t for t in TABLES if f"'{t}' AS table_name" in text}


V = "`bigquery-public-data.idc_v1_clinical.INFORMATION_SCHEMA.COLUMNS`"


@pytest.mark.parametrize(
    ("where", "kept"),
    [
        ("table_name = 'beta'", {"beta"}),
        ("'beta' = table_name", {"beta"}),
        ("c.table_name IN ('alpha', 'gamma')", {"alpha", "gamma"}),
        ("table_name IN ('alpha', 'beta') AND column_name LIKE '%x%' AND table_name = 'beta'",
         {"beta"}),
        ("table_name = 'nope'", set()),
        # not a conjunct that only keeps named tables: every table stays
        ("table_name = 'beta' OR column_name = 'x'", set(TABLES)),
        ("table_name NOT IN ('beta')", set(TABLES)),
        ("LOWER(table_name) = 'beta'", set(TABLES)),
        ("other.table_name = 'beta'", set(TABLES)),
    ],
)  # fmt: skip
def test_where_table_name_keeps_those_tables(where, kept):
    assert _tables_listed(f"SELECT column_name FROM {V} AS c WHERE {where}") == kept


def test_a_join_or_no_where_keeps_every_table():
    assert _tables_listed(f"SELECT column_name FROM {V}") == set(TABLES)
    joined = (
        f"SELECT c.column_name FROM {V} AS c JOIN t AS other ON TRUE WHERE c.table_name = 'beta'"
    )
    assert _tables_listed(joined) == set(TABLES)


def test_no_table_left_is_still_an_empty_view_with_its_columns():
    text = _expanded(f"SELECT column_name, data_type FROM {V} WHERE table_name = 'nope'")
    assert "WHERE FALSE" in text and "column_name" in text
