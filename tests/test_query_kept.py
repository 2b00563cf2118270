"""What a client and its DuckDB engine keep between queries (issue 21 §3: Client.query's overhead).

A query run again is not validated, transpiled or parsed again; what is kept is keyed by
everything it depends on, so a different parameter type, setting or SQL text is checked
afresh, and values are still checked every time.
"""

from __future__ import annotations

import pytest

import idcbq
from idcbq.core.memo import Memo
from idcbq.errors import ValidationError
from idcbq.params import BoundParameter, ParamType
from idcbq.validate.kept import validate_kept

SQL = "SELECT COUNT(*) n FROM dicom_all WHERE Modality = @m"


@pytest.fixture
def client(sample_root):
    with idcbq.connect("duckdb", source=sample_root) as c:
        c.googlesql_analysis = False  # conftest's default; the key includes it anyway
        yield c


def test_same_query_reuses_verdict_translation_and_shape(client):
    first = client.sql(SQL, params={"m": "CT"})
    kept = (len(client._kept), len(client.engine._transpiled), len(client.engine._shapes))
    assert kept == (1, 1, 1)
    second = client.sql(SQL, params={"m": "MR"})  # another value: same shape, new answer
    assert (len(client._kept), len(client.engine._transpiled), len(client.engine._shapes)) == kept
    fresh = client.engine.con.execute(
        "SELECT COUNT(*) FROM dicom_all WHERE Modality = 'MR'"
    ).fetchone()[0]
    assert second.to_arrow().column("n").to_pylist() == [fresh]
    assert first.to_arrow().column("n").to_pylist() != [fresh]
    assert second.sql == first.sql and second.validated_by == first.validated_by


def test_another_type_or_setting_is_checked_afresh(client):
    client.sql("SELECT @x + 1 AS y", params={"x": 1})
    before = (len(client._kept), len(client.engine._transpiled))
    as_float = client.sql("SELECT @x + 1 AS y", params={"x": 1.5})  # FLOAT64 now
    assert (len(client._kept), len(client.engine._transpiled)) == (before[0] + 1, before[1] + 1)
    assert as_float.to_arrow().column("y").to_pylist() == [2.5]
    client.allowed_tables = ("p.d.t",)
    client.sql("SELECT @x + 1 AS y", params={"x": 1})
    assert len(client._kept) == before[0] + 2


def test_refused_queries_are_not_kept(client):
    with pytest.raises(ValidationError):
        client.sql("SELECT Modalty FROM dicom_all")
    with pytest.raises(ValidationError):  # refused again, with the same message
        client.sql("SELECT Modalty FROM dicom_all")
    assert len(client._kept) == 0


def test_a_kept_verdict_still_checks_values():
    kept = Memo()
    good = (BoundParameter.of("n", "INT64", 1),)
    first = validate_kept(kept, "SELECT @n AS n", params=good, googlesql=False)
    assert validate_kept(kept, "SELECT @n AS n", params=good, googlesql=False) is first
    # A value that does not fit its type (built without BoundParameter.of's check).
    bad = (BoundParameter(name="n", type=ParamType.parse("INT64"), value="one"),)
    with pytest.raises(ValidationError):
        validate_kept(kept, "SELECT @n AS n", params=bad, googlesql=False)


def test_memo_is_bounded():
    kept = Memo(size=2)
    for i in range(5):
        kept.put(i, str(i))
    assert len(kept) == 2 and kept.get(0) is None and kept.get(4) == "4"
