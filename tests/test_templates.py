"""Template headers, the catalog and sandboxed rendering (no engine needed)."""

from __future__ import annotations

import logging
import textwrap
from pathlib import Path

import pytest

from idcbq.errors import ParameterError, TemplateError, UsageError
from idcbq.templates import Template, TemplateCatalog, bind_params, render

FIXTURES = Path(__file__).parent / "data" / "templates"


def make(tmp_path: Path, name: str, body: str, header: str | None = None) -> Template:
    header = header or f"name: {name}\ndescription: test template\n"
    text = f"/*---\n{header}---*/\n{textwrap.dedent(body).lstrip()}"
    path = tmp_path / f"{name}.sql"
    path.write_text(text)
    return Template.from_path(path)


def test_fixture_headers_parse_and_examples_bind():
    for path in sorted(FIXTURES.glob("*.sql")):
        tpl = Template.from_path(path)
        assert tpl.name == path.stem
        bound = bind_params(tpl, tpl.header.example_params())
        assert {p.name for p in bound} == set(tpl.header.parameters)


def test_render_table_fqn_and_given(tmp_path):
    tpl = Template.from_path(FIXTURES / "test.series_by_modality.sql")
    q = render(tpl, bind_params(tpl, {"modalities": ["CT"]}), idc_version="v21", data_project="p-x")
    assert "`p-x.idc_v21.dicom_all`" in q.sql
    assert "@collection_id" not in q.sql  # given() false: filter dropped
    q2 = render(tpl, bind_params(tpl, {"modalities": ["CT"], "collection_id": "nlst"}))
    assert "collection_id = @collection_id" in q2.sql
    assert "nlst" not in q2.sql  # the value is bound, never SQL text
    assert "`bigquery-public-data.idc_current.dicom_all`" in q2.sql


def test_clinical_table(tmp_path):
    tpl = make(tmp_path, "clin", "SELECT * FROM {{ table('clinical.nlst_prsn') }}\n")
    q = render(tpl, (), idc_version="v25")
    assert "`bigquery-public-data.idc_v25_clinical.nlst_prsn`" in q.sql


@pytest.mark.parametrize(
    ("body", "line", "fragment"),
    [
        ("SELECT 1\nFROM {{ table('secrets') }}\n", 6, "not an idc table"),
        ("SELECT 1\n\nWHERE x = {{ modality }}\n", 7, "undefined"),
        ("SELECT {{ table.__globals__ }}\n", 5, "sandbox"),
        ("SELECT {{ ''.__class__.__mro__ }}\n", 5, "sandbox"),
        ("SELECT {{ cycler }}\n", 5, "undefined"),
        ("SELECT 1\n{% if %}\n", 6, "syntax"),
        ("SELECT {{ given('nope') }}\n", 5, "not a declared parameter"),
        ("SELECT {{ lipsum() }}\n", 5, "undefined"),
    ],
)
def test_jinja_errors_name_file_and_line(tmp_path, body, line, fragment):
    tpl = make(tmp_path, "bad", body)
    with pytest.raises(TemplateError) as info:
        render(tpl, ())
    err = info.value
    assert err.location.path == str(tpl.path)
    assert err.location.line == line, str(err)
    assert fragment in str(err).lower()
    assert err.location.snippet == tpl.text.splitlines()[line - 1]


def test_parameter_values_are_not_in_jinja_context(tmp_path):
    header = "name: v\ndescription: d\nparameters:\n  m: {type: STRING, default: CT}\n"
    tpl = make(tmp_path, "v", "SELECT '{{ m }}'\n", header=header)
    with pytest.raises(TemplateError, match="undefined"):
        render(tpl, bind_params(tpl, {"m": "x'; DROP TABLE t; --"}))


