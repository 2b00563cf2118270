"""Issue 18 §3: typed rewrites read GoogleSQL's types where sqlglot cannot type a value.

The gate's analysis records each resolved expression's GoogleSQL type by its span in
the SQL text (and the type of each resolved column name); the DuckDB translation fills
the nodes sqlglot's annotator left UNKNOWN from them, and a typed rewrite refuses a
value whose type is still unknown. Answers are compared with the googlesql engine
(ZetaSQL's reference implementation) on the sample export.
"""

from __future__ import annotations

import json

import pytest
import sqlglot
from sqlglot import exp

from idcbq.transpile import to_duckdb
from idcbq.transpile.analyzed_types import fill_unknown
from idcbq.transpile.known import UnknownType
from tests.cross_engine_support import compare, order_keys
from tests.transpile_support import analyzed_types

QUALIFIED = "`bigquery-public-data.idc_current.dicom_all`"

#: CASE inside nested CTEs over a field of an UNNESTed STRUCT array: sqlglot types none
#: of it; ``CAST(-2.5 AS INT64)`` is -3 in GoogleSQL (DuckDB's own cast gives -2) and
#: ``CAST(3.0 AS STRING)`` is '3' (DuckDB: '3.0').
NESTED = f"""WITH segments AS (
  SELECT SOPInstanceUID, segment FROM {QUALIFIED}
  CROSS JOIN UNNEST(SegmentSequence) AS segment),
weights AS (
  SELECT SOPInstanceUID,
    CASE WHEN segment.SegmentNumber > 1 THEN -2.5 ELSE 3.0 END AS w FROM segments),
again AS (SELECT * FROM weights)
SELECT CAST(w AS INT64) AS i, CAST(w AS STRING) AS s, COUNT(*) AS n
FROM again GROUP BY i, s ORDER BY i"""


def test_sqlglot_alone_cannot_type_it():
    # the premise: without GoogleSQL's types the typed casts have no type to read
    with pytest.raises(UnknownType, match="`w`, which is not known here"):
        to_duckdb(NESTED)


def test_nested_cte_case_of_an_unnested_struct_field_gets_googlesqls_answer(
    analyzed_duck, gsql_engine
):
    duck = analyzed_duck.sql(NESTED).table
    oracle = gsql_engine.execute(gsql_engine.prepare(NESTED, ()))
    assert oracle.num_rows == 2  # both branches of the CASE occur in the sample
    compare(oracle, duck, ordered=order_keys(NESTED), types=True)


#: One value sqlglot cannot type in an otherwise typed query (ERROR has no type for it;
#: idc-index-data's idc_index has such a CASE): GoogleSQL says FLOAT64, so the cast
#: rounds half away from zero (-3; DuckDB's own cast gives -2).
ONE_NODE = f"""SELECT CAST(CASE WHEN `Rows` IS NOT NULL THEN -2.5 ELSE ERROR('no rows') END
  AS INT64) AS i, COUNT(*) AS n FROM {QUALIFIED} WHERE `Rows` IS NOT NULL GROUP BY i"""


def test_one_value_sqlglot_cannot_type_gets_googlesqls_answer(analyzed_duck, gsql_engine):
    with pytest.raises(UnknownType, match="CASE WHEN"):
        to_duckdb(ONE_NODE)  # no analysis: the type of the CASE is not known here
    duck = analyzed_duck.sql(ONE_NODE).table
    oracle = gsql_engine.execute(gsql_engine.prepare(ONE_NODE, ()))
    assert oracle.column("i").to_pylist() == [-3]
    compare(oracle, duck, ordered=False, types=True)


