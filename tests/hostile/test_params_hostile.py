"""Hostile parameter values never change a query's meaning (hypothesis, both engines).

For any value: the rendered BigQuery SQL and the engine SQL are byte-identical to those of
a benign value; the value comes back from the engine exactly as given; a filter on it
behaves as data (a value that matches nothing returns zero rows; appended to a real
value's comparison on both sides it matches exactly what the real value matches).
Values of the wrong type are refused with a ParameterError naming the parameter.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import idcbq
from idcbq.api import Client
from idcbq.errors import ParameterError

TEMPLATE = """/*---
name: hostile.params
description: typed parameters that reach the SQL only as bound values
parameters:
  c:    {type: STRING, required: true, example: nlst}
  suffix: {type: STRING, default: ""}
  mods: {type: "ARRAY<STRING>", default: []}
  n:    {type: INT64, default: 0}
---*/
SELECT
  @c AS echo,
  CHAR_LENGTH(@c) AS len,
  (SELECT COUNT(*) FROM {{ table('dicom_all') }} WHERE collection_id = @c) AS exact,
  (SELECT COUNT(*) FROM {{ table('dicom_all') }}
    WHERE CONCAT(collection_id, @suffix) = CONCAT(@c, @suffix)) AS with_suffix,
  (SELECT COUNT(*) FROM {{ table('dicom_all') }} WHERE Modality IN UNNEST(@mods)) AS in_mods,
  @n + 1 AS n_plus_one
"""

FIXED = [
    "'; DROP TABLE dicom_all; --",
    "x' OR '1'='1",
    '" OR ""="',
    "\\",
    "\\'",
    "'",
    "@other",
    "@@project_id",
    "$1",
    "$c",
    "?",
    "{{ table('secret') }}",
    "{% raw %}",
    "*/ SELECT 1 /*",
    "# comment",
    "-- comment",
    "\u202eevil\u202c",  # RTL override
    "e\u0301\u0301\u0301",  # combining marks
    "\u0000",
    "a\u0000b",
    "\ud7ff\ue000\U0010ffff",
    "'" * 100_000,
    "x" * 100_000,
]
hostile_text = st.one_of(
    st.sampled_from(FIXED),
    st.text(alphabet=st.sampled_from("'\"\\;-#/*@$?{}%`\n\t\u0000\u202e\u0301 aZ"), max_size=40),
    st.text(max_size=30),
)


@pytest.fixture(scope="module")
def template_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("hostile-params")
    (d / "hostile.params.sql").write_text(TEMPLATE)
    return d


@pytest.fixture(scope="module")
def duck(sample_root, template_dir):
    with idcbq.connect("duckdb", source=sample_root, templates=[template_dir]) as client:
        yield client


@pytest.fixture(scope="module")
def known(duck):
    """A real collection and modality of the sample (read from the data, not hard-coded)."""
    row = duck.sql("SELECT collection_id, Modality FROM dicom_all LIMIT 1").to_arrow().to_pylist()
    return row[0]["collection_id"], row[0]["Modality"]


def _run(client: Client, **params):
    return client.query("hostile.params", **params).to_arrow().to_pylist()[0]


def check_meaning(client: Client, known: tuple[str, str], value: str) -> None:
    collection, modality = known
    assume(value != collection)
    benign = client.render("hostile.params", c="benign", suffix="", mods=["CT"], n=1)
    hostile = client.render("hostile.params", c=value, suffix=value, mods=[value, modality], n=1)
    assert hostile.bigquery_sql == benign.bigquery_sql
    assert hostile.engine_sql == benign.engine_sql
    assert value not in hostile.engine_sql or value in benign.engine_sql

    baseline = _run(client, c=collection, mods=[modality])
    row = _run(client, c=value, suffix=value, mods=[value, modality], n=1)
    assert row["echo"] == value
    assert row["len"] == len(value)
    assert row["exact"] == 0  # matches nothing, like any other unknown collection
    assert row["in_mods"] == baseline["in_mods"]  # the hostile element adds nothing
    assert row["n_plus_one"] == 2
    # the value as a suffix on both sides keeps the real collection's rows, exactly
    same = _run(client, c=collection, suffix=value, mods=[modality])
    assert same["with_suffix"] == baseline["exact"] > 0


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=hostile_text)
def test_hostile_strings_are_only_values_duckdb(duck, known, value):
    check_meaning(duck, known, value)


@pytest.fixture(scope="module")
def bq(bq_engine, template_dir):
    return Client(bq_engine, templates=[template_dir])


@pytest.mark.slow
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=st.one_of(st.sampled_from(FIXED), hostile_text))
def test_hostile_strings_are_only_values_bigquery(bq, known, value):
    check_meaning(bq, known, value)


WRONG_TYPES = [
    ("c", 5),
    ("c", ["a"]),
    ("c", {"a": 1}),
    ("c", b"bytes"),
    ("n", "1; DROP TABLE t"),
    ("n", 1.5),
    ("n", [1]),
    ("n", "1"),
    ("n", 2**70),
    ("mods", "CT"),
    ("mods", [1, 2]),
    ("mods", [["CT"]]),
    ("mods", {"CT": 1}),
    ("suffix", object()),
]


@pytest.mark.parametrize(
    ("name", "value"), WRONG_TYPES, ids=[f"{n}-{v!r}"[:40] for n, v in WRONG_TYPES]
)
def test_wrong_types_name_the_parameter(duck, name, value):
    params = {"c": "x", name: value}
    with pytest.raises(ParameterError) as info:
        duck.query("hostile.params", **params)
    assert repr(name) in str(info.value) or f"@{name}" in str(info.value), str(info.value)
    assert info.value.location is not None
    assert info.value.location.path.endswith("hostile.params.sql")


@pytest.mark.parametrize(
    ("name", "value", "types"),
    [
        ("c", "1; DROP TABLE t", {"c": "INT64"}),
        ("c", [1, "a"], None),
        ("c", {"k": "v"}, None),
        ("c", "x", {"c": "STRING; DROP TABLE t"}),
        ("c", "x", {"c": "ARRAY<STRING>>"}),
    ],
)
def test_adhoc_wrong_types_name_the_parameter(duck, name, value, types):
    with pytest.raises(ParameterError) as info:
        duck.sql("SELECT COUNT(*) FROM dicom_all WHERE collection_id = @c", params={name: value},
                 types=types)  # fmt: skip
    assert name in str(info.value)
