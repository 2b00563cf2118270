"""Everything idcbq writes reads back: results and manifests, whatever the nulls, nesting and size.

- hypothesis tables (nulls first, nested lists and structs, text with quotes, commas and
  newlines) through ``idcbq.io.formats.write_table`` and back, in every results format, with
  blocks small enough that every column meets several of them;
- a 60,000-row manifest and results file whose columns are null for the first 50,000
  rows (the ``changed from null to string`` and ``CSV conversion error to null`` cases);
- ``SELECT *`` over every modality of the sample through ``idcbq sql --out`` (parquet,
  csv, jsonl, json), ``idcbq manifest`` (every format) and ``idcbq download --dry-run``.
"""

from __future__ import annotations

import decimal
import json
import math
import uuid

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from idcbq.cli import cli
from idcbq.cli.common import run_cli
from idcbq.io.formats import read_table, write_table
from idcbq.io.readback import open_table
from idcbq.manifest import write_manifest
from idcbq.manifest.readers import read_manifest

TYPES = {
    "str": pa.string(),
    "int": pa.int64(),
    "float": pa.float64(),
    "bool": pa.bool_(),
    "list": pa.list_(pa.string()),
    "struct": pa.struct([("a", pa.int64()), ("b", pa.string())]),
}
# Text never mistaken for a number, a boolean or a date in CSV (which has no types).
TEXT = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12
).map(lambda s: "s:" + s)
SCALARS = {
    "str": TEXT,
    "int": st.integers(-(2**63), 2**63 - 1),
    "float": st.floats(allow_nan=False, allow_infinity=False, width=64),
    "bool": st.booleans(),
}
SCALARS["list"] = st.lists(st.none() | TEXT, max_size=3)
SCALARS["struct"] = st.fixed_dictionaries({"a": st.none() | SCALARS["int"], "b": st.none() | TEXT})


@st.composite
def tables(draw) -> pa.Table:
    rows = draw(st.integers(1, 30))
    columns = {}
    for index in range(draw(st.integers(1, 5))):
        kind = draw(st.sampled_from(sorted(TYPES)))
        leading_nulls = draw(st.integers(0, rows))
        values = [None] * leading_nulls + [
            draw(st.none() | SCALARS[kind]) for _ in range(rows - leading_nulls)
        ]
        columns[f"c{index}_{kind}"] = pa.array(values, TYPES[kind])
    return pa.table(columns)


def canonical(value, kind: str, fmt: str):
    """A value as it must come back: CSV stores nested values as JSON text, floats as text."""
    if value is None:
        return None
    if fmt == "csv" and kind in ("list", "struct"):
        return json.loads(value) if isinstance(value, str) else value
    if kind == "float":
        return float(value)
    return value


def assert_same(original: pa.Table, back: pa.Table, fmt: str) -> None:
    assert back.num_rows == original.num_rows
    assert back.column_names == original.column_names
    for name in original.column_names:
        kind = name.split("_", 1)[1]
        got = [canonical(v, kind, fmt) for v in back.column(name).to_pylist()]
        want = [canonical(v, kind, "parquet") for v in original.column(name).to_pylist()]
        if kind == "float":
            assert all(
                (g is None and w is None)
                or (
                    g is not None and w is not None and math.isclose(g, w, rel_tol=1e-15, abs_tol=0)
                )
                for g, w in zip(got, want, strict=True)
            ), (name, got, want)
        else:
            assert got == want, (name, fmt)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(table=tables(), fmt=st.sampled_from(["parquet", "csv", "jsonl", "json"]))
def test_generated_tables_read_back_in_every_format(tmp_path, table, fmt):
    path = tmp_path / f"t.{fmt}"
    write_table(table, path)
    assert_same(table, read_table(path), fmt)
    if fmt in ("csv", "jsonl"):  # tiny blocks: every column meets several of them
        from idcbq.io.schemafile import sidecar_path

        sidecar_path(path).unlink()  # no recorded schema: typed from the whole file
        schema, batches = open_table(path, fmt, block_size=64)
        assert_same(table, pa.Table.from_batches(list(batches), schema=schema), fmt)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("value", ["s:0000\r", "a\rb", "\r"])