def test_real_queries_that_need_the_analysis_types():
    # refused per node without GoogleSQL's types (what the DuckDB engine keeps the
    # per-query rule for when nothing analyzed the query), translated with them
    from idcbq.transpile import split_declare_script
    from tests.transpile_support import corpus_files

    needing = []
    for path in corpus_files():
        if path.name == "prior_versions_index.sql":  # dynamic SQL: refused anyway
            continue
        query, params = split_declare_script(path.read_text())
        assert to_duckdb(query, params=params, expression_types=analyzed_types(query, params))
        try:
            to_duckdb(query, params=params)
        except UnknownType:
            needing.append(path.stem)
            assert to_duckdb(query, params=params, strict_types=False)
    # idc_index: a simple CASE over a column of a CTE (NaN equalities ask its type)
    assert needing == ["idc_index", "seg_index", "volume_geometry_index"]


def test_translation_with_the_analysis_types_reads_double_for_the_case():
    typed = analyzed_types(NESTED, idc_version="current")
    tree = sqlglot.parse_one(NESTED, read="bigquery")
    for node in tree.walk():
        node.type = exp.DataType.build("UNKNOWN")
    assert fill_unknown(tree, NESTED, typed) > 0
    assert tree.find(exp.Case).type.is_type(exp.DataType.Type.DOUBLE)
    outer = [c for c in tree.find_all(exp.Column) if c.name == "w"]
    assert outer and all(c.type.is_type(exp.DataType.Type.DOUBLE) for c in outer)


def _types_by_text(sql: str) -> dict[str, str]:
    """GoogleSQL's type of each analyzed expression, keyed by its text in ``sql``."""
    typed = analyzed_types(sql, idc_version="current")
    return {sql[s:e]: typed["types"][i] for s, e, i in typed["spans"]}


def test_one_span_two_expressions_gives_the_written_values_type():
    sql = (
        "SELECT x.s.SegmentNumber AS n FROM "
        "(SELECT s FROM dicom_all, UNNEST(SegmentSequence) AS s WHERE `Rows` = 1.5) AS x"
    )
    found = _types_by_text(sql)
    # a field of a column in one path (table x, column s, field SegmentNumber): one span
    # for both; the field is what is written, not the STRUCT column
    assert found["x.s.SegmentNumber"] == "INT64"
    # an implicit coercion to FLOAT64 around the INT64 column: the column's own type
    assert found["`Rows`"] == "INT64"
    assert found["`Rows` = 1.5"] == "BOOL"


def test_spans_are_positions_in_the_text_the_transpiler_parses():
    # before the expressions: a bare table name (rewritten to a flat catalog name),
    # INT and CONTAINS_SUBSTR (rewritten for this ZetaSQL build) and multi-byte characters
    sql = (
        "SELECT 'äöü€' AS u, CAST(1 AS INT) AS a, CONTAINS_SUBSTR(SeriesDescription, 'x') AS m, "
        "CASE WHEN Modality = 'CT' THEN 1.5 ELSE 2 END AS w FROM dicom_all"
    )
    found = _types_by_text(sql)
    assert found["'äöü€'"] == "STRING"
    assert found["CAST(1 AS INT)"] == "INT64"
    assert found["CASE WHEN Modality = 'CT' THEN 1.5 ELSE 2 END"] == "DOUBLE"
    assert found["Modality"] == "STRING"
    # a span inside a rewritten piece of text has no place in the original: dropped
    assert not any("SeriesDescription" in text for text in found)
    # a rewritten call as a whole maps to the call as written
    sql = "SELECT MAX_BY(SeriesNumber, InstanceNumber) AS m FROM dicom_all"
    typed = analyzed_types(sql, idc_version="current")
    assert [sql[s:e] for s, e, _ in typed["spans"]] == ["MAX_BY(SeriesNumber, InstanceNumber)"]
    assert typed["types"][typed["spans"][0][2]] == "STRING"


def test_expression_types_survive_the_verdict_cache_as_json():
    from idcbq.validate.googlesql import verdict_of

    typed = analyzed_types(NESTED, idc_version="current")
    back = json.loads(json.dumps(verdict_of(None, [("i", "INT64")], typed)))
    assert back["expression_types"] == json.loads(json.dumps(typed))
    trees = []
    for source in (typed, back["expression_types"]):
        tree = sqlglot.parse_one(NESTED, read="bigquery")
        for node in tree.walk():
            node.type = exp.DataType.build("UNKNOWN")
        fill_unknown(tree, NESTED, source)
        trees.append([n.type.sql("bigquery") for n in tree.walk()])
    assert trees[0] == trees[1]


