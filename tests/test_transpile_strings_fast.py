"""The UPPER rewrite's table of special casings, built fast and only when needed."""

from __future__ import annotations

import sys

import sqlglot

from idcbq.transpile import strings


def test_bmp_scan_finds_every_special_casing() -> None:
    # The fast scan stops at the BMP; the full range must add nothing for this Unicode.
    assert strings._multi_upper() == strings._multi_upper(sys.maxunicode)
    assert ("ﬁ", "FI") in strings._multi_upper()


def test_no_upper_means_no_table() -> None:
    strings._multi_upper.cache_clear()
    tree = sqlglot.parse_one("SELECT LOWER(x) FROM t", read="bigquery")
    strings.full_case_mapping(tree)
    assert strings._multi_upper.cache_info().misses == 0
    tree = sqlglot.parse_one("SELECT UPPER(x) FROM t", read="bigquery")
    out = strings.full_case_mapping(tree).sql("duckdb")
    assert strings._multi_upper.cache_info().misses == 1
    assert "FI" in out
