"""Ctrl-C that stops a running query: DuckDB is interrupted, a BigQuery job cancelled.

A query runs in a worker thread while the main thread waits in small steps, so SIGINT
(Ctrl-C, Jupyter's interrupt) reaches Python at once. The main thread then asks the
engine to stop (``DuckDBPyConnection.interrupt()``, ``Client.cancel_job``), waits a
moment for the worker to wind down and re-raises ``KeyboardInterrupt`` (the CLI exits
130). A second Ctrl-C during that moment ends the wait.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from typing import Any, TypeVar

log = logging.getLogger("idcbq")

T = TypeVar("T")


class QueryInterrupted(KeyboardInterrupt):
    """Ctrl-C during a query; ``finished`` is False if the engine had not stopped yet."""

    def __init__(self, finished: bool):
        super().__init__()
        self.finished = finished


#: Seconds the main thread waits for an interrupted query to wind down.
GRACE_S = 0.5

#: Seconds to wait for the cancel request itself (a BigQuery ``jobs.cancel`` call).
CANCEL_WAIT_S = 5.0


def run_cancellable(
    func: Callable[[], T], cancel: Callable[[], object], *, grace_s: float = GRACE_S
) -> T:
    """Run ``func()``; on ``KeyboardInterrupt`` call ``cancel()`` and raise QueryInterrupted.

    Outside the main thread (no signals arrive there) ``func`` simply runs.
    """
    if threading.current_thread() is not threading.main_thread():
        return func()
    box: dict[str, Any] = {}
    done = threading.Event()

    def target() -> None:
        try:
            box["value"] = func()
        except BaseException as exc:  # handed to the main thread below
            box["error"] = exc
        finally:
            done.set()

    worker = threading.Thread(target=target, name="idcbq-query", daemon=True)
    worker.start()
    try:
        while not done.wait(0.1):
            pass
    except KeyboardInterrupt:
        with contextlib.suppress(KeyboardInterrupt):  # a second Ctrl-C: stop waiting
            _call_bounded(cancel, CANCEL_WAIT_S)
            done.wait(grace_s)
        raise QueryInterrupted(done.is_set()) from None
    if "error" in box:
        raise box["error"]
    return box["value"]


def _call_bounded(cancel: Callable[[], object], seconds: float) -> None:
    """Run ``cancel()`` in a thread; wait at most ``seconds`` (a slow server must not hang us)."""

    def target() -> None:
        try:
            cancel()
        except Exception as exc:  # cancelling is best effort; the interrupt still wins
            log.warning("could not cancel the query: %s", exc)

    thread = threading.Thread(target=target, name="idcbq-cancel", daemon=True)
    thread.start()
    thread.join(seconds)


def arm(engine: Any) -> None:
    """Clear an engine's cancelled flag before it runs a new query."""
    flag = getattr(engine, "cancelled", None)
    if isinstance(flag, threading.Event):
        flag.clear()


def cancel_engine(engine: Any) -> None:
    """Stop what ``engine`` is running: its own ``cancel()``, a DuckDB interrupt or a job cancel."""
    own = getattr(engine, "cancel", None)
    if callable(own):
        own()
        return
    con = getattr(engine, "con", None)
    if con is not None and hasattr(con, "interrupt"):
        con.interrupt()
        log.debug("interrupted the DuckDB query")
        return
    flag = getattr(engine, "cancelled", None)
    if isinstance(flag, threading.Event):  # BigQuery: a job not created yet never starts
        flag.set()
    job = getattr(engine, "last_job", None)
    client = getattr(engine, "client", None)
    job_id = getattr(job, "job_id", None)
    if job_id and client is not None and hasattr(client, "cancel_job"):
        client.cancel_job(job_id, location=getattr(job, "location", None), timeout=CANCEL_WAIT_S)
        log.warning("cancelled BigQuery job %s", job_id)
