"""Wildcard tables: a column whose type differs between the matched tables.

BigQuery reads only the columns a query references, so such a column refuses the query
only when the query may read it (its name, ``*``, ``alias.*`` or the whole row); a
conflicting column the query never names is left out of the union (census30: IDC's
clinical tutorial reads ``dicom_patient_id`` from ``idc_v14_clinical.*``, whose tables
disagree on ``age``).
"""

from __future__ import annotations

import pytest
import sqlglot
from sqlglot import exp

from idcbq.errors import ValidationError
from idcbq.sources.schema import Field
from idcbq.transpile.metadata import expand_metadata

SCHEMAS = {
    "a_one": (Field("pid", "STRING", "NULLABLE"), Field("age", "STRING", "NULLABLE")),
    "a_two": (Field("pid", "STRING", "NULLABLE"), Field("age", "INT64", "NULLABLE")),
    "a_three": (Field("pid", "STRING", "NULLABLE"), Field("age", "STRING", "NULLABLE")),
}
W = "`bigquery-public-data.idc_v1_clinical.a_*`"


def _expanded(sql: str) -> str:
    tree = sqlglot.parse_one(sql, read="bigquery")
    out = expand_metadata(
        tree,
        is_idc=lambda dataset: dataset.startswith("idc_"),
        tables_of=lambda dataset: list(SCHEMAS),
        fields_of=lambda dataset, table: SCHEMAS[table],
    )
    return out.sql("bigquery")


@pytest.mark.parametrize(
    "sql",
    [
        f"SELECT pid FROM {W}",
        f"SELECT w.pid FROM {W} AS w WHERE w.pid IS NOT NULL",
        f"SELECT _TABLE_SUFFIX AS s, COUNT(*) AS n FROM {W} GROUP BY s",
        f"WITH c AS (SELECT pid FROM {W}) SELECT * FROM c",
        f"SELECT o.age FROM {W} AS w JOIN t AS o ON o.pid = w.pid",  # another table's age
    ],
)
def test_unread_conflicting_column_is_left_out(sql):
    text = _expanded(sql)
    assert "UNION ALL" in text
    assert "AS age" not in text and "`age`" not in text  # no branch carries it


@pytest.mark.parametrize(
    "sql",
    [
        f"SELECT age FROM {W}",
        f"SELECT w.age FROM {W} AS w",
        f"SELECT pid FROM {W} WHERE age IS NOT NULL",
        f"SELECT * FROM {W}",
        f"SELECT * EXCEPT (age) FROM {W}",
        f"SELECT w.* FROM {W} AS w",
        f"WITH c AS (SELECT * FROM {W}) SELECT pid FROM c",
        f"SELECT TO_JSON_STRING(w) AS j FROM {W} AS w",
    ],
)
def test_a_read_conflicting_column_refuses_the_wildcard(sql):
    with pytest.raises(ValidationError, match=r"cannot union .* column age is STRING"):
        _expanded(sql)


def test_shared_columns_keep_their_names_and_types():
    text = _expanded(f"SELECT pid, _TABLE_SUFFIX AS s FROM {W}")
    assert text.count("`pid`") == 3 and "'one' AS _TABLE_SUFFIX" in text


@pytest.mark.parametrize(
    ("dataset", "prefix", "refused"),
    [
        ("idc_v14", "dicom_", True),  # dicom_all_view
        ("idc_current", "dicom_", True),  # a copy of idc_vNN, views recreated
        ("idc_v25", "", True),  # every view
        ("idc_v14", "quant", True),  # quantitative_measurements_view
        ("idc_v14", "a_", False),  # no view starts so
        ("idc_v14_clinical", "dicom_", False),  # clinical datasets hold no views
        ("idc_current_clinical", "dicom_", False),
    ],
)
def test_a_wildcard_matching_a_release_view_is_refused(dataset, prefix, refused):
    """Each idc_vNN holds a ``<derived table>_view`` the export lacks; BigQuery's
    wildcard fails when it matches one."""
    from idcbq.transpile.metadata import DERIVED_VIEWS

    tables = {f"{prefix}{name}" for name in SCHEMAS} | {"dicom_all"}
    tree = sqlglot.parse_one(
        f"SELECT pid FROM `bigquery-public-data.{dataset}.{prefix}*`", read="bigquery"
    )

    def expand():
        return expand_metadata(
            tree,
            is_idc=lambda _ds: True,
            tables_of=lambda _ds: sorted(tables),
            fields_of=lambda _ds, name: (
                SCHEMAS.get(name.removeprefix(prefix)) or (Field("pid", "STRING", "NULLABLE"),)
            ),
        )

    if refused:
        with pytest.raises(ValidationError, match="cannot match views") as caught:
            expand()
        assert any(view in str(caught.value) for view in DERIVED_VIEWS)
    else:
        expand()


@pytest.mark.parametrize(
    ("dataset", "views"), [("idc_v14", True), ("idc_current", True), ("idc_v14_clinical", False)]
)
def test_information_schema_lists_the_release_views(dataset, views):
    """The exports hold no views; INFORMATION_SCHEMA lists each derived table's view."""
    tables = {"dicom_all": (Field("Modality", "STRING", "NULLABLE"),), "version_metadata": ()}

    def literal_rows(view: str, *columns: str) -> list[tuple]:
        tree = sqlglot.parse_one(
            f"SELECT * FROM `bigquery-public-data.{dataset}.INFORMATION_SCHEMA.{view}`",
            read="bigquery",
        )
        expand_metadata(
            tree,
            is_idc=lambda _ds: True,
            tables_of=lambda _ds: sorted(tables),
            fields_of=lambda _ds, name: tables.get(name),
        )
        structs = [{e.alias: e.this for e in s.expressions} for s in tree.find_all(exp.Struct)]
        return sorted(tuple(row[c].name for c in columns) for row in structs)

    expected_tables = [("dicom_all", "BASE TABLE"), ("version_metadata", "BASE TABLE")]
    expected_columns = [("dicom_all", "Modality")]
    if views:
        expected_tables.insert(1, ("dicom_all_view", "VIEW"))
        expected_columns.append(("dicom_all_view", "Modality"))
    assert literal_rows("TABLES", "table_name", "table_type") == expected_tables
    assert literal_rows("COLUMNS", "table_name", "column_name") == expected_columns
