"""The rule runner (idcbq.transpile.rules.run_steps): which rules run and which are skipped.

A skipped rule must be one that would have done nothing; these tests count the calls.
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp

from idcbq.transpile.rules import Triggered, handles, inspects, run_steps


def _counting(calls: list[str], name: str, fn=None):
    def rule(tree):
        calls.append(name)
        return fn(tree) if fn else tree

    rule.__name__ = name
    return rule


def _upper_to_lower(tree):
    for node in list(tree.find_all(exp.Upper)):
        node.replace(exp.Lower(this=node.this.copy()))
    return tree


def test_a_rule_runs_when_an_earlier_step_made_its_node():
    calls: list[str] = []
    make_lower = _counting(calls, "make_lower", _upper_to_lower)  # no handles: always runs
    on_lower = handles(exp.Lower)(_counting(calls, "on_lower"))
    on_upper = handles(exp.Upper)(_counting(calls, "on_upper"))
    out = run_steps(sqlglot.parse_one("SELECT UPPER(a) FROM t"), [on_lower, make_lower, on_lower])
    assert calls == ["make_lower", "on_lower"], calls
    assert out.sql() == "SELECT LOWER(a) FROM t"
    calls.clear()
    run_steps(sqlglot.parse_one("SELECT a FROM t"), [on_upper, on_lower])
    assert calls == []


def test_handles_names_a_base_class():
    calls: list[str] = []
    on_func = handles(exp.Func)(_counting(calls, "on_func"))
    run_steps(sqlglot.parse_one("SELECT UPPER(a) FROM t"), [on_func])
    assert calls == ["on_func"]


def test_a_triggered_group_decides_on_the_tree_as_the_group_starts():
    calls: list[str] = []
    group = Triggered(
        (
            (_counting(calls, "make_lower", _upper_to_lower), (exp.Upper,)),
            (_counting(calls, "on_lower"), (exp.Lower,)),  # LOWER made inside the group
        )
    )
    after = handles(exp.Lower)(_counting(calls, "after"))
    run_steps(sqlglot.parse_one("SELECT UPPER(a) FROM t"), [group, after])
    assert calls == ["make_lower", "after"], calls


def test_an_inspecting_rule_keeps_the_types_seen():
    calls: list[str] = []
    look = inspects(handles(exp.Upper)(_counting(calls, "look")))
    on_lower = handles(exp.Lower)(_counting(calls, "on_lower"))
    tree = sqlglot.parse_one("SELECT UPPER(a) FROM t")
    run_steps(tree, [look, on_lower, look])
    assert calls == ["look", "look"]
