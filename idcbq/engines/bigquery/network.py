"""Bounded network behaviour for BigQuery calls: per-request timeouts, short retries,
and an early, clear stop when the endpoint cannot be reached at all.

google-cloud-bigquery retries a refused connection or a failed name lookup for up to
10 minutes (40 for a query job), silently. Here a connection that cannot even be
opened is not retried: the first call raises :class:`~idcbq.errors.QueryError`
("cannot reach BigQuery at ..."). Other transient errors (5xx, rate limits, a dropped
connection mid-request) are still retried (a failed query *job* is not restarted),
within ``IDCBQ_BIGQUERY_DEADLINE`` seconds
(default 120), and each HTTP request gives up after ``IDCBQ_BIGQUERY_TIMEOUT`` seconds
(default 60).

Example:
    >>> import requests
    >>> unreachable(requests.exceptions.ConnectTimeout("connect timed out"))
    True
    >>> unreachable(ValueError("x"))
    False
"""

from __future__ import annotations

import os
from typing import Any

from idcbq.errors import QueryError

TIMEOUT_ENV = "IDCBQ_BIGQUERY_TIMEOUT"
DEADLINE_ENV = "IDCBQ_BIGQUERY_DEADLINE"
DEFAULT_TIMEOUT_S = 60.0
DEFAULT_DEADLINE_S = 120.0


def _env_seconds(name: str, default: float) -> float:
    try:
        value = float(os.environ.get(name, "") or default)
    except ValueError:
        return default
    return value if value > 0 else default


def request_timeout() -> float:
    """Seconds one HTTP request to BigQuery may take."""
    return _env_seconds(TIMEOUT_ENV, DEFAULT_TIMEOUT_S)


def unreachable(exc: BaseException) -> bool:
    """True if ``exc`` says a connection could not be opened (refused, no route, DNS, timeout)."""
    try:
        import requests
        import urllib3.exceptions as u3
    except ImportError:  # pragma: no cover - both come with google-cloud-bigquery
        return False
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, requests.exceptions.ConnectTimeout):
            return True
        if isinstance(current, u3.NewConnectionError | u3.ConnectTimeoutError):
            return True
        if isinstance(current, u3.MaxRetryError) and isinstance(
            current.reason, u3.NewConnectionError | u3.ConnectTimeoutError
        ):
            return True
        args = getattr(current, "args", ())
        nested = next((a for a in args if isinstance(a, BaseException)), None)
        current = nested or current.__cause__ or current.__context__
    return False


def call_options(*, job: bool = False) -> dict[str, Any]:
    """``retry``/``timeout`` (and ``job_retry`` for queries) for ``Client.query`` and friends."""
    from google.api_core import retry as api_retry
    from google.cloud.bigquery import retry as bq_retry

    deadline = _env_seconds(DEADLINE_ENV, DEFAULT_DEADLINE_S)
    base = getattr(bq_retry, "_should_retry", None) or bq_retry.DEFAULT_RETRY._predicate
    options: dict[str, Any] = {
        "retry": api_retry.Retry(
            predicate=lambda e: not unreachable(e) and base(e), deadline=deadline
        ),
        "timeout": request_timeout(),
    }
    if job:
        # Client.query wraps jobs.insert in a fixed private retry (10 min on a refused
        # connection) whenever job_retry is set; None is the only way to bound it. The
        # cost: a job failing with jobBackendError is reported, not restarted.
        options["job_retry"] = None
    return options


def unreachable_error(exc: BaseException, endpoint: str | None) -> QueryError:
    """The one-line error for an endpoint that cannot be reached."""
    where = endpoint or "https://bigquery.googleapis.com"
    reason = _root_reason(exc)
    return QueryError(
        f"cannot reach BigQuery at {where}: {reason}",
        hint="check the network (or a proxy) and --api-endpoint; "
        "--engine duckdb runs on the embedded sample without network",
    )


def _root_reason(exc: BaseException) -> str:
    text = str(exc)
    for marker in ("Connection refused", "Name or service not known", "timed out",
                   "Network is unreachable", "No route to host", "Temporary failure"):  # fmt: skip
        if marker in text:
            return marker.lower()
    return type(exc).__name__
