"""Ctrl-C during a BigQuery query cancels the job it started.

A stub stands in for google-cloud-bigquery's Client here, on purpose: the BigQuery
emulator (bqemulator 1.4) runs a query inside ``jobs.insert`` and answers
``jobs.cancel`` only after the query has finished (the job then reports DONE without
an error), so no real local server can show a job being cancelled while it runs. The
DuckDB side is tested with a real SIGINT to a real process in test_cli_scripting.py.
"""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from idcbq.api import Client
from idcbq.engines.bigquery.engine import BigQueryEngine
from idcbq.engines.cancel import QueryInterrupted
from tests.child import interruptible


class BlockingClient:
    """Just enough of ``bigquery.Client``: ``query`` runs until ``cancel_job`` names its id."""

    def __init__(self) -> None:
        self.cancelled: list[tuple[str, str | None]] = []
        self.started: list[str] = []
        self._stop = threading.Event()

    def query(self, sql, *, job_config=None, location=None, job_id=None, **kwargs):
        self.started.append(job_id)
        self._stop.wait(30)
        raise RuntimeError("job cancelled")

    def cancel_job(self, job_id, *, location=None, timeout=None):
        self.cancelled.append((job_id, location))
        self._stop.set()

    def close(self) -> None:
        pass


def test_ctrl_c_cancels_the_running_bigquery_job():
    fake = BlockingClient()
    engine = BigQueryEngine(fake, dry_run_first=False, progress=False)
    client = Client(engine)
    client.prepare_sql("SELECT 1 AS x")  # imports and validation before the clock starts

    def interrupt_once_the_job_runs() -> None:
        while not fake.started:
            time.sleep(0.01)
        os.kill(os.getpid(), signal.SIGINT)

    # Under a background CI shell this process starts with SIGINT ignored: restore it.
    with interruptible(), pytest.raises(QueryInterrupted) as info:
        threading.Thread(target=interrupt_once_the_job_runs, daemon=True).start()
        client.sql("SELECT 1 AS x")
    assert isinstance(info.value, KeyboardInterrupt)
    assert len(fake.started) == 1 and fake.started[0].startswith("idcbq_")
    assert fake.cancelled == [(fake.started[0], None)]
    client.close()


def test_ctrl_c_before_the_job_exists_never_starts_it():
    from idcbq.engines.cancel import cancel_engine
    from idcbq.errors import QueryError

    fake = BlockingClient()
    engine = BigQueryEngine(fake, dry_run_first=False, progress=False)
    prepared = Client(engine).prepare_sql("SELECT 1 AS x")
    cancel_engine(engine)  # Ctrl-C while the query was still being prepared
    with pytest.raises(QueryError, match="cancelled before the BigQuery job started"):
        engine.execute(prepared)
    assert fake.started == [] and fake.cancelled == []


def test_the_jobs_own_cancelled_error_never_beats_the_interrupt():
    """Cancel while the job runs: the job then fails with its own error; the interrupt wins."""
    from idcbq.engines.cancel import cancel_engine

    fake = BlockingClient()
    engine = BigQueryEngine(fake, dry_run_first=False, progress=False)
    prepared = Client(engine).prepare_sql("SELECT 1 AS x")

    def cancel_once_the_job_runs() -> None:
        while not fake.started:
            time.sleep(0.01)
        cancel_engine(engine)  # what Ctrl-C does, from the waiting main thread

    threading.Thread(target=cancel_once_the_job_runs, daemon=True).start()
    with pytest.raises(QueryInterrupted):  # not RuntimeError("job cancelled")
        engine.execute(prepared)
    assert fake.cancelled == [(fake.started[0], None)]
