"""The googlesql engine (ZetaSQL reference implementation) on the embedded sample.

Real ZetaSQL in WebAssembly over the sample's Parquet files; nothing is mocked.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import time

import pyarrow as pa
import pytest

from idcbq.errors import QueryError, UsageError, ValidationError
from idcbq.params import BoundParameter


def run(engine, sql, *params, limit=None):
    return engine.execute(engine.prepare(sql, list(params)), limit=limit)


@pytest.fixture(scope="module")
def n_rows(sample_root) -> int:
    """dicom_all's row count in the sample, read from the Parquet footers (not an engine)."""
    import pyarrow.parquet as pq

    folder = sample_root / "bigquery_export" / "idc_current" / "dicom_all"
    return sum(pq.ParquetFile(p).metadata.num_rows for p in folder.glob("*.parquet"))


def test_count_dicom_all(gsql_engine, n_rows):
    table = run(gsql_engine, "SELECT COUNT(*) AS n FROM dicom_all")
    assert table.to_pylist() == [{"n": n_rows}]
    assert table.schema.field("n").type == pa.int64()


@pytest.mark.parametrize(
    "name",
    [
        "dicom_all",
        "idc_current.dicom_all",
        "`bigquery-public-data.idc_current.dicom_all`",
        "`bigquery-public-data`.idc_current.dicom_all",
    ],
)
def test_table_paths_and_implicit_alias(gsql_engine, name, n_rows):
    sql = f"SELECT COUNT(dicom_all.SOPInstanceUID) AS n FROM {name}"
    assert run(gsql_engine, sql).column("n").to_pylist() == [n_rows]


def test_clinical_shorthand_and_dataset(gsql_engine):
    a = run(gsql_engine, "SELECT COUNT(*) AS n FROM clinical.table_metadata")
    b = run(gsql_engine, "SELECT COUNT(*) AS n FROM idc_current_clinical.table_metadata")
    assert a.equals(b) and a.column("n")[0].as_py() > 0


def test_cte_named_like_a_table_is_not_replaced(gsql_engine):
    sql = "WITH dicom_all AS (SELECT 1 AS x) SELECT COUNT(*) AS n FROM dicom_all"
    assert run(gsql_engine, sql).to_pylist() == [{"n": 1}]


def test_same_answers_as_duckdb_on_nested_fields_and_unnest(gsql_engine_v25, sample_engine):
    sql = (
        "SELECT d.Modality, COUNT(*) AS n, COUNT(DISTINCT r.SeriesInstanceUID) AS refs "
        "FROM `bigquery-public-data.idc_v25.dicom_all` AS d, "
        "UNNEST(d.ReferencedSeriesSequence) AS r GROUP BY d.Modality ORDER BY d.Modality"
    )
    ours = run(gsql_engine_v25, sql)
    theirs = run(sample_engine, sql)
    assert ours.num_rows > 0
    assert ours.to_pylist() == theirs.to_pylist()


def test_struct_and_offset_access(gsql_engine):
    sql = (
        "SELECT COUNTIF(ARRAY_LENGTH(ReferencedSeriesSequence) > 0) AS with_refs, "
        "COUNTIF(ReferencedSeriesSequence[SAFE_OFFSET(0)].SeriesInstanceUID IS NOT NULL) AS first "
        "FROM dicom_all"
    )
    row = run(gsql_engine, sql).to_pylist()[0]
    assert row["with_refs"] == row["first"] > 0


def test_null_list_in_parquet_is_an_empty_array(gsql_engine, sample_engine, sample_root):
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    files = sorted((sample_root / "bigquery_export/idc_current/dicom_all").glob("*.parquet"))
    nulls = sum(pc.sum(pc.is_null(pq.read_table(f, columns=["ImageType"])["ImageType"])).as_py()
                or 0 for f in files)  # fmt: skip
    assert nulls > 0  # the sample has NULL lists, else this test proves nothing
    sql = (
        "SELECT COUNTIF(ImageType IS NULL) AS is_null, "
        "COUNTIF(ARRAY_LENGTH(ImageType) = 0) AS empty FROM dicom_all"
    )
    assert run(gsql_engine, sql).to_pylist() == [{"is_null": 0, "empty": nulls}]


