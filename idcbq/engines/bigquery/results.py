"""Run a BigQuery job, show progress, fetch Arrow page by page, map errors.

Errors from BigQuery (syntax, not found, quota, permission) become one
:class:`~idcbq.errors.QueryError` naming the template and BigQuery's reason.
"""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Any

from idcbq.errors import CostCapError, IdcbqError, QueryError

if TYPE_CHECKING:
    import pyarrow as pa

_HINTS = {
    "notFound": "check the table name, --idc-version and the data project",
    "invalidQuery": "fix the SQL; `idcbq templates check` validates templates offline",
    "accessDenied": "the billing project needs the BigQuery Job User role and the API enabled",
    "quotaExceeded": "wait and retry, or raise the project's BigQuery quota",
    "rateLimitExceeded": "wait a moment and retry",
    "bytesBilledLimitExceeded": "raise --max-bytes-billed or narrow the query",
    "billingNotEnabled": "enable billing on the project, or use the BigQuery sandbox limits",
}


def query_error(exc: Exception, *, template: str | None) -> IdcbqError:
    """One readable error from a google-api-core exception (or any exception)."""
    errors = getattr(exc, "errors", None) or []
    first = errors[0] if errors and isinstance(errors[0], dict) else {}
    reason = first.get("reason") or getattr(exc, "reason", None) or type(exc).__name__
    message = first.get("message") or getattr(exc, "message", None) or str(exc)
    message = str(message).strip()
    what = f"template {template!r}" if template else "query"
    cls = CostCapError if reason == "bytesBilledLimitExceeded" else QueryError
    return cls(f"BigQuery rejected {what}: {reason}: {message}", hint=_HINTS.get(reason))


def wait_for_job(job: Any, *, progress: bool, poll_s: float = 0.5) -> None:
    """Block until the job is done, with a status line (state, bytes) for long jobs."""
    from tqdm.auto import tqdm

    bar = tqdm(
        total=None,
        desc="BigQuery job",
        unit="",
        bar_format="{desc}: {postfix} [{elapsed}]",
        disable=not progress,
        delay=2.0,  # only long jobs get a progress line
        file=sys.stderr,
        leave=False,
    )
    try:
        while not job.done(timeout=poll_s):
            processed = job.total_bytes_processed
            bar.set_postfix_str(f"{job.state}, {processed or 0:,} bytes processed", refresh=False)
            bar.update(0)
            time.sleep(0)
        job.result()  # raise the job's error, if any
    finally:
        bar.close()


def fetch_arrow(
    job: Any,
    *,
    page_size: int | None,
    limit: int | None,
    bqstorage_client: Any = None,
    progress: bool,
) -> pa.Table:
    """Read the job's rows as Arrow, one page at a time, counting rows fetched."""
    import pyarrow as pa
    from tqdm.auto import tqdm

    rows = job.result(page_size=page_size, max_results=limit)
    total = rows.total_rows
    batches: list[pa.RecordBatch] = []
    with tqdm(
        total=total,
        desc="rows fetched",
        unit=" rows",
        disable=not progress,
        delay=2.0,
        file=sys.stderr,
        leave=False,
    ) as bar:
        for batch in rows.to_arrow_iterable(bqstorage_client=bqstorage_client):
            batches.append(batch)
            bar.update(batch.num_rows)
    if not batches:
        # No pages: ask for an empty table so the schema is BigQuery's.
        return job.result(max_results=0).to_arrow(create_bqstorage_client=False)
    table = pa.Table.from_batches(batches)
    if limit is not None and table.num_rows > limit:
        table = table.slice(0, limit)
    return table
