"""A job whose download endpoint cannot be reached stops early, in bounded time, and says so."""

from __future__ import annotations

import socket

from tests.jobs_support import write_spec
from tests.test_jobs import SPEC, record, run


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unreachable_download_endpoint_stops_the_job_early(sample_root, tmp_path, capsys):
    dead = f"http://127.0.0.1:{_closed_port()}"
    text = SPEC.format(source=sample_root) + (
        f'\n[download]\nenabled = true\ndest = "data"\nendpoint = "{dead}"\ntimeout = 2\n'
    )
    spec = write_spec(tmp_path / "job" / "ct.toml", text)
    code, _, err = run(["job", "run", str(spec)], capsys)
    assert code == 5, err
    assert "download stopped" in err and "unreachable" in err.lower(), err
    runs = sorted((spec.parent / "out" / "runs").iterdir())
    rec = record(runs[-1])
    assert rec["status"] == "failed" and rec["error"]["exit_code"] == 5
    assert not (spec.parent / "out" / "latest.json").exists()  # a failed run never moves it