def test_csv_carriage_return_inside_quotes_survives_small_blocks(tmp_path, value):
    # Arrow ends a row at a bare CR too; found by the test above (hypothesis).
    table = pa.table({"s": [value if i % 3 == 0 else f"v{i}" for i in range(60)],
                      "n": list(range(60))})  # fmt: skip
    path = tmp_path / "t.csv"
    write_table(table, path)
    from idcbq.io.schemafile import sidecar_path

    sidecar_path(path).unlink()  # typed from the file itself
    for block_size in (16, 24, 64):
        schema, batches = open_table(path, "csv", block_size=block_size)
        assert pa.Table.from_batches(list(batches), schema=schema).to_pylist() == (
            table.to_pylist()
        ), block_size


def _manifest_rows(n: int, late: int) -> pa.Table:
    """``n`` instance rows in IDC's bucket; extra columns null until row ``late``."""
    series = [str(uuid.uuid5(uuid.NAMESPACE_URL, f"rt/s/{i // 100}")) for i in range(n)]
    return pa.table({
        "crdc_series_uuid": series,
        "crdc_instance_uuid": [str(uuid.uuid5(uuid.NAMESPACE_URL, f"rt/i/{i}")) for i in range(n)],
        "gcs_bucket": ["idc-open-data"] * n, "aws_bucket": ["idc-open-data"] * n,
        "instance_size": [1000 + i for i in range(n)], "instance_hash": [f"{i:032x}" for i in range(n)],
        "collection_id": ["c"] * n, "PatientID": [f"{i % 50:04d}" for i in range(n)],
        "StudyInstanceUID": ["1.2.3"] * n, "SeriesInstanceUID": [f"1.2.3.{i // 100}" for i in range(n)],
        "Modality": ["CT"] * n, "license_short_name": ["CC BY 4.0"] * n,
        "PatientSex": [None] * late + ["F", "M"] * ((n - late) // 2),
        "SliceThickness": [None] * late + [1.25] * (n - late),
        "AcquisitionDate": [None] * late + ["2020-01-02"] * (n - late),
    })  # fmt: skip


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_large_manifest_with_late_values_reads_back(tmp_path, fmt):
    """The issue's round trip: columns null for the first 50,000 rows, then values (> 1 MB)."""
    from idcbq.download import plan_download

    table = _manifest_rows(60_000, 50_000)
    path = tmp_path / f"m.{fmt}"
    write_manifest(table, path, format=fmt)
    assert path.stat().st_size > 2 << 20
    _info, schema, batches = read_manifest(path)
    back = pa.Table.from_batches(list(batches), schema=schema)
    assert back.num_rows == 60_000
    assert back.column("PatientSex").to_pylist()[49_999:50_002] == [None, "F", "M"]
    assert back.column("PatientID").to_pylist()[:2] == ["0000", "0001"]  # identifiers stay text
    assert back.column("AcquisitionDate").to_pylist()[-1] == "2020-01-02"
    assert schema.field("size").type == pa.int64()
    plan = plan_download(path, tmp_path / "dest")
    assert len(plan.items) == 60_000 and not plan.problems


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "json"])
def test_large_results_with_late_values_read_back(tmp_path, fmt):
    table = _manifest_rows(60_000, 50_000)
    path = tmp_path / f"r.{fmt}"
    write_table(table, path)
    back = read_table(path)
    assert back.num_rows == 60_000
    assert back.column("PatientSex").to_pylist()[-2:] == ["F", "M"]
    assert back.column("SliceThickness").to_pylist()[-1] == 1.25
    from idcbq.manifest.readers import read_table as read_results

    _schema, batches, _ = read_results(path)
    assert sum(b.num_rows for b in batches) == 60_000


# -- SELECT * over every modality of the sample, through the CLI ------------------------------


@pytest.fixture(scope="module")
def modalities(sample_root):
    from idcbq.engines.duckdb import DuckDBEngine

    engine = DuckDBEngine.from_options(source=sample_root, idc_version="v25")
    try:
        sql = "SELECT Modality, COUNT(*) AS n FROM dicom_all GROUP BY Modality ORDER BY Modality"
        rows = engine.execute(engine.prepare(sql, [])).to_pylist()
    finally:
        engine.close()
    return {r["Modality"]: r["n"] for r in rows}


