"""Config file + environment defaults, and their precedence through the real CLI."""

from __future__ import annotations

import pytest

from idcbq.cli import cli
from idcbq.cli.common import run_cli
from idcbq.config import ConfigError, Settings, config_path, load_settings
from idcbq.errors import ExitCode

ENV = ("IDCBQ_ENGINE", "IDCBQ_PROJECT", "GOOGLE_CLOUD_PROJECT", "IDCBQ_IDC_VERSION",
       "IDCBQ_MAX_BYTES_BILLED", "IDCBQ_SOURCE", "IDCBQ_CONFIG")  # fmt: skip


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    return monkeypatch


def write_config(tmp_path, text: str):
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_default_path_is_user_config_dir(clean_env, tmp_path):
    assert config_path() == tmp_path / "xdg" / "idcbq" / "config.toml"
    assert load_settings() == Settings()  # no file: built-in defaults


def test_env_overrides_file(clean_env, tmp_path):
    path = write_config(
        tmp_path, 'engine = "bigquery"\nproject = "p-file"\nmax_bytes_billed = 1000\n'
    )
    clean_env.setenv("IDCBQ_CONFIG", str(path))
    assert load_settings().as_defaults() == {
        "engine": "bigquery",
        "project": "p-file",
        "max_bytes_billed": 1000,
    }
    clean_env.setenv("GOOGLE_CLOUD_PROJECT", "p-google")
    assert load_settings().project == "p-google"
    clean_env.setenv("IDCBQ_PROJECT", "p-idcbq")  # the idcbq-specific variable wins
    clean_env.setenv("IDCBQ_MAX_BYTES_BILLED", "5")
    settings = load_settings()
    assert (settings.project, settings.max_bytes_billed, settings.engine) == (
        "p-idcbq",
        5,
        "bigquery",
    )


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ('engine = "duckdb"\ncost_cap = 5\n', 2, "unknown setting 'cost_cap'"),
        ('engine = "sqlite"\n', 1, "engine"),
        ('project = "p"\nmax_bytes_billed = -1\n', 2, "max_bytes_billed"),
        ('idc_version = "version 7"\n', 1, "idc_version"),
        ("engine = \n", 1, "invalid TOML"),
    ],
)
def test_bad_config_names_file_and_line(clean_env, tmp_path, capsys, text, line, words):
    path = write_config(tmp_path, text)
    clean_env.setenv("IDCBQ_CONFIG", str(path))
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert f"{path}:{line}" in str(info.value) and words in str(info.value)
    code = run_cli(cli, ["templates", "list"])  # any command: the CLI says so, exit 2
    err = capsys.readouterr().err
    assert code == ExitCode.BAD_INPUT and f"{path}:{line}" in err and "Traceback" not in err


def test_bad_env_value_names_the_variable(clean_env):
    clean_env.setenv("IDCBQ_MAX_BYTES_BILLED", "lots")
    with pytest.raises(ConfigError, match="IDCBQ_MAX_BYTES_BILLED"):
        load_settings()


def test_missing_explicit_config_is_an_error(clean_env, tmp_path):
    clean_env.setenv("IDCBQ_CONFIG", str(tmp_path / "nope.toml"))
    with pytest.raises(ConfigError, match="not found"):
        load_settings()


def _rendered_dataset(capsys, *args: str) -> str:
    code = run_cli(cli, ["templates", "render", "summary.counts", "--engine", "bigquery", *args])
    out, err = capsys.readouterr()
    assert code == 0, err
    import re

    found = set(re.findall(r"bigquery-public-data\.(idc_[a-z0-9]+)\.", out))
    assert len(found) == 1, out
    return found.pop()


def test_cli_precedence_flag_env_file_default(clean_env, tmp_path, capsys):
    """flag > env var > config file > built-in default, seen in the SQL a command renders."""
    assert _rendered_dataset(capsys) == "idc_current"  # built-in default
    clean_env.setenv("IDCBQ_CONFIG", str(write_config(tmp_path, 'idc_version = "v21"\n')))
    assert _rendered_dataset(capsys) == "idc_v21"  # config file
    clean_env.setenv("IDCBQ_IDC_VERSION", "v22")
    assert _rendered_dataset(capsys) == "idc_v22"  # env beats file
    assert _rendered_dataset(capsys, "--idc-version", "v23") == "idc_v23"  # flag beats env


def test_config_reaches_nested_commands_and_help(clean_env, tmp_path, capsys):
    clean_env.setenv("IDCBQ_CONFIG", str(write_config(tmp_path, 'engine = "bigquery"\n')))
    code = run_cli(cli, ["templates", "render", "--help"])
    out = capsys.readouterr().out
    assert code == 0 and "[default: bigquery]" in " ".join(out.split())


def test_cost_cap_accepts_the_same_units_as_the_flag(clean_env, tmp_path):
    path = write_config(tmp_path, 'max_bytes_billed = "50GB"\n')
    clean_env.setenv("IDCBQ_CONFIG", str(path))
    assert load_settings().max_bytes_billed == 50 * 10**9
    clean_env.setenv("IDCBQ_MAX_BYTES_BILLED", "1TiB")
    assert load_settings().max_bytes_billed == 2**40
    clean_env.setenv("IDCBQ_MAX_BYTES_BILLED", "lots")
    with pytest.raises(ConfigError, match="IDCBQ_MAX_BYTES_BILLED"):
        load_settings()
