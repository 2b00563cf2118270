"""The pipeline's speed-ups keep behaviour: the paused GC, the shared parse, cached type strings."""

from __future__ import annotations

import gc
import threading

import pytest
import sqlglot
from sqlglot import exp

from idcbq.core.gcpause import gc_paused, pausing_gc
from idcbq.engines.duckdb.statements import one_statement
from idcbq.sources.schema import Field, sqlglot_columns
from idcbq.transpile import to_duckdb
from idcbq.transpile.scripts import parsed_copies, shared_parse


def test_gc_paused_restores_and_nests():
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the inner block does not resume it
    assert gc.isenabled()


def test_gc_paused_leaves_a_disabled_collector_disabled():
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_gc_paused_resumes_after_the_last_thread_and_after_errors():
    entered, release = threading.Event(), threading.Event()

    def hold():
        with gc_paused():
            entered.set()
            release.wait(5)

    worker = threading.Thread(target=hold)
    worker.start()
    entered.wait(5)

    @pausing_gc
    def fails():
        raise ValueError("x")

    with pytest.raises(ValueError):
        fails()
    assert not gc.isenabled()  # the other thread is still inside
    release.set()
    worker.join(5)
    assert gc.isenabled()


def test_to_duckdb_resumes_the_collector():
    to_duckdb("SELECT 1 AS x")
    assert gc.isenabled()


def test_one_statement_is_the_shared_parse():
    sql = "SELECT PatientID FROM dicom_all WHERE Modality = 'CT'"
    tree = one_statement(sql)
    assert tree is shared_parse(sql)[0]
    assert tree == sqlglot.parse_one(sql, read="bigquery")
    copy = parsed_copies(sql)[0]
    assert copy is not tree and copy == tree


def test_one_statement_reads_a_script_as_one_block_and_garbage_as_none():
    script = "DECLARE m STRING DEFAULT 'CT'; SELECT 1 FROM dicom_all WHERE Modality = m"
    block = one_statement(script)
    assert isinstance(block, exp.Block)
    assert [t.name for t in block.find_all(exp.Table)] == ["dicom_all"]
    assert one_statement("SELECT FROM WHERE (") is None


def test_sqlglot_columns_gives_a_new_dict_each_call():
    fields = (
        Field("a", "INTEGER"),
        Field("s", "RECORD", "REPEATED", (Field("c", "STRING"), Field("d", "FLOAT"))),
    )
    first = sqlglot_columns(fields)
    assert first == {"a": "INT64", "s": "ARRAY<STRUCT<c STRING, d FLOAT64>>"}
    first["a"] = "edited"
    assert sqlglot_columns(iter(fields))["a"] == "INT64"
