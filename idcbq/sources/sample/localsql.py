"""Run the sample builder's BigQuery SQL on plain DuckDB over the sample it is writing.

The builder computes IDC's derived tables (:mod:`.derived`) with SQL. It runs that SQL
here, below the engines: the sample is data the engines read, so building it must not
call them. The SQL goes through idcbq's transpiler, like a query on the DuckDB engine,
over views that read each table's Parquet files the way the engine's views do (NULL
arrays read as ``[]``, BigQuery's UTC time zone).

Example:
    >>> import pathlib, tempfile
    >>> import pyarrow as pa, pyarrow.parquet as pq
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> (root / "bigquery_export/idc_v1/t").mkdir(parents=True)
    >>> pq.write_table(pa.table({"x": [1, 2, 3]}), root / "bigquery_export/idc_v1/t/0.parquet")
    >>> run_sql(root, "idc_v1", "SELECT SUM(x) AS n FROM t").to_pylist()
    [{'n': 6}]
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from idcbq.sources.releases import EXPORT_DIR, IDC_DATA_PROJECT

if TYPE_CHECKING:
    import pyarrow as pa


def run_sql(root: Path, dataset: str, sql: str, *, threads: int = 2) -> pa.Table:
    """Run one BigQuery SELECT over ``root``'s ``dataset`` tables; the result as Arrow.

    Every table folder of ``root/bigquery_export/<dataset>/`` is a view named like the
    table. ``SUM``/``COUNT`` results come back as INT64, as BigQuery gives them.
    """
    import pyarrow as pa

    from idcbq.sources.connection import connect_for, sql_list
    from idcbq.sources.location import ExportLocation
    from idcbq.transpile import to_duckdb
    from idcbq.transpile.empty_arrays import view_select_list
    from idcbq.transpile.results import check_result

    con = connect_for(ExportLocation.parse(root), config={"threads": threads})
    try:
        for folder in sorted((Path(root) / EXPORT_DIR / dataset).iterdir()):
            files = sorted(str(f) for f in folder.glob("*.parquet"))
            if not files:
                continue
            source = f"read_parquet({sql_list(files)}, hive_partitioning = false)"
            empty = con.execute(f"SELECT * FROM {source} LIMIT 0").to_arrow_table()
            name = folder.name.replace('"', '""')
            con.execute(
                f'CREATE VIEW "{name}" AS SELECT {view_select_list(empty.schema)} FROM {source}'
            )
        # no GoogleSQL analysis here: the DuckDB engine's rule for an unanalyzed query
        duck_sql = to_duckdb(sql, data_project=IDC_DATA_PROJECT, strict_types=False)
        table = con.execute(duck_sql).to_arrow_table()
    finally:
        con.close()
    for i, field in enumerate(table.schema):
        if field.type == pa.decimal128(38, 0):  # DuckDB's HUGEINT sums
            table = table.set_column(i, field.name, table.column(i).cast(pa.int64()))
    return check_result(table)