@pytest.mark.parametrize(
    ("header", "line", "fragment"),
    [
        ("name: h\ndescription: d\nparameters:\n  x: {type: TEXTY}\n", 5, "unknown parameter type"),
        (
            "name: h\ndescription: d\nparameters:\n  x: {type: STRING, description: a, b}\n",
            5,
            "x.b",
        ),
        ("name: h\ndescription: d\nparameters: [\n", 5, "not valid YAML"),
        ("name: h\ndescription: d\nbogus: 1\n", 4, "bogus"),
        ("name: other\ndescription: d\n", 2, "does not match the file name"),
        (
            "name: h\ndescription: d\nparameters:\n  x: {type: INT64, required: true}\n",
            5,
            "needs an example",
        ),
        ("name: h\ndescription: d\nparameters:\n  x: {type: INT64, default: abc}\n", 5, "INT64"),
    ],
)
def test_header_errors_point_at_header_line(tmp_path, header, line, fragment):
    tpl = make(tmp_path, "h", "SELECT 1\n", header=header)
    with pytest.raises(TemplateError) as info:
        _ = tpl.header
    assert info.value.location.line == line, str(info.value)
    assert fragment in str(info.value)


def test_missing_header(tmp_path):
    path = tmp_path / "x.sql"
    path.write_text("SELECT 1\n")
    with pytest.raises(TemplateError, match="must start with"):
        _ = Template.from_path(path).header


def test_bind_params_errors():
    tpl = Template.from_path(FIXTURES / "test.typed_filters.sql")
    with pytest.raises(ParameterError, match="needs parameter 'collection_id'") as info:
        bind_params(tpl, {})
    assert info.value.location.line == tpl.header_line_of("collection_id")
    with pytest.raises(ParameterError, match="did you mean 'min_instances'"):
        bind_params(tpl, {"collection_id": "x", "min_instance": 3})
    with pytest.raises(ParameterError, match="INT64"):
        bind_params(tpl, {"collection_id": "x", "min_instances": "3"})
    # CLI text is parsed by the declared type; a date-looking STRING stays a string.
    bound = {
        p.name: p.value
        for p in bind_params(
            tpl, {"collection_id": "2024-01-01", "min_instances": "3"}, from_text=True
        )
    }
    assert bound["collection_id"] == "2024-01-01"
    assert bound["min_instances"] == 3
    assert bound["with_size"] is True  # default


def test_catalog_user_dirs_env_and_shadowing(tmp_path, monkeypatch, caplog):
    builtin = TemplateCatalog.discover(use_env=False)
    monkeypatch.setenv("IDCBQ_TEMPLATES", str(FIXTURES))
    cat = TemplateCatalog.discover()
    assert "test.series_by_modality" in cat
    assert len(cat) == len(builtin) + len(list(FIXTURES.glob("*.sql")))
    # A user template that shadows another one wins, with a warning.
    shadow = tmp_path / "test.modality_counts.sql"
    shadow.write_text("/*---\nname: test.modality_counts\ndescription: mine\n---*/\nSELECT 1\n")
    with caplog.at_level(logging.WARNING, logger="idcbq"):
        cat2 = TemplateCatalog.discover([tmp_path])
    assert cat2.get("test.modality_counts").description == "mine"
    assert any("shadows" in r.getMessage() for r in caplog.records)
    assert cat2.warnings
    with pytest.raises(UsageError, match=r"did you mean test\.modality_counts"):
        cat2.get("test.modality_count")
    with pytest.raises(UsageError, match="does not exist"):
        TemplateCatalog.discover([tmp_path / "missing"])


def test_line_map_survives_jinja_blocks(tmp_path):
    from idcbq.validate import check

    body = """SELECT
      SeriesInstanceUID
    FROM {{ table('dicom_all') }}
    {% if given('c') %}
    WHERE collection_id = @c
    {% endif %}
    GROUP BY SeriesInstanceUID, Modalty
    """
    header = "name: lm\ndescription: d\nparameters:\n  c: {type: STRING}\n"
    tpl = make(tmp_path, "lm", body, header=header)
    for values in ({}, {"c": "x"}):
        q = render(tpl, bind_params(tpl, values))
        _, problems = check(q.sql, params=q.params, location_map=q.location_map)
        assert len(problems) == 1
        loc = problems[0].location
        assert (loc.path, loc.line) == (str(tpl.path), 13)
        assert loc.snippet.strip() == "GROUP BY SeriesInstanceUID, Modalty"
        assert loc.snippet[loc.column - 1 :].startswith("Modalty")
