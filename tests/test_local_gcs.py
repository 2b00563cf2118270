"""``python -m idcbq.testing.local_gcs``: the README's way to try downloads offline.

The server is started as a user would, the commands it prints are run through the real
``idcbq`` entry point, and Ctrl-C stops it cleanly.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import sys
from pathlib import Path

import pytest

from idcbq.testing.servers import free_port
from tests.child import Child, run

README = Path(__file__).parents[1] / "README.md"

pytestmark = pytest.mark.gcs


def test_readme_says_how_to_start_the_local_gcs_server():
    text = README.read_text(encoding="utf-8")
    assert "python -m idcbq.testing.local_gcs" in text
    assert "--endpoint http://127.0.0.1:4443" in text


def test_local_gcs_serves_the_sample_until_ctrl_c(sample_root, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("IDCBQ_")}
    env.update(IDCBQ_SAMPLE_ROOT=str(sample_root), XDG_CONFIG_HOME=str(tmp_path / "xdg"))
    port = free_port()
    server = Child([sys.executable, "-m", "idcbq.testing.local_gcs", "--port", str(port),
                    "--series", "2"], env=env, logdir=tmp_path / "logs")  # fmt: skip
    with server:
        assert server.wait_for("--endpoint", stream="stdout", timeout=300), server.stderr()
        out = server.stdout()
        assert f"local GCS server at http://127.0.0.1:{port}" in out
        assert re.search(r"seeded \d+ objects .* of 2 series", out), out
        # Run the commands it printed, as printed.
        commands = [line.strip() for line in out.splitlines() if line.startswith("  idcbq ")]
        assert len(commands) == 2, out
        for line in commands:
            argv = shlex.split(line)
            proc = run([sys.executable, "-m", *argv], env=env, cwd=tmp_path, timeout=300)
            assert proc.returncode == 0, (line, proc.stderr)
        assert "OK: " in proc.stdout and " 0 failed" in proc.stdout, proc.stdout
        assert list((tmp_path / "data").rglob("*.dcm"))
        server.send_signal(signal.SIGINT)
        assert server.wait(timeout=60) == 0, server.stderr()
    assert server.stdout().rstrip().endswith("stopped")
    assert "Traceback" not in server.stderr()
