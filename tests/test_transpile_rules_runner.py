"""The rule runner (idcbq.transpile.rules.run_steps): which rules run and which are skipped.

A skipped rule must be one that would have done nothing; these tests count the calls.
"""

from __future__ import annotations

import pytest
import sqlglot
from sqlglot import exp

from idcbq.transpile.rules import Triggered, handles, inspects, run_steps, touched


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


def _counting_walks(monkeypatch) -> list[int]:
    from idcbq.transpile import rules

    walks: list[int] = []
    real = rules._kinds

    def kinds(tree):
        walks.append(1)
        return real(tree)

    monkeypatch.setattr(rules, "_kinds", kinds)
    return walks


def test_a_rule_that_changed_nothing_keeps_the_types_seen(monkeypatch):
    walks = _counting_walks(monkeypatch)
    calls: list[str] = []
    idle = handles(exp.Upper)(_counting(calls, "idle"))  # runs, edits nothing
    on_lower = handles(exp.Lower)(_counting(calls, "on_lower"))
    run_steps(sqlglot.parse_one("SELECT UPPER(a) FROM t"), [idle, on_lower, idle])
    assert calls == ["idle", "idle"] and len(walks) == 1


def test_a_rule_that_replaced_a_node_is_walked_again(monkeypatch):
    walks = _counting_walks(monkeypatch)
    calls: list[str] = []
    lower = handles(exp.Upper)(_counting(calls, "lower", _upper_to_lower))
    on_lower = handles(exp.Lower)(_counting(calls, "on_lower"))
    run_steps(sqlglot.parse_one("SELECT UPPER(a) FROM t"), [lower, on_lower])
    assert calls == ["lower", "on_lower"] and len(walks) == 2


def _edit_in_place(tree, say: bool):
    select = tree.find(exp.Select)
    select.expressions[0] = exp.Lower(this=exp.column("b"))  # no set(): hash kept
    if say:
        touched(select)
    return tree


def test_an_in_place_edit_said_with_touched_is_walked_again():
    calls: list[str] = []
    edit = handles(exp.Column)(lambda tree: _edit_in_place(tree, say=True))
    on_lower = handles(exp.Lower)(_counting(calls, "on_lower"))
    run_steps(sqlglot.parse_one("SELECT a FROM t"), [edit, on_lower])
    assert calls == ["on_lower"]


def test_the_check_mode_finds_an_unsaid_in_place_edit(monkeypatch):
    from idcbq.transpile import rules

    monkeypatch.setattr(rules, "_CHECK", True)
    edit = handles(exp.Column)(lambda tree: _edit_in_place(tree, say=False))
    on_lower = handles(exp.Lower)(lambda tree: tree)
    with pytest.raises(AssertionError, match="without set/append/touched"):
        run_steps(sqlglot.parse_one("SELECT a FROM t"), [edit, on_lower])


@pytest.mark.slow  # every probe translated: about a minute
def test_no_rule_edits_the_corpus_unsaid(monkeypatch):
    """Every template example and probe translated with each unchanged-step claim checked
    against a fresh walk and hash (a rule editing ``args`` in place without
    :func:`touched` would make later rules skip a node they act on)."""
    from pathlib import Path

    import yaml

    from idcbq.errors import IdcbqError
    from idcbq.templates import Template, bind_params, builtin_dir, render
    from idcbq.transpile import rules, to_duckdb

    monkeypatch.setattr(rules, "_CHECK", True)
    texts = []
    for path in sorted(builtin_dir().glob("*.sql")):
        template = Template.from_path(path, builtin=True)
        for example in template.header.examples.values():
            query = render(template, bind_params(template, example), idc_version="v25")
            texts.append((query.sql, query.params))
    for path in sorted((Path(__file__).parent / "probes").glob("*.yaml")):
        for probe in yaml.safe_load(path.read_text()):
            texts.append((probe["sql"].replace("{T}", "dicom_all"), ()))
    translated = 0
    for sql, params in texts:
        try:
            to_duckdb(sql, params=params, strict_types=False)
            translated += 1
        except IdcbqError:
            continue  # refused: the rules that ran before the refusal were checked
    assert translated > len(texts) // 2
