"""A CLI query loads only what it needs: no pandas on the DuckDB JSON path (issue 21 §3).

DuckDB's parameter binding imports pandas unless held off (idcbq.core.imports); these
children check ``sys.modules`` after a real query, and that pandas still works after.
"""

from __future__ import annotations

import json
import os
import sys

import pytest

from tests.child import command, run

QUERY = "SELECT COUNT(*) n FROM dicom_all WHERE Modality = @m"

_CHILD = (
    "import json, sys\n"
    "from idcbq.cli import main\n"
    "try:\n    main(sys.argv[1:])\nexcept SystemExit as exc:\n    code = exc.code\n"
    "print(json.dumps({'code': code, 'pandas': 'pandas' in sys.modules,"
    " 'pydantic': 'pydantic' in sys.modules}), file=sys.stderr)\n"
)


def _child(
    sample_root, *args: str, extra: str = "", env: dict[str, str] | None = None
) -> tuple[list[dict], str]:
    if env is None:
        env = {**os.environ, "IDCBQ_SOURCE": str(sample_root)}
    env["IDCBQ_GOOGLESQL_ANALYSIS"] = "0"
    proc = run(command([sys.executable, "-c", _CHILD + extra, *args]), env=env)
    assert proc.returncode == 0, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("{")]
    return [json.loads(ln) for ln in lines], proc.stdout


def _ct_count(sample_engine) -> int:
    table = sample_engine.sql("SELECT COUNT(*) n FROM dicom_all WHERE Modality = 'CT'")
    return table.column("n")[0].as_py()


@pytest.mark.parametrize("fmt", ["json", "jsonl", "csv"])
def test_sql_query_does_not_import_pandas(sample_root, sample_engine, fmt):
    seen, out = _child(sample_root, "sql", "--format", fmt, QUERY, "-p", "m=CT")
    assert seen[-1] == {"code": 0, "pandas": False, "pydantic": True}  # IDCBQ_SOURCE is set
    assert out.split() in (
        ['[{"n":', f"{_ct_count(sample_engine)}}}]"],
        ['{"n":', f"{_ct_count(sample_engine)}}}"],
        ["n", str(_ct_count(sample_engine))],
    )


def test_json_answer_matches_duckdb_and_pandas_still_imports(sample_root, sample_engine):
    # After a held-off query, pandas imports and DuckDB hands it a DataFrame.
    extra = (
        "import pandas, duckdb\n"
        "print(json.dumps({'df': duckdb.connect().execute('SELECT $v::VARCHAR is NULL x',"
        " {'v': pandas.NA}).df()['x'].tolist()}), file=sys.stderr)\n"
    )
    seen, out = _child(sample_root, "sql", "--format", "json", QUERY, "-p", "m=CT", extra=extra)
    assert seen == [{"code": 0, "pandas": False, "pydantic": True}, {"df": [True]}]
    assert json.loads(out) == [{"n": _ct_count(sample_engine)}]


def test_nothing_to_validate_no_pydantic(sample_root, sample_engine, tmp_path):
    # No config file and no IDCBQ_* setting: the default sample, and pydantic stays out.
    env = {k: v for k, v in os.environ.items() if not k.startswith("IDCBQ_")}
    env.update(IDCBQ_SAMPLE_ROOT=str(sample_root), XDG_CONFIG_HOME=str(tmp_path))
    env.pop("GOOGLE_CLOUD_PROJECT", None)
    seen, out = _child(sample_root, "sql", "--format", "json", QUERY, "-p", "m=CT", env=env)
    assert seen == [{"code": 0, "pandas": False, "pydantic": False}]
    assert json.loads(out) == [{"n": _ct_count(sample_engine)}]
    # A setting to check brings pydantic back (and a bad one is still refused).
    (tmp_path / "idcbq").mkdir()
    (tmp_path / "idcbq" / "config.toml").write_text('engine = "sqlite"\n')
    proc = run(command([sys.executable, "-c", _CHILD, "sql", QUERY]), env=env)
    assert "engine" in proc.stderr and '"code": 2' in proc.stderr


def test_library_leaves_pandas_alone(sample_root):
    # Off outside the CLI (another thread may import pandas while a query binds), and
    # off again once main() returns in a process that goes on.
    code = (
        "import sys, idcbq\n"
        "from idcbq.cli import main\n"
        "try:\n    main(['sql', 'SELECT 1 AS x'])\nexcept SystemExit:\n    pass\n"
        "from idcbq.core import imports\n"
        "client = idcbq.connect('duckdb', source=sys.argv[1])\n"
        "client.sql('SELECT COUNT(*) n FROM dicom_all WHERE Modality = @m', params={'m': 'CT'})\n"
        "print('STATE', imports._enabled, 'pandas' in sys.modules, file=sys.stderr)\n"
    )
    env = {**os.environ, "IDCBQ_GOOGLESQL_ANALYSIS": "0"}
    proc = run(command([sys.executable, "-c", code, str(sample_root)]), env=env)
    assert proc.returncode == 0, proc.stderr
    assert "STATE False True" in proc.stderr  # DuckDB's binding loaded pandas, as it does
