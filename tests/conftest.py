"""Shared test fixtures. Each concern keeps its fixtures in ``tests/fixtures/<name>.py``."""

pytest_plugins = [
    "tests.fixtures.sample",
    "tests.fixtures.servers",
    "tests.fixtures.bigquery",
    "tests.fixtures.downloads",
    "tests.fixtures.orthanc",
    "tests.fixtures.googlesql",
]
