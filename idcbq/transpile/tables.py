"""Table-name mapping: BigQuery FQNs -> DuckDB ``dataset.table`` names.

The DuckDB engine exposes every dataset of an export root as a schema named like
the BigQuery dataset, so only the catalog (the data project) has to go.

Example:
    >>> import sqlglot
    >>> tree = sqlglot.parse_one("SELECT 1 FROM `bigquery-public-data.idc_v25.dicom_all`", read="bigquery")
    >>> map_tables(tree, "bigquery-public-data").sql("duckdb")
    'SELECT 1 FROM "idc_v25"."dicom_all"'
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from idcbq.errors import TranspileError

if TYPE_CHECKING:
    from sqlglot import exp


def map_tables(tree: exp.Expr, data_project: str) -> exp.Expr:
    """Strip the data-project catalog from every table; refuse other projects.

    A table in another project would silently resolve to nothing (or to the wrong
    thing) on DuckDB, so it is an error rather than a guess.
    """
    from sqlglot import exp

    for table in tree.find_all(exp.Table):
        catalog = table.catalog
        if not catalog:
            continue
        if catalog.lower() != data_project.lower():
            raise TranspileError(
                f"unsupported on DuckDB: table {table.sql('bigquery')} is in project "
                f"{catalog!r}, not the data project {data_project!r}",
                hint="only the IDC data project's datasets exist in a DuckDB export",
            )
        table.set("catalog", None)
    return tree
