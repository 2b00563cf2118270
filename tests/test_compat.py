"""Shims for the oldest accepted dependency versions (Colab's pyarrow 18.1 and friends)."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.json as pajson
import pytest

from idcbq.core.compat import open_json, to_pandas
from idcbq.errors import IdcbqError

SCHEMA = pa.schema([("SeriesInstanceUID", pa.string()), ("size", pa.int64())])


def write_rows(path, n: int, tail: str = "") -> None:
    rows = ({"SeriesInstanceUID": f"{i:04d}", "size": i} for i in range(n))
    path.write_text("".join(json.dumps(r) + "\n" for r in rows) + tail, encoding="utf-8")


@pytest.fixture(params=["open_json", "blocks"])
def pyarrow_reader(request, monkeypatch):
    """Both code paths on this pyarrow: its own open_json, and the one for pyarrow < 19.

    The older pyarrow is simulated by hiding ``pyarrow.json.open_json`` (``make
    test-lowest`` runs the same tests on a real pyarrow 18.1).
    """
    if request.param == "blocks":
        monkeypatch.delattr(pajson, "open_json", raising=False)
    return request.param


def test_open_json_streams_in_blocks_with_the_explicit_schema(tmp_path, pyarrow_reader):
    path = tmp_path / "r.jsonl"
    write_rows(path, 20_000)
    reader = open_json(
        path,
        read_options=pajson.ReadOptions(block_size=1 << 16),
        parse_options=pajson.ParseOptions(
            explicit_schema=SCHEMA, unexpected_field_behavior="error"
        ),
    )
    assert reader.schema == SCHEMA
    batches = list(reader)
    assert len(batches) > 1, "read in several blocks, not at once"
    table = pa.Table.from_batches(batches)
    assert table.num_rows == 20_000 and table.column(0)[7].as_py() == "0007"


def test_open_json_bad_line_raises_while_iterating(tmp_path, pyarrow_reader):
    path = tmp_path / "bad.jsonl"
    write_rows(path, 20_000, tail="{not json\n")
    reader = open_json(
        path,
        read_options=pajson.ReadOptions(block_size=1 << 16),
        parse_options=pajson.ParseOptions(
            explicit_schema=SCHEMA, unexpected_field_behavior="error"
        ),
    )
    with pytest.raises(pa.ArrowInvalid):
        for _ in reader:
            pass


def test_open_json_infers_the_schema_from_the_first_block(tmp_path, pyarrow_reader):
    path = tmp_path / "r.jsonl"
    write_rows(path, 5_000)
    table = open_json(path, read_options=pajson.ReadOptions(block_size=1 << 14)).read_all()
    assert table.num_rows == 5_000 and table.schema.field("size").type == pa.int64()


def test_to_pandas_uses_arrow_dtypes():
    frame = to_pandas(pa.table({"n": [1, None]}))
    assert str(frame["n"].dtype) == "int64[pyarrow]" and frame["n"].isna().tolist() == [False, True]


def test_half_upgraded_session_says_restart(monkeypatch):
    # Mock: only replacing pyarrow/pandas under a live process produces this AttributeError.
    class Table:
        def to_pandas(self, **kwargs):
            raise AttributeError("'_PandasAPIShim' object has no attribute 'uses_string_dtype'")

    with pytest.raises(IdcbqError, match="do not match") as info:
        to_pandas(Table())
    assert "Restart session" in info.value.hint
