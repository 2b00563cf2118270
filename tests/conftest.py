"""Shared test fixtures. Each concern keeps its fixtures in ``tests/fixtures/<name>.py``."""

import os as _os

pytest_plugins = [
    "tests.fixtures.sample",
    "tests.fixtures.servers",
    "tests.fixtures.bigquery",
    "tests.fixtures.downloads",
    "tests.fixtures.orthanc",
    "tests.fixtures.googlesql",
    "tests.fixtures.transpile",
]

# GoogleSQL's analyzer gates every query by default (idcbq.validate.gate). Most tests
# run many short CLI processes and would each start the analyzer module (seconds on a
# loaded 2-core box), so the suite runs with the strict layer only unless a test turns
# the analyzer on (tests/test_gate.py, tests/test_googlesql_analyze.py do).
_os.environ.setdefault("IDCBQ_GOOGLESQL_ANALYSIS", "0")
# No background GoogleSQL helper from CLI subprocesses of tests (test_gate starts and
# stops its own).
_os.environ.setdefault("IDCBQ_GOOGLESQL_HELPER", "0")
