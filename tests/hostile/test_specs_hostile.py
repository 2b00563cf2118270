"""Bad job specs and config files: each error names the file, the line and the key/value."""

from __future__ import annotations

import pytest

from idcbq.config import ConfigError, load_file
from idcbq.errors import JobSpecError
from idcbq.jobs.spec import load_spec

GOOD_TOML = """\
[job]
name = "nlst-ct"

[query]
template = "cohort.series_by_modality"
params = { modalities = ["CT"] }

[engine]
name = "duckdb"

[outputs]
destination = "runs/nlst-ct"
results = ["parquet"]
"""

GOOD_YAML = """\
job:
  name: nlst-ct
query:
  template: cohort.series_by_modality
  params: {modalities: [CT]}
engine:
  name: duckdb
outputs:
  destination: runs/nlst-ct
  results: [parquet]
"""


def test_good_specs_load(tmp_path):
    """Control: the bases of the hostile variants below are valid."""
    for name, text in (("a.toml", GOOD_TOML), ("a.yaml", GOOD_YAML)):
        (tmp_path / name).write_text(text)
        assert load_spec(tmp_path / name).job.name == "nlst-ct"


# (file suffix, old text, new text, fragment the message must contain, lines the error
# may point at: the offending line, or its section header for section-level rules).
CASES = [
    (".toml", 'name = "nlst-ct"', 'name = "nlst-ct"\nnmae = "typo"', "nmae", {3}),
    (".toml", 'name = "duckdb"', 'name = "duckdb"\nmax_bytes_biled = 10', "max_bytes_biled", {10}),
    (".toml", 'name = "duckdb"', 'name = "sqlite"', "engine.name", {9}),
    (".toml", 'results = ["parquet"]', 'results = ["exe"]', "exe", {13}),
    (".toml", 'results = ["parquet"]', 'results = "parquet"', "results", {13}),
    (".toml", 'name = "nlst-ct"', 'name = "../../etc"', "job.name", {2}),
    (".toml", 'name = "nlst-ct"', "name = 5", "job.name", {2}),
    (".toml", 'template = "cohort.series_by_modality"',
     'template = "x"\nsql_file = "q.sql"', "exactly one", {4, 5, 6}),
    (".toml", '[outputs]\ndestination = "runs/nlst-ct"', "[outputs]", "destination", {11}),
    (".toml", 'name = "nlst-ct"', 'name = "nlst-ct', "invalid TOML", {2}),
    (".toml", "[engine]", "[engine]\n[engine]", "invalid TOML", {9}),
    (".toml", "[job]", "[jbo]", "jbo", {1}),
    (".yaml", "  name: nlst-ct", "  name: nlst-ct\n  nmae: typo", "nmae", {3}),
    (".yaml", "  name: duckdb", "  name: [duckdb]", "engine.name", {7}),
    (".yaml", "  results: [parquet]", "  results: [parquet, exe]", "exe", {10}),
    (".yaml", "  name: nlst-ct", "  name: nlst-ct\n bad: [", "invalid YAML", {3, 4}),
    (".yaml", "  name: nlst-ct", "  name: !!python/object/apply:os.system ['id']", "YAML", {2}),
]  # fmt: skip


@pytest.mark.parametrize(("suffix", "old", "new", "fragment", "lines"), CASES)
def test_bad_spec_names_file_line_and_key(tmp_path, suffix, old, new, fragment, lines):
    base = GOOD_TOML if suffix == ".toml" else GOOD_YAML
    assert old in base
    text = base.replace(old, new, 1)
    path = tmp_path / f"job{suffix}"
    path.write_text(text)
    with pytest.raises(JobSpecError) as info:
        load_spec(path)
    err = info.value
    assert err.location is not None and err.location.path == str(path), str(err)
    assert fragment in str(err), str(err)
    assert err.location.line in lines, str(err)
    assert err.location.snippet == text.splitlines()[err.location.line - 1]


def test_missing_spec_and_binary_spec(tmp_path):
    with pytest.raises(JobSpecError) as info:
        load_spec(tmp_path / "nope.toml")
    assert str(tmp_path / "nope.toml") in str(info.value)
    (tmp_path / "bin.toml").write_bytes(b"\x00\xff\xfe[job]\n")
    with pytest.raises(JobSpecError) as info:
        load_spec(tmp_path / "bin.toml")
    assert info.value.location.path == str(tmp_path / "bin.toml")


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ('engine = "duckdb"\nprojcet = "p"\n', 2, "projcet"),
        ('engine = "sqlite"\n', 1, "engine"),
        ('engine = "duckdb"\nmax_bytes_billed = "lots"\n', 2, "max_bytes_billed"),
        ('engine = "duckdb"\nidc_version = "v25; rm -rf /"\n', 2, "idc_version"),
        ('engine = "duckdb\n', 1, "invalid TOML"),
        ('[engine]\nname = "duckdb"\n', 1, "engine"),
    ],
)
def test_bad_config_file_names_file_line_and_key(tmp_path, text, line, fragment):
    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_file(path)
    err = info.value
    assert err.location is not None and err.location.path == str(path), str(err)
    assert err.location.line == line, str(err)
    assert fragment in str(err)
