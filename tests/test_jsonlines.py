"""The vectorized JSON Lines encoder against the standard library, on hostile values."""

from __future__ import annotations

import datetime
import json
import math

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from idcbq.manifest.jsonlines import _encode_with_stdlib, encode_batch

TEXT = st.one_of(
    st.none(), st.text(max_size=40), st.sampled_from(['"', "\\", '\\"', "a\nb", "\x00", "é", "😀"])
)
FLOATS = st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True))
ROWS = st.lists(
    st.fixed_dictionaries({
        "name": TEXT,
        "count": st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1)),
        "ratio": FLOATS,
        "flag": st.one_of(st.none(), st.booleans()),
        "day": st.one_of(st.none(), st.dates()),
    }),
    min_size=1, max_size=30,
)  # fmt: skip
SCHEMA = pa.schema([("name", pa.string()), ("count", pa.int64()), ("ratio", pa.float64()),
                    ("flag", pa.bool_()), ("day", pa.date32())])  # fmt: skip


def parsed(data: memoryview) -> list[dict]:
    # JSON Lines ends lines at "\n" only (str.splitlines would also split at U+0085, U+2028).
    return [json.loads(line) for line in bytes(data).decode("utf-8").split("\n")[:-1]]


def same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or a == b
    return type(a) is type(b) and a == b


@settings(max_examples=200, deadline=None)
@given(ROWS)
def test_every_line_parses_back_to_its_row(rows):
    batch = pa.RecordBatch.from_pylist(rows, schema=SCHEMA)
    decoded = parsed(encode_batch(batch))
    assert len(decoded) == len(rows)
    for line, row in zip(decoded, rows, strict=True):
        assert list(line) == list(SCHEMA.names)
        expected = {**row, "day": None if row["day"] is None else row["day"].isoformat()}
        assert all(same(line[k], expected[k]) for k in expected), (line, expected)


@settings(max_examples=200, deadline=None)
@given(ROWS)
def test_fast_path_spells_values_as_the_stdlib_does(rows):
    """Byte for byte, so a column reads the same whether or not a batch fell back."""
    batch = pa.RecordBatch.from_pylist(rows, schema=SCHEMA).drop_columns(["ratio"])
    assert bytes(encode_batch(batch)) == bytes(_encode_with_stdlib(batch))


@pytest.mark.parametrize(
    "column",
    [
        pa.array([datetime.datetime(2024, 1, 2, 3, 4, 5)]),
        pa.array([{"a": 1}]),
        pa.array([b"\x00\xff"]),
        pa.array(["a\tb"]),
        pa.array([float("nan")]),
    ],
    ids=["timestamp", "struct", "binary", "control character", "nan"],
)
def test_what_kernels_cannot_spell_goes_through_the_stdlib(column):
    batch = pa.RecordBatch.from_arrays([column], names=["x"])
    assert bytes(encode_batch(batch)) == bytes(_encode_with_stdlib(batch))


def test_a_sliced_batch_encodes_only_its_rows():
    batch = pa.RecordBatch.from_pylist([{"x": f"row{i}"} for i in range(10)]).slice(3, 2)
    assert parsed(encode_batch(batch)) == [{"x": "row3"}, {"x": "row4"}]
