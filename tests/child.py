"""Start test children the same way on every machine: output to files, Ctrl-C restored.

Two things made CLI tests fail on a loaded CI machine and pass by hand:

- A child whose stdout/stderr is a pipe nobody reads blocks once the pipe's buffer is
  full (``-vv`` logs fill it fast) and then cannot exit, not even after SIGINT. Here a
  child's output always goes to files; tests read them (and poll them) at will.
- A shell that runs a job in the background (``cmd &``, as CI runners do) starts it with
  SIGINT *ignored*, and an ignored disposition is inherited through ``exec``: Python
  then installs no ``KeyboardInterrupt`` handler, and the test's SIGINT does nothing.
  A child started here gets SIGINT's default back before it runs, as a terminal would
  give it; :func:`interruptible` does the same for the test process itself.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

#: ``python -c`` boot line for ``-m MODULE`` children: Python's own SIGINT handler back
#: (a background shell may have started us with SIGINT ignored), then the module.
_BOOT = (
    "import runpy, signal, sys; "
    "signal.signal(signal.SIGINT, signal.default_int_handler); "
    "mod = sys.argv.pop(1); "
    "runpy.run_module(mod, run_name='__main__', alter_sys=True)"
)


#: The same for any other program: SIGINT's default back, then ``exec`` it. (Not
#: ``preexec_fn``: Python code between fork and exec can deadlock in a threaded test.)
_EXEC = (
    "import os, signal, sys; "
    "signal.signal(signal.SIGINT, signal.SIG_DFL); "
    "os.execvp(sys.argv[1], sys.argv[1:])"
)


def command(args: Sequence[str]) -> list[str]:
    """``args`` run with SIGINT's default disposition restored before the program starts."""
    args = [str(a) for a in args]
    if len(args) >= 3 and args[0] == sys.executable and args[1] == "-m":
        return [sys.executable, "-c", _BOOT, args[2], *args[3:]]
    return [sys.executable, "-c", _EXEC, *args]


def idcbq_command(*args: object) -> list[str]:
    """The argv of ``python -m idcbq ARGS`` (SIGINT restored)."""
    return command([sys.executable, "-m", "idcbq", *(str(a) for a in args)])


class Child:
    """A running child whose stdout and stderr go to files in ``logdir``.

    Use as a context manager: on exit a child still running is killed and reaped.
    """

    def __init__(
        self,
        args: Sequence[str],
        *,
        logdir: Path | None = None,
        env: dict[str, str] | None = None,
        cwd: Path | str | None = None,
        stdin: str | None = None,
    ):
        self.logdir = Path(logdir or tempfile.mkdtemp(prefix="idcbq-child-"))
        self.logdir.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix="out-", dir=self.logdir)
        os.close(fd)
        self.stdout_path = Path(name)
        fd, name = tempfile.mkstemp(prefix="err-", dir=self.logdir)
        os.close(fd)
        self.stderr_path = Path(name)
        stdin_file = None
        if stdin is not None:
            fd, name = tempfile.mkstemp(prefix="in-", dir=self.logdir)
            with os.fdopen(fd, "w") as fh:
                fh.write(stdin)
            stdin_file = open(name, "rb")  # noqa: SIM115 - closed below
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(
                command(args),
                stdin=stdin_file if stdin_file is not None else subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                env=env,
                cwd=cwd,
            )
        if stdin_file is not None:
            stdin_file.close()

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def returncode(self) -> int | None:
        return self.proc.returncode

    def stdout(self) -> str:
        """Everything the child has written to stdout so far."""
        return self.stdout_path.read_text(errors="replace")

    def stderr(self) -> str:
        """Everything the child has written to stderr so far."""
        return self.stderr_path.read_text(errors="replace")

    def poll(self) -> int | None:
        return self.proc.poll()

    def wait_for(self, text: str, *, stream: str = "stderr", timeout: float = 120) -> bool:
        """Poll ``stream`` until it contains ``text``; False if the child ended or time ran out.

        ``timeout`` is a hang guard, not a speed claim.
        """
        read = self.stderr if stream == "stderr" else self.stdout
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in read():
                return True
            if self.proc.poll() is not None:
                return text in read()
            time.sleep(0.05)
        return False

    def wait_until(self, predicate, *, timeout: float = 120) -> bool:
        """Poll ``predicate()`` while the child runs; True once it holds (a hang guard)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            if self.proc.poll() is not None:
                return bool(predicate())
            time.sleep(0.05)
        return False

    def send_signal(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def wait(self, timeout: float = 180) -> int:
        """Wait for the child to exit (``timeout`` is a hang guard); its exit code."""
        return self.proc.wait(timeout=timeout)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self) -> Child:
        return self

    def __exit__(self, *exc: object) -> None:
        self.kill()


def run(
    args: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    cwd: Path | str | None = None,
    stdin: str | None = None,
    timeout: float = 180,
    logdir: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a child to the end (``timeout`` is a hang guard) with its output sent to files."""
    with (
        tempfile.TemporaryDirectory(prefix="idcbq-child-") as tmp,
        Child(args, env=env, cwd=cwd, stdin=stdin, logdir=logdir or Path(tmp)) as child,
    ):
        code = child.wait(timeout=timeout)
        return subprocess.CompletedProcess(child.proc.args, code, child.stdout(), child.stderr())


def run_idcbq(*args: object, **kwargs) -> subprocess.CompletedProcess[str]:
    """``python -m idcbq ARGS`` to the end; see :func:`run`."""
    return run(idcbq_command(*args), **kwargs)


@contextlib.contextmanager
def interruptible() -> Iterator[None]:
    """SIGINT raises KeyboardInterrupt in this (test) process for the block's duration.

    Under a background shell the test process itself starts with SIGINT ignored, so a
    test that sends itself SIGINT must install Python's handler first.
    """
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def run_on_terminal(
    args: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    stream: str = "stdout",
    columns: int = 80,
    timeout: float = 180,
) -> subprocess.CompletedProcess[str]:
    """Run a child with ``stream`` on a pseudo-terminal ``columns`` wide, the other to a file.

    The terminal is read while the child writes (a full pty buffer would block it).
    """
    import fcntl
    import pty
    import struct
    import termios

    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    with tempfile.TemporaryFile() as other:
        proc = subprocess.Popen(
            command(args),
            stdin=subprocess.DEVNULL,
            stdout=follower if stream == "stdout" else other,
            stderr=follower if stream == "stderr" else other,
            env=env,
        )
        os.close(follower)  # the child holds its own copy
        chunks = []
        try:
            while True:
                try:
                    data = os.read(leader, 65536)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not data:
                    break
                chunks.append(data)
            code = proc.wait(timeout=timeout)
        finally:
            os.close(leader)
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        other.seek(0)
        rest = other.read().decode("utf-8", "replace")
    shown = b"".join(chunks).decode("utf-8", "replace")
    out, err = (shown, rest) if stream == "stdout" else (rest, shown)
    return subprocess.CompletedProcess(proc.args, code, out, err)