def test_result_array_with_null_element_is_an_error(gsql_engine):
    with pytest.raises(QueryError, match="Array cannot have a null element"):
        run(gsql_engine, "SELECT [1, NULL, 3] AS a")
    # ... also nested in a struct, and from data
    with pytest.raises(QueryError, match="Array cannot have a null element"):
        run(gsql_engine, "SELECT STRUCT([CAST(NULL AS STRING)] AS a) AS s")
    assert run(gsql_engine, "SELECT [1, 3] AS a").to_pylist() == [{"a": [1, 3]}]


VALUES = [
    ("STRING", "CT"),
    ("INT64", -(2**63)),
    ("FLOAT64", 2.5),
    ("BOOL", True),
    ("DATE", dt.date(1899, 12, 31)),
    ("TIMESTAMP", dt.datetime(2024, 2, 29, 23, 59, 59, 123456, tzinfo=dt.UTC)),
]


@pytest.mark.parametrize(("type_", "value"), VALUES)
def test_parameters_of_every_type_round_trip(gsql_engine, type_, value):
    params = [
        BoundParameter.of("v", type_, value),
        BoundParameter.of("n", type_, None),
        BoundParameter.of("a", f"ARRAY<{type_}>", [value, value]),
        BoundParameter.of("e", f"ARRAY<{type_}>", []),
    ]
    table = run(
        gsql_engine,
        "SELECT @v AS v, @n AS n, @a AS a, ARRAY_LENGTH(@e) AS e, @n IS NULL AS n_is_null",
        *params,
    )
    row = table.to_pylist()[0]
    assert row == {"v": value, "n": None, "a": [value, value], "e": 0, "n_is_null": True}
    assert type_ in {"STRING", "INT64", "FLOAT64", "BOOL", "DATE", "TIMESTAMP"}
    assert (
        str(table.schema.field("v").type)
        == {
            "STRING": "string",
            "INT64": "int64",
            "FLOAT64": "double",
            "BOOL": "bool",
            "DATE": "date32[day]",
            "TIMESTAMP": "timestamp[us, tz=UTC]",
        }[type_]
    )


def test_parameter_declared_type_is_enforced(gsql_engine):
    with pytest.raises(ValidationError, match="No matching signature"):
        run(
            gsql_engine,
            "SELECT COUNT(*) AS n FROM dicom_all WHERE instance_size > @d",
            BoundParameter.of("d", "DATE", dt.date(2020, 1, 1)),
        )


def test_result_types(gsql_engine):
    sql = (
        "SELECT 1 AS i, 1.5 AS f, 'a' AS s, TRUE AS b, DATE '2020-01-02' AS d, "
        "TIMESTAMP '2020-01-02 03:04:05.678+00' AS ts, NUMERIC '-1.25' AS num, "
        "DATETIME '2020-01-02 03:04:05' AS dtm, TIME '01:02:03.5' AS tm, b'\\x01' AS byt, "
        "[STRUCT(1 AS x, 'y' AS y)] AS arr"
    )
    table = run(gsql_engine, sql)
    types = {f.name: str(f.type) for f in table.schema}
    assert types == {
        "i": "int64",
        "f": "double",
        "s": "string",
        "b": "bool",
        "d": "date32[day]",
        "ts": "timestamp[us, tz=UTC]",
        "num": "decimal128(38, 9)",
        "dtm": "timestamp[us]",
        "tm": "time64[us]",
        "byt": "binary",
        "arr": "list<item: struct<x: int64, y: string>>",
    }
    row = table.to_pylist()[0]
    import decimal

    assert row["num"] == decimal.Decimal("-1.25")
    assert row["tm"] == dt.time(1, 2, 3, 500000)
    assert row["ts"] == dt.datetime(2020, 1, 2, 3, 4, 5, 678000, tzinfo=dt.UTC)


def test_column_names_follow_bigquery(gsql_engine):
    sql = (
        "SELECT Modality, COUNT(*), d.ReferencedSeriesSequence[SAFE_OFFSET(0)].SeriesInstanceUID, "
        "MAX(instance_size) FROM dicom_all d GROUP BY 1, 3 LIMIT 1"
    )
    assert run(gsql_engine, sql).column_names == ["Modality", "f0_", "SeriesInstanceUID", "f1_"]
    with pytest.raises(QueryError, match="Duplicate column names"):
        run(gsql_engine, "SELECT 1 AS a, 2 AS A")


def test_all_null_column_keeps_bigquery_type(gsql_engine):
    table = run(gsql_engine, "SELECT CAST(NULL AS INT64) AS x, NULL AS y")
    assert str(table.schema.field("x").type) == "int64"
    assert str(table.schema.field("y").type) == "int64"  # GoogleSQL types bare NULL as INT64