@pytest.fixture
def run(sample_root, monkeypatch, capsys):
    monkeypatch.setenv("IDCBQ_SOURCE", str(sample_root))
    monkeypatch.delenv("IDCBQ_ENGINE", raising=False)

    def _run(*args: str) -> tuple[int, str, str]:
        code = run_cli(cli, list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return _run


RESULTS = ["jsonl", "csv", "parquet", "json"]
MANIFESTS = ["jsonl", "csv", "parquet", "s5cmd", "urls"]


@pytest.mark.slow
def test_select_star_every_modality_through_sql_manifest_and_dry_run(run, modalities, tmp_path):
    """Each modality: results in one format (every format serves two modalities), then every manifest."""
    assert len(modalities) >= 5
    for index, (modality, n) in enumerate(sorted(modalities.items())):
        fmt = RESULTS[index % len(RESULTS)]
        sql = f"SELECT * FROM dicom_all WHERE Modality = '{modality}'"  # test SQL, fixed values
        results = tmp_path / f"{modality}.{fmt}"
        code, _, err = run("sql", sql, "--out", str(results))
        assert code == 0, (modality, fmt, err)
        assert read_table(results).num_rows == n, (modality, fmt)
        for mfmt in MANIFESTS:
            manifest = tmp_path / f"{modality}-{fmt}.{mfmt}"
            code, _, err = run("manifest", str(results), "--out", str(manifest), "--format", mfmt)
            assert code == 0, (modality, fmt, mfmt, err)
            code, out, err = run(
                "download", str(manifest), "--dest", str(tmp_path / "d"), "--dry-run"
            )
            # exit 5 only when the plan does not fit on this disk (SM series are large)
            assert code == 0 or (code == 5 and "not enough free space" in err), (
                modality,
                fmt,
                mfmt,
                err,
            )
            assert out.startswith(f"plan: {n} files"), (modality, fmt, mfmt, out[:200])


# -- NUMERIC keeps every digit ---------------------------------------------------------------

NUMERICS = [
    decimal.Decimal("12345678901234567890.123456789"),  # 29 digits: a float keeps 17
    decimal.Decimal("-99999999999999999999999999999.999999999"),  # NUMERIC's limit
    decimal.Decimal("0.000000001"),
    decimal.Decimal("1.5"),
    None,
]


@pytest.mark.parametrize("fmt", ["parquet", "csv", "jsonl"])
def test_numeric_files_keep_every_digit(tmp_path, fmt):
    table = pa.table(
        {
            "n": pa.array(NUMERICS, pa.decimal128(38, 9)),
            "l": pa.array([[v] for v in NUMERICS], pa.list_(pa.decimal128(38, 9))),
        }
    )
    path = tmp_path / f"t.{fmt}"
    write_table(table, path)
    back = read_table(path)
    assert back.column("n").to_pylist() == NUMERICS
    if fmt == "csv":  # nested values are JSON text in CSV: the digits are still all there
        texts = back.column("l").to_pylist()
        assert [json.loads(t, parse_float=decimal.Decimal) for t in texts] == [
            [v] for v in NUMERICS
        ]
    else:
        assert back.column("l").to_pylist() == [[v] for v in NUMERICS]


def test_numeric_on_stdout_as_googlesql_prints_it(run):
    sql = (
        "SELECT NUMERIC '12345678901234567890.123456789' AS a, NUMERIC '1.50' AS b,"
        " NUMERIC '-100' AS c, [NUMERIC '0.000000001'] AS l"
    )
    code, out, err = run("sql", sql, "--format", "json")
    assert code == 0, err
    (row,) = json.loads(out, parse_float=decimal.Decimal, parse_int=decimal.Decimal)
    assert row == {
        "a": decimal.Decimal("12345678901234567890.123456789"),
        "b": decimal.Decimal("1.5"),
        "c": decimal.Decimal("-100"),
        "l": [decimal.Decimal("0.000000001")],
    }
    code, out, err = run("sql", sql, "--format", "csv")
    assert code == 0, err
    assert out.splitlines()[1] == "12345678901234567890.123456789,1.5,-100,[0.000000001]"
