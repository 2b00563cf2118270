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
import os
import queue
import sys
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
    func: Callable[[], T],
    cancel: Callable[[], object],
    *,
    grace_s: float = GRACE_S,
    tick: Callable[[], object] | None = None,
) -> T:
    """Run ``func()``; on ``KeyboardInterrupt`` call ``cancel()`` and raise QueryInterrupted.

    ``tick()`` (e.g. :meth:`ScanProgress.tick`) is called by the waiting main thread
    every 0.1 s. Outside the main thread (no signals arrive there) ``func`` simply runs.
    """
    if threading.current_thread() is not threading.main_thread():
        return func()
    box: dict[str, Any] = {}
    done = threading.Event()
    worker = _idle_worker()

    def target() -> None:
        try:
            box["value"] = func()
        except BaseException as exc:  # handed to the main thread below
            box["error"] = exc
        finally:
            worker.release()  # free for the next query before the main thread wakes
            done.set()

    worker.submit(target)
    try:
        while not done.is_set():
            if tick is not None:  # the first tick at once, then every 0.1 s
                tick()
            done.wait(0.1)
    except KeyboardInterrupt:
        # One winner: the user's interrupt. Whatever the query does meanwhile (a job
        # reporting "cancelled", a DuckDB "INTERRUPT" error) is dropped, never raised.
        with contextlib.suppress(KeyboardInterrupt):  # a second Ctrl-C: stop waiting
            _call_bounded(cancel, CANCEL_WAIT_S)
            done.wait(grace_s)
        raise QueryInterrupted(done.is_set()) from None
    error = box.get("error")
    if isinstance(error, QueryInterrupted):  # the engine saw the cancel first
        raise QueryInterrupted(True) from None
    if error is not None:
        raise error
    return box["value"]


#: The name of a worker thread running a query (the CLI's exit after Ctrl-C looks for it).
BUSY_NAME = "idcbq-query"
_IDLE_NAME = "idcbq-query-idle"
_idle: list[_Worker] = []
_idle_lock = threading.Lock()


class _Worker:
    """A daemon thread that runs queries one after another: starting a thread per query
    costs thread creation and one more hand-off between threads, felt on short queries."""

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._loop, name=_IDLE_NAME, daemon=True)
        self.thread.start()

    def submit(self, job: Callable[[], None]) -> None:
        self.thread.name = BUSY_NAME
        self._jobs.put(job)

    def release(self) -> None:
        """Called by the job as it ends: the worker takes the next query."""
        self.thread.name = _IDLE_NAME
        with _idle_lock:
            _idle.append(self)

    def _loop(self) -> None:
        while True:
            self._jobs.get()()


def _idle_worker() -> _Worker:
    with _idle_lock:
        if _idle:
            return _idle.pop()
    return _Worker()


def _forget_workers() -> None:
    _idle.clear()  # a forked child has none of its parent's threads


os.register_at_fork(after_in_child=_forget_workers)


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


#: How long closing a progress bar waits for its helper thread.
HELPER_WAIT_S = 60.0


class ScanProgress:
    """A tqdm bar for a DuckDB scan of a remote export, fed from the waiting main thread.

    DuckDB reports how far a running query is (``query_progress()``, a percentage, -1
    before execution starts). The bar's totals (files after pruning, and bytes: the
    dry-run estimate of footers + column chunks, :meth:`DuckDBEngine.estimate_bytes`)
    are computed in a helper thread once execution has started (the worker no longer
    reads footers then), and only for scans still running after ``delay_s``
    (``$IDCBQ_PROGRESS_DELAY``, default 2 s). A quick query costs one ``SET``.
    Files and bytes done are that percentage of the totals.
    """

    def __init__(self, engine: Any, prepared: Any, *, delay_s: float | None = None):
        import os
        import time

        self.engine = engine
        self.prepared = prepared
        self.delay_s = (
            float(os.environ.get("IDCBQ_PROGRESS_DELAY", "2")) if delay_s is None else delay_s
        )
        self.start = time.monotonic()
        self.bar: Any = None
        self.files: int | None = None
        self.total: int | None = None
        self._helper: threading.Thread | None = None
        engine.con.execute("SET enable_progress_bar = true")
        engine.con.execute("SET enable_progress_bar_print = false")

    def tick(self) -> None:
        """Called by the main thread while the query runs; shows or updates the bar."""
        import time

        if time.monotonic() - self.start < self.delay_s:
            return
        try:
            pct = float(self.engine.con.query_progress())
        except Exception:  # no statement running yet (or a closed connection)
            pct = -1.0
        if self.bar is None:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=None, unit="B", unit_scale=True, unit_divisor=1024,
                            desc="remote scan", file=sys.stderr, leave=False,
                            dynamic_ncols=True, mininterval=0.25)  # fmt: skip
        if pct >= 0 and self._helper is None:
            self._helper = threading.Thread(target=self._totals, name="idcbq-progress", daemon=True)
            self._helper.start()
        share = min(max(pct, 0.0), 100.0) / 100
        if self.total and self.bar.total != self.total:
            self.bar.total = self.total
        if self.files is not None:
            self.bar.set_description_str(
                f"remote scan: {round(self.files * share)}/{self.files} files", refresh=False
            )
        elif pct >= 0:
            self.bar.set_postfix_str(f"{pct:.0f}%", refresh=False)
        done = int(self.total * share) if self.total else 0
        self.bar.update(max(0, done - self.bar.n))

    def _totals(self) -> None:
        """Files and bytes the scan reads, from the footer cache (in the helper thread)."""
        try:
            self.files = _scan_files(self.engine, self.prepared)
            self.total = self.engine.estimate_bytes(self.prepared) or None
        except Exception as exc:  # a progress bar must never fail the query
            log.debug("no scan estimate for the progress bar: %s", exc)

    def close(self, *, reset: bool = True) -> None:
        """Remove the bar; ``reset`` turns DuckDB's progress tracking off again.

        The helper thread is waited for (bounded): it reads footers through pyarrow's S3
        client, and one still doing so when the process exits aborts it (pyarrow
        finalizes S3 in an ``atexit`` hook). After the scan the footers are cached, so
        the helper's remaining work is local.
        """
        if self._helper is not None:
            self._helper.join(HELPER_WAIT_S)
        if self.bar is not None:
            self.bar.close()
        if reset:
            with contextlib.suppress(Exception):  # the connection may be closed
                self.engine.con.execute("SET enable_progress_bar = false")


def _scan_files(engine: Any, prepared: Any) -> int | None:
    """Files the scan reads after footer pruning (as the engine's views do); None if unknown."""
    footers = getattr(engine, "_footers", None)
    if footers is None:
        return None
    from idcbq.engines.duckdb.pruning import pruning_filters
    from idcbq.engines.duckdb.statements import table_names as _table_names

    filters = pruning_filters(prepared.sql, {p.name: p.value for p in prepared.params})
    count = 0
    for parts in _table_names(engine.con, prepared.sql):
        target = engine._resolve(list(parts))
        if target is None or not engine.export.has_table(target[3], target[4]):
            continue
        count += len(footers.files(target[3], target[4], filters.get(target[2])))
    return count


def wants_progress(engine: Any, progress: bool | None) -> bool:
    """True for a DuckDB engine on a remote source when ``progress`` (None: stderr is a tty)."""
    if progress is False or getattr(engine, "name", None) != "duckdb":
        return False
    if getattr(engine, "con", None) is None or not hasattr(engine.con, "query_progress"):
        return False
    source = str(getattr(engine, "source", "") or "")
    if "://" not in source:
        return False
    return bool(progress) or sys.stderr.isatty()