def test_analysis_errors_are_located_validation_errors(gsql_engine):
    with pytest.raises(ValidationError) as info:
        run(gsql_engine, "SELECT\n  Modalty\nFROM idc_current.dicom_all")
    err = info.value
    assert "Unrecognized name: Modalty" in err.message
    assert (err.location.line, err.location.column) == (2, 3)
    # a position after a rewritten table path maps back to the text as written
    with pytest.raises(ValidationError) as info:
        run(gsql_engine, "SELECT 1 FROM idc_current.dicom_all WHERE nope")
    assert info.value.location.column == 43
    assert "idcbq__" not in str(info.value)


def test_unknown_table_is_a_validation_error(gsql_engine):
    with pytest.raises(ValidationError, match="Table not found"):
        run(gsql_engine, "SELECT 1 FROM idc_current.no_such_table")


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("SELECT 1 / 0 AS x", "division by zero"),
        ("SELECT CAST('x' AS INT64) AS x", "Bad int64 value"),
        ("SELECT ERROR('boom') AS x", "boom"),
    ],
)
def test_evaluation_errors_are_query_errors(gsql_engine, sql, message):
    with pytest.raises(QueryError, match=message):
        run(gsql_engine, sql)


def test_limit_slices_the_result(gsql_engine):
    table = run(gsql_engine, "SELECT SOPInstanceUID FROM dicom_all ORDER BY 1", limit=3)
    assert table.num_rows == 3
    with pytest.raises(UsageError):
        run(gsql_engine, "SELECT 1 AS x", limit=-1)


def test_row_and_byte_limits_refuse_with_the_limit_named(sample_root):
    from idcbq.engines.googlesql import GoogleSQLEngine

    small = GoogleSQLEngine.from_options(source=sample_root, idc_version="current", max_rows=100)
    with pytest.raises(QueryError, match=r"at most 100 rows per query \(max_rows\)"):
        run(small, "SELECT COUNT(*) AS n FROM dicom_all")
    assert run(small, "SELECT COUNT(*) AS n FROM version_metadata").column("n")[0].as_py() < 100
    tiny = GoogleSQLEngine.from_options(source=sample_root, idc_version="current", max_bytes=1000)
    with pytest.raises(QueryError, match=r"at most 1,000 bytes per query \(max_bytes\)"):
        run(tiny, "SELECT COUNT(DISTINCT SOPInstanceUID) AS n FROM dicom_all")


def test_columns_are_loaded_once_and_only_those_used(sample_root):
    from idcbq.engines.googlesql import GoogleSQLEngine

    # A fresh engine: the session's gsql_engine has served other tests' columns already.
    engine = GoogleSQLEngine.from_options(source=sample_root, idc_version="current")
    run(engine, "SELECT COUNT(DISTINCT StudyInstanceUID) AS n FROM dicom_all")
    loaded = {k[2] for k in engine._cells if k[1] == "dicom_all"}
    assert "StudyInstanceUID" in loaded and "ContentSequence" not in loaded
    started = time.perf_counter()
    run(engine, "SELECT COUNT(DISTINCT StudyInstanceUID) AS n FROM dicom_all")
    assert time.perf_counter() - started < 10  # loose bound; bench/googlesql.py measures


def test_unknown_version_is_a_source_error(sample_root):
    from idcbq.engines.googlesql import GoogleSQLEngine
    from idcbq.errors import SourceError

    # v1 predates idc-index-data's version history: the sample cannot derive it
    with pytest.raises(SourceError, match="v1"):
        GoogleSQLEngine.from_options(source=sample_root, idc_version="v1")


def test_get_engine_and_api(sample_root, n_rows):
    import idcbq
    from idcbq.engines import ENGINES, get_engine

    assert "googlesql" in ENGINES
    engine = get_engine("googlesql", source=str(sample_root), idc_version="current")
    assert engine.name == "googlesql" and engine.dialect == "bigquery"
    client = idcbq.connect(engine="googlesql", source=str(sample_root))
    result = client.sql("SELECT COUNT(*) AS n FROM dicom_all")
    assert result.to_arrow().to_pylist() == [{"n": n_rows}]


