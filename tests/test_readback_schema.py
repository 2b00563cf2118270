"""Reading back with the schema idcbq recorded next to a CSV / JSON Lines file it wrote.

The fast path (one pass with the recorded schema) must be taken for an untouched file,
and a file edited by hand (no sidecar, or a stale one) must still read correctly the
slow way. Which path ran is observed by counting calls of the whole-file typing
functions (a spy that records calls, not a mock: the real functions run).
"""

from __future__ import annotations

import datetime as dt
import decimal
import json

import pyarrow as pa
import pytest

import idcbq.io.readback as readback
from idcbq.io.formats import read_table, write_table
from idcbq.io.schemafile import load, sidecar_path
from idcbq.manifest import write_manifest
from idcbq.manifest.readers import read_manifest

UTC = dt.UTC


@pytest.fixture
def slow_path_calls(monkeypatch):
    """How many times the whole-file typing pass ran (the real one)."""
    calls = []
    for name in ("_jsonl_schema", "_csv_kinds"):
        real = getattr(readback, name)

        def spy(*args, _real=real, _name=name, **kwargs):
            calls.append(_name)
            return _real(*args, **kwargs)

        monkeypatch.setattr(readback, name, spy)
    return calls


def _typed_table() -> pa.Table:
    n = 3000
    late = 2000
    return pa.table({
        "id": [f"{i:05d}" for i in range(n)],
        "when": pa.array([None] * late + [dt.datetime(2020, 1, 2, 3, 4, 5, 6, tzinfo=UTC)] * (n - late),
                         pa.timestamp("us", "UTC")),
        "day": pa.array([None] * late + [dt.date(2021, 5, 6)] * (n - late), pa.date32()),
        "at": pa.array([None] * late + [dt.time(7, 8, 9, 10)] * (n - late), pa.time64("us")),
        "amount": pa.array([None] * late + [decimal.Decimal("12.34")] * (n - late), pa.decimal128(9, 2)),
        "note": [None] * late + ["x"] * (n - late),
        "size": list(range(n)),
        "empty": pa.array([None] * n, pa.null()),
    })  # fmt: skip


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_results_round_trip_uses_recorded_schema(tmp_path, fmt, slow_path_calls):
    table = _typed_table()
    path = tmp_path / f"r.{fmt}"
    write_table(table, path)
    assert sidecar_path(path).is_file()
    back = read_table(path)
    assert slow_path_calls == []  # one pass: the recorded schema
    assert back.schema.equals(table.schema)
    assert back.to_pylist() == table.to_pylist()  # dates, times, timestamps, decimals typed


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_manifest_round_trip_uses_recorded_schema(tmp_path, fmt, slow_path_calls):
    table = _manifest_rows(20_000, 15_000)
    path = tmp_path / f"m.{fmt}"
    write_manifest(table, path, format=fmt)
    info, schema, batches = read_manifest(path)
    back = pa.Table.from_batches(list(batches), schema=schema)
    assert slow_path_calls == []
    assert info.provenance.get("format") == fmt
    assert back.num_rows == 20_000
    assert back.column("PatientSex").to_pylist()[14_999:15_001] == [None, "F"]
    assert back.column("PatientID").to_pylist()[:2] == ["0000", "0001"]
    assert schema.field("size").type == pa.int64()


def _manifest_rows(n: int, late: int) -> pa.Table:
    """``n`` instance rows; PatientSex null until row ``late``."""
    return pa.table({
        "crdc_series_uuid": [f"s-{i // 100}" for i in range(n)],
        "crdc_instance_uuid": [f"i-{i}" for i in range(n)],
        "gcs_bucket": ["idc-open-data"] * n, "aws_bucket": ["idc-open-data"] * n,
        "instance_size": [1000 + i for i in range(n)], "instance_hash": [f"{i:032x}" for i in range(n)],
        "PatientID": [f"{i % 50:04d}" for i in range(n)], "license_short_name": ["CC BY 4.0"] * n,
        "PatientSex": [None] * late + ["F", "M"] * ((n - late) // 2),
    })  # fmt: skip


def _edit_jsonl(path) -> None:
    """By hand: a new column in the last row, and a float where sizes were integers."""
    lines = path.read_text().splitlines()
    row = json.loads(lines[-1])
    row["size"] = 5.5
    row["extra"] = "y"
    lines[-1] = json.dumps(row)
    path.write_text("\n".join(lines) + "\n")


def _edit_csv(path) -> None:
    """By hand: the header renamed and a value appended (the file changes size)."""
    text = path.read_text().replace('"note"', '"remark"', 1)
    path.write_text(text + text.splitlines()[-1] + "\n")


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
@pytest.mark.parametrize("sidecar", ["stale", "removed"])
def test_hand_edited_file_reads_the_safe_way(tmp_path, fmt, sidecar, slow_path_calls):
    table = _typed_table()
    path = tmp_path / f"r.{fmt}"
    write_table(table, path)
    (_edit_jsonl if fmt == "jsonl" else _edit_csv)(path)
    if sidecar == "removed":
        sidecar_path(path).unlink()
    assert load(path, fmt) is None
    back = read_table(path)
    assert slow_path_calls  # typed from the whole file
    if fmt == "jsonl":
        assert back.schema.field("size").type == pa.float64()
        assert back.column("extra").to_pylist()[-2:] == [None, "y"]
        assert back.column("note").to_pylist()[-1] == "x"
    else:
        assert back.num_rows == table.num_rows + 1
        assert "remark" in back.column_names


def test_same_size_edit_with_other_names_is_not_trusted(tmp_path, slow_path_calls):
    """A column renamed to a name of the same length: size and tail match, names do not."""
    table = pa.table({"abc": [1, 2], "v": ["2020-01-01", None]})
    path = tmp_path / "r.csv"
    write_table(table, path)
    path.write_text(path.read_text().replace('"abc"', '"xyz"', 1))
    assert load(path, "csv") is None
    back = read_table(path)
    assert back.column_names == ["xyz", "v"]
    assert back.column("xyz").to_pylist() == [1, 2]
    assert slow_path_calls == ["_csv_kinds"]


def test_stale_sidecar_from_an_older_file_is_ignored(tmp_path, slow_path_calls):
    """A sidecar of another table with the same column names: the fingerprint differs."""
    path = tmp_path / "r.jsonl"
    write_table(pa.table({"a": pa.array([dt.date(2020, 1, 1)])}), path)
    stale = sidecar_path(path).read_text()
    write_table(pa.table({"a": ["not a date", None]}), path)
    sidecar_path(path).write_text(stale)
    assert read_table(path).column("a").to_pylist() == ["not a date", None]
    assert slow_path_calls == ["_jsonl_schema"]


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_manifest_without_sidecar_reads_the_safe_way(tmp_path, fmt, slow_path_calls):
    """No recorded schema: late values, identifiers as text, sizes as integers still hold."""
    table = _manifest_rows(20_000, 15_000)
    path = tmp_path / f"m.{fmt}"
    write_manifest(table, path, format=fmt)
    sidecar_path(path).unlink()
    _info, schema, batches = read_manifest(path)
    back = pa.Table.from_batches(list(batches), schema=schema)
    assert slow_path_calls
    assert back.column("PatientSex").to_pylist()[14_999:15_001] == [None, "F"]
    assert back.column("PatientID").to_pylist()[:2] == ["0000", "0001"]
    assert schema.field("size").type == pa.int64()