def test_parentheses_take_the_type_of_what_they_hold():
    # GoogleSQL's span of ``(x + 1)`` is ``x + 1``: the parentheses are no expression
    sql = "SELECT ((`Rows` + 1)) * 2 AS a FROM dicom_all"
    typed = analyzed_types(sql, idc_version="current")
    tree = sqlglot.parse_one(sql, read="bigquery")
    for node in tree.walk():
        node.type = exp.DataType.build("UNKNOWN")
    fill_unknown(tree, sql, typed)
    parens = list(tree.find_all(exp.Paren))
    assert len(parens) == 2
    assert all(p.type.is_type(exp.DataType.Type.BIGINT) for p in parens)
    assert tree.find(exp.Mul).type.is_type(exp.DataType.Type.BIGINT)


def test_a_node_no_span_matches_stays_unknown():
    sql = "SELECT x + 1 AS y FROM t"
    tree = sqlglot.parse_one(sql, read="bigquery")
    for node in tree.walk():
        node.type = exp.DataType.build("UNKNOWN")
    # a span whose text is another expression than the node's: not its type
    fill_unknown(tree, sql, {"types": ["INT64"], "spans": [[7, 12, 0]], "columns": {}})
    assert tree.find(exp.Add).type.is_type(exp.DataType.Type.BIGINT)
    fill_unknown(tree, sql, {"types": ["DATE"], "spans": [[7, 11, 0]], "columns": {}})  # "x + "
    assert tree.find(exp.Column).type.is_type(exp.DataType.Type.UNKNOWN)


def test_a_struct_field_does_not_take_a_same_named_columns_type():
    # ``s.x`` of an UNNEST alias is a field, not a column named x
    sql = "SELECT s.x AS f FROM t, UNNEST(arr) AS s"
    tree = sqlglot.parse_one(sql, read="bigquery")
    for node in tree.walk():
        node.type = exp.DataType.build("UNKNOWN")
    fill_unknown(tree, sql, {"types": ["DATE"], "spans": [], "columns": {"x": 0}})
    assert tree.find(exp.Column).type.is_type(exp.DataType.Type.UNKNOWN)


def test_without_analysis_the_engine_keeps_the_per_query_rule():
    # what the DuckDB engine does when nothing analyzed the query: a value of unknown
    # type refuses only where a rewrite asks its type (issue 18 §3; `x >> 1` is INT64 or
    # BYTES), not merely because a column is unknown (real IDC queries read such tables)
    sql = "SELECT x >> 1 AS s FROM idc_current.not_a_table"
    with pytest.raises(UnknownType, match="`x`"):
        to_duckdb(sql, strict_types=False)
    with pytest.raises(UnknownType):
        to_duckdb(sql)
    assert to_duckdb("SELECT x, y AS s FROM idc_current.not_a_table", strict_types=False)


@pytest.mark.parametrize(
    "sql",
    [
        # CONCAT of one DATE is its text: DuckDB answered the DATE itself
        "SELECT CONCAT(s.x) AS a FROM UNNEST([STRUCT(DATE '2020-01-01' AS x)]) AS s",
        "WITH t AS (SELECT DATE '2020-01-01' AS d) SELECT CONCAT(x.d) AS a FROM (SELECT * FROM t) x",
    ],
)
def test_without_analysis_a_typed_rewrite_of_an_unknown_type_refuses(sql):
    with pytest.raises(UnknownType, match="not known here"):
        to_duckdb(sql, strict_types=False)


def test_without_analysis_a_known_other_operand_answers():
    # NUMERIC * INT64 needs no rewrite: the unknown side's type does not matter
    sql = "SELECT s.x * 2 AS a FROM UNNEST([STRUCT(NUMERIC '1.5' AS x)]) AS s"
    assert to_duckdb(sql, strict_types=False)