def test_cli_sql_json(sample_root, monkeypatch, capsys, n_rows):
    from idcbq.cli import cli
    from idcbq.cli.common import run_cli

    monkeypatch.setenv("IDCBQ_SOURCE", str(sample_root))
    code = run_cli(
        cli, ["sql", "--engine", "googlesql", "--json", "SELECT COUNT(*) AS n FROM dicom_all"]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    assert json.loads(out.strip().splitlines()[0] if out.lstrip().startswith("{") else out) in (
        [{"n": n_rows}],
        {"n": n_rows},
    )


def _template_cases():
    from idcbq.templates import TemplateCatalog

    catalog = TemplateCatalog.discover(use_env=False)
    return [
        pytest.param(t.name, ex, id=f"{t.name}[{ex}]")
        for t in catalog
        for ex in (t.header.examples or {"default": None})
    ]


@pytest.mark.parametrize(("name", "example"), _template_cases())
def test_every_template_example_runs(sample_root, monkeypatch, capsys, name, example):
    from idcbq.cli import cli
    from idcbq.cli.common import run_cli
    from idcbq.templates import TemplateCatalog

    template = TemplateCatalog.discover(use_env=False)[name]
    values = template.header.examples.get(example) or template.header.example_params()
    args = []
    for key, value in values.items():
        if value is None:
            continue
        text = ",".join(map(str, value)) if isinstance(value, list) else str(value)
        args += ["-p", f"{key}={text}"]
    monkeypatch.setenv("IDCBQ_SOURCE", str(sample_root))
    code = run_cli(cli, ["query", name, "--engine", "googlesql", "--json", *args])
    _out, err = capsys.readouterr()
    assert code == 0, err


def test_module_cache_reused(tmp_path):
    from idcbq.engines.googlesql.runtime import ZetaSQLRuntime, module_cache_path, runtime

    runtime()  # makes sure the cache exists
    warm = ZetaSQLRuntime(cache_path=module_cache_path())
    assert not warm.compiled and warm.start_seconds < 20


def test_corrupt_module_cache_is_rebuilt_not_loaded(tmp_path):
    """A damaged cache file is detected (length + CRC32 trailer) and recompiled (~60 s CPU)."""
    from idcbq.engines.googlesql.runtime import (
        ZetaSQLRuntime,
        _read_cache,
        module_cache_path,
        runtime,
    )

    runtime()
    bad = tmp_path / module_cache_path().name
    shutil.copyfile(module_cache_path(), bad)
    with open(bad, "r+b") as fh:  # zero 4 KiB of machine code in the middle of the file
        fh.seek(bad.stat().st_size // 2)
        fh.write(b"\0" * 4096)
    assert _read_cache(bad) is None
    rebuilt = ZetaSQLRuntime(cache_path=bad)
    assert rebuilt.compiled
    assert _read_cache(bad) is not None  # replaced by a whole file
    bad.write_bytes(b"truncated")
    assert _read_cache(bad) is None


def test_any_value_skips_nulls_like_bigquery(gsql_engine, n_rows):
    rows = "UNNEST([STRUCT(1 AS g, CAST(NULL AS STRING) AS x), (1, 'a'), (1, NULL), (2, NULL)])"
    sql = f"SELECT g, ANY_VALUE(x) AS v FROM {rows} GROUP BY g ORDER BY g"
    assert run(gsql_engine, sql).to_pylist() == [{"g": 1, "v": "a"}, {"g": 2, "v": None}]
    window = f"SELECT g, ANY_VALUE(x) OVER (PARTITION BY g) AS v FROM {rows} ORDER BY g"
    assert [r["v"] for r in run(gsql_engine, window).to_pylist()] == ["a", "a", "a", None]
    # an ARRAY argument (ARRAY_AGG cannot collect arrays) runs as written
    assert run(gsql_engine, "SELECT ANY_VALUE(a) AS v FROM UNNEST([STRUCT([1, 2] AS a)])")[
        "v"
    ].to_pylist() == [[1, 2]]
    # a table path inside the argument is still resolved; errors point at the text as written
    sql = "SELECT ANY_VALUE((SELECT COUNT(*) FROM dicom_all)) AS v FROM UNNEST([1])"
    assert run(gsql_engine, sql).to_pylist() == [{"v": n_rows}]
    with pytest.raises(ValidationError) as info:
        run(gsql_engine, "SELECT ANY_VALUE(nope) AS v FROM dicom_all")
    assert info.value.location.column == 18 and "ARRAY_AGG" not in str(info.value)
