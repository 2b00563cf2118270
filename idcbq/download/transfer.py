"""The transfer engine: asyncio + aiohttp, temp file -> verify -> fsync -> atomic rename.

One aiohttp session with a bounded connection pool; N worker coroutines pull items.
A :class:`~idcbq.download.transport.Transport` says which GET to send; everything else
is shared. Each body is checked before it gets a final name:

- the manifest's MD5 is the trust anchor: when the manifest has one, the MD5 of the
  received bytes must equal it (headers can be rewritten by anything in the path);
- every digest the server states for the object (GCS ``x-goog-hash`` md5 and crc32c,
  a single-part S3 ``ETag``, ``x-amz-checksum-*``) must equal the body's too
  (:mod:`idcbq.download.verify`); with no digest at all, the file is refused;
- sizes from the manifest and ``Content-Length`` must match.

Every attempt has a deadline, ``timeout + size / min_rate`` seconds, and stalls of
``timeout`` seconds without a byte end it early, so a trickling server cannot hold a
run. Directories are made when a file lands in them (and the ones this run made are
removed again if they stay empty). Any failure removes the temp file.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import hashlib
import os
import random
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from idcbq.download.item import Item
from idcbq.download.layout import make_dirs_within
from idcbq.download.verify import KNOWN, BodyDigests, digests_of
from idcbq.io.localfs import errno_of, is_disk_full

if TYPE_CHECKING:
    from idcbq.download.transport import Transport

TEMP_SUFFIX = ".idcbq-part"
RETRY_STATUS = {408, 429, 500, 502, 503, 504}
CHUNK = 1 << 20
#: Bodies up to this size are read into memory and stored in one worker-thread call.
SMALL = 16 << 20
#: Default per-attempt stall limit (seconds) and minimum throughput (bytes/s).
DEFAULT_TIMEOUT = 30.0
DEFAULT_MIN_RATE = 32 * 1024


class LocalWriteError(OSError):
    """The destination cannot take files (full, read-only, no permission): stop the run."""


class DiskFullError(LocalWriteError):
    """The destination ran out of space: stop the whole run, nothing more will fit."""


class HostUnreachableError(Exception):
    """No connection to the endpoint could ever be made: stop instead of retrying every file."""


class RetryableError(Exception):
    """A transient problem (5xx, reset, truncated or corrupt body): try the file again."""


class PermanentError(Exception):
    """A problem retrying cannot fix (404, 403, ...)."""


class SizedItems:
    """Size totals of a plan's ``items`` (each with a ``size``, None when unknown)."""

    items: list[Any]

    @property
    def total_bytes(self) -> int:
        return sum(i.size or 0 for i in self.items)

    @property
    def file_count(self) -> int:
        """Files the plan stands for (a plan may also count files it did not list)."""
        return len(self.items)

    @property
    def unknown_sizes(self) -> int:
        return sum(1 for i in self.items if i.size is None)


@dataclass(slots=True)
class Outcome:
    item: Item
    ok: bool
    nbytes: int = 0
    md5: str | None = None
    error: str | None = None
    attempts: int = 0
    mtime_ns: int = 0


def object_url(provider: str, endpoint: str, bucket: str, key: str) -> str:
    """HTTP URL of an object: GCS JSON API media download, or S3 path-style GET.

    Example:
        >>> object_url("gcs", "https://storage.googleapis.com", "idc-open-data", "a/b.dcm")
        'https://storage.googleapis.com/storage/v1/b/idc-open-data/o/a%2Fb.dcm?alt=media'
        >>> object_url("aws", "https://s3.amazonaws.com", "idc-open-data", "a/b.dcm")
        'https://s3.amazonaws.com/idc-open-data/a/b.dcm'
    """
    from idcbq.download.transport import make_transport

    return make_transport(provider, endpoint).request(Item(provider, bucket, key, key))[0]


#: Most buffers one ``writev`` call takes (POSIX IOV_MAX; more is EINVAL).
IOV_MAX = min(os.sysconf("SC_IOV_MAX"), 1024) if hasattr(os, "sysconf") else 1024


def write_chunks(fd: int, chunks: list[bytes]) -> int:
    """Write every chunk to ``fd`` in order; return the bytes written.

    A slow server delivers a body in many tiny chunks (a trickle: one per byte), and
    ``writev`` refuses more than ``IOV_MAX`` buffers with EINVAL, so the chunks go in
    batches, and a short write is finished plainly.
    """
    total = 0
    for start in range(0, len(chunks), IOV_MAX):
        batch = chunks[start : start + IOV_MAX]
        want = sum(len(c) for c in batch)
        written = os.writev(fd, batch)
        if written < want:
            rest = memoryview(b"".join(batch))[written:]
            while rest:
                rest = rest[os.write(fd, rest) :]
        total += want
    return total


def file_md5(path: str | os.PathLike[str]) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


class Dirs:
    """Creates destination folders on first use, inside ``dest`` only; remembers what it made."""

    def __init__(self, dest: Path):
        self.dest = dest
        self.dest_real = os.path.realpath(dest)
        self.ready: set[str] = {""}
        self.created: list[Path] = []
        self._lock = threading.Lock()

    def ensure(self, rel_dir: str) -> None:
        if rel_dir in self.ready:
            return
        with self._lock:
            if rel_dir not in self.ready:
                make_dirs_within(self.dest_real, self.dest, rel_dir, self.created)
                self.ready.add(rel_dir)

    def remove_empty(self) -> None:
        """Remove the folders this run created that hold nothing (deepest first)."""
        from idcbq.io.localfs import remove_empty_dirs

        remove_empty_dirs(self.created)


class Transfer:
    """Fetches items into ``dest`` with verification, deadlines and bounded retries."""

    def __init__(
        self,
        dest: Path,
        *,
        transport: Transport,
        attempts: int = 5,
        backoff: float = 0.2,
        timeout: float = DEFAULT_TIMEOUT,
        min_rate: float = DEFAULT_MIN_RATE,
        fsync: bool = True,
        executor: Any = None,
        dirs: Dirs | None = None,
    ):
        self.dest = dest
        self.transport = transport
        self.attempts = attempts
        self.backoff = backoff
        self.timeout = timeout
        self.min_rate = min_rate
        self.fsync = fsync
        self.executor = executor
        self.dirs = dirs or Dirs(dest)
        self.inflight: set[str] = set()  # temp paths, removed on cancel
        self.reached = False  # some HTTP response came back from the endpoint

    def deadline_s(self, size: int | None) -> float:
        """Longest one attempt may take: ``timeout`` plus the size at the minimum rate."""
        return self.timeout + (size or 0) / self.min_rate if self.min_rate > 0 else float("inf")

    def too_slow(self, item: Item) -> str:
        """Why an attempt that ran out of time ended, in words, with the limits that applied."""
        limit = self.deadline_s(item.size)
        size = f"{item.size} bytes" if item.size is not None else "its size"
        return (
            f"too slow (stalled): not complete within its {limit:.1f} s deadline "
            f"(--timeout {self.timeout:g} s plus {size} at --min-rate {self.min_rate:g} B/s)"
        )

    async def fetch(self, session: Any, item: Item) -> Outcome:
        """Download one item, retrying transient failures; never leaves a bad final file."""
        last = "not attempted"
        unreachable = 0
        for attempt in range(1, self.attempts + 1):
            delay = None
            try:
                nbytes, md5, mtime = await self._once(session, item)
                return Outcome(item, True, nbytes, md5, attempts=attempt, mtime_ns=mtime)
            except RetryableError as exc:
                last = str(exc)
                delay = getattr(exc, "retry_after", None)
                unreachable += isinstance(exc.__cause__, _connect_errors())
            except PermanentError as exc:
                return Outcome(item, False, error=str(exc), attempts=attempt)
            except LocalWriteError:
                raise
            except TimeoutError:
                last = self.too_slow(item)
            except OSError as exc:
                if errno_of(exc) in _FATAL:
                    raise _local(exc, item) from exc
                if not _is_network(exc):
                    why = exc.strerror or type(exc).__name__
                    return Outcome(item, False, error=f"cannot store {item.rel}: {why}",
                                   attempts=attempt)  # fmt: skip
                last = f"connection error: {exc}"
            if unreachable == attempt and not self.reached and attempt >= min(self.attempts, 3):
                raise HostUnreachableError(f"cannot connect to {self.transport.endpoint}: {last}")
            if attempt < self.attempts:
                wait = delay if delay is not None else self.backoff * 2 ** (attempt - 1)
                await asyncio.sleep(min(wait, 30.0) * (0.5 + random.random()))
        if unreachable == self.attempts and not self.reached:
            raise HostUnreachableError(f"cannot connect to {self.transport.endpoint}: {last}")
        return Outcome(
            item, False, error=f"{last} (after {self.attempts} attempts)", attempts=self.attempts
        )

    async def _once(self, session: Any, item: Item) -> tuple[int, str, int]:
        import aiohttp
        from yarl import URL

        final = self.dest / item.rel
        tmp = str(final.parent / f".{final.name}.{secrets.token_hex(4)}{TEMP_SUFFIX}")
        raw_url, headers = self.transport.request(item)
        # Already percent-encoded: tell yarl so it does not parse and re-encode it per request.
        url = URL(raw_url, encoded=True)
        loop = asyncio.get_running_loop()
        limit = self.deadline_s(item.size)
        deadline = loop.time() + limit if limit != float("inf") else None
        self.inflight.add(tmp)
        try:
            async with asyncio.timeout_at(deadline):
                resp = await session.get(url, headers=headers)
            self.reached = True
            try:
                if resp.status != 200:
                    async with asyncio.timeout_at(deadline):
                        body = (await resp.content.read(200)).decode("utf-8", "replace")
                    message = f"HTTP {resp.status} for {item.url}: {body.strip()}"
                    if resp.status in RETRY_STATUS:
                        err = RetryableError(message)
                        ra = resp.headers.get("Retry-After", "")
                        err.retry_after = float(ra) if ra.isdigit() else None  # type: ignore[attr-defined]
                        raise err
                    raise PermanentError(message)
                stated = self.transport.digests(resp.headers)
                length = resp.content_length
                if item.size is None and length is not None and deadline is not None:
                    deadline = min(
                        deadline, loop.time() + self.deadline_s(length)
                    )  # size now known
                if length is not None and length <= SMALL:
                    # Typical DICOM instance: collect the chunks (within the deadline), then
                    # verify+write+fsync+rename in one worker-thread call (hashing and fsync
                    # release the GIL).
                    async with asyncio.timeout_at(deadline):
                        chunks = [chunk async for chunk in resp.content.iter_any()]
                    return await loop.run_in_executor(
                        self.executor, self._store, item, chunks, length, stated, tmp, str(final)
                    )
                return await self._stream(resp, item, length, stated, tmp, str(final), deadline)
            finally:
                resp.release()
        except _read_timeout() as exc:  # --timeout without a byte: in words, like the deadline
            raise RetryableError(
                f"too slow (stalled): no data for {self.timeout:g} s (--timeout) from {item.url}"
            ) from exc
        except aiohttp.ClientPayloadError as exc:
            raise RetryableError(f"body of {item.url} cut short: {exc}") from exc
        except aiohttp.ClientResponseError as exc:
            raise RetryableError(f"bad response for {item.url}: {exc}") from exc
        except aiohttp.ClientConnectionError as exc:
            raise RetryableError(f"connection error for {item.url}: {exc}") from exc
        finally:
            self.inflight.discard(tmp)

    def _open_tmp(self, item: Item, tmp: str) -> int:
        """Make the file's folder if needed and create the temp file; local problems stop the run."""
        try:
            self.dirs.ensure(os.path.dirname(item.rel))
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # umask applies
        except OSError as exc:
            local = _as_local(exc, item)
            if local is exc:
                raise
            raise local from exc

    def _store(self, item: Item, chunks: list[bytes], length: int | None, stated: dict[str, str],
               tmp: str, final: str) -> tuple[int, str, int]:  # fmt: skip
        """Verify an in-memory body, then write it to ``tmp``, fsync, and rename to ``final``."""
        nbytes = sum(len(c) for c in chunks)
        md5 = self._verify(item, nbytes, length, digests_of(chunks, stated), stated)
        fd = self._open_tmp(item, tmp)
        try:
            write_chunks(fd, chunks)
        except BaseException as exc:
            with contextlib.suppress(OSError):
                os.close(fd)
            _unlink(tmp)
            local = _as_local(exc, item)
            if local is exc:
                raise
            raise local from exc
        return nbytes, md5, self._commit(fd, tmp, final, item)

    async def _stream(self, resp: Any, item: Item, length: int | None, stated: dict[str, str],
                      tmp: str, final: str, deadline: float | None) -> tuple[int, str, int]:  # fmt: skip
        """Large objects: hash and write chunk by chunk in the worker pool, never all in memory."""
        loop = asyncio.get_running_loop()
        digest = BodyDigests(stated)
        fd = self._open_tmp(item, tmp)
        nbytes = 0
        started = loop.time()

        def put(chunk: bytes) -> None:
            digest.update(chunk)
            view = memoryview(chunk)
            while view:
                view = view[os.write(fd, view) :]

        try:
            while True:
                async with asyncio.timeout_at(deadline):
                    chunk = await resp.content.read(CHUNK)
                if not chunk:
                    break
                # The worker call is awaited outside the deadline: a write in flight always
                # finishes before the descriptor is closed.
                await loop.run_in_executor(self.executor, put, chunk)
                nbytes += len(chunk)
                elapsed = loop.time() - started
                if elapsed > self.timeout and nbytes < self.min_rate * elapsed:
                    raise TimeoutError
            md5 = self._verify(item, nbytes, length, digest, stated)
        except BaseException as exc:
            with contextlib.suppress(OSError):
                os.close(fd)
            _unlink(tmp)
            local = _as_local(exc, item)
            if local is exc:
                raise
            raise local from exc
        commit = self._commit
        return nbytes, md5, await loop.run_in_executor(self.executor, commit, fd, tmp, final, item)

    def _check_sizes(self, item: Item, nbytes: int, length: int | None) -> None:
        if length is not None and nbytes != length:
            raise RetryableError(f"{item.url}: got {nbytes} bytes, server said {length}")
        if item.size is not None and nbytes != item.size:
            raise RetryableError(f"{item.url}: got {nbytes} bytes, manifest says {item.size}")

    def _verify(self, item: Item, nbytes: int, length: int | None, digests: BodyDigests,
                stated: dict[str, str]) -> str:  # fmt: skip
        """Sizes, then every digest the manifest and the server state; return the body's MD5.

        Any digest that disagrees with the body is a retry (then a failure); a body with no
        digest at all to check it against is refused.
        """
        self._check_sizes(item, nbytes, length)
        if not item.md5 and not any(name in stated for name in KNOWN):
            raise PermanentError(
                f"{item.url}: no MD5 or CRC32C (or other content hash) to verify against"
            )
        bad = digests.mismatches(stated, item.md5)
        if bad:
            raise RetryableError(f"{item.url}: {'; '.join(bad)}")
        return digests.md5_hex()

    def _commit(self, fd: int, tmp: str, final: str, item: Item) -> int:
        """fsync then rename: the final name only ever points at complete, verified bytes.

        Closes ``fd`` in every case; removes ``tmp`` if anything fails.
        """
        try:
            try:
                if self.fsync:
                    os.fsync(fd)
                mtime = os.fstat(fd).st_mtime_ns
            finally:
                os.close(fd)
            os.replace(tmp, final)  # rename keeps the mtime recorded in the resume state
        except BaseException as exc:
            _unlink(tmp)
            local = _as_local(exc, item)
            if local is exc:
                raise
            raise local from exc
        return mtime


#: Local errors that stop the whole run: no later file would fare better.
_FATAL = frozenset(
    {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.ENOTDIR}
)


def _local(exc: OSError, item: Item) -> LocalWriteError:
    """A run-stopping error for a local problem met while writing ``item``."""
    cls = DiskFullError if is_disk_full(exc) else LocalWriteError
    number = errno_of(exc) or errno.EIO
    return cls(number, f"{exc.strerror or exc} writing {item.rel}")


def _as_local(exc: BaseException, item: Item) -> BaseException:
    """``exc`` itself, or a LocalWriteError if it is a run-stopping local OS error."""
    if (
        isinstance(exc, OSError)
        and not isinstance(exc, LocalWriteError)
        and errno_of(exc) in _FATAL
    ):
        return _local(exc, item)
    return exc


def _connect_errors() -> tuple[type[BaseException], ...]:
    import aiohttp

    return (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError, ConnectionRefusedError)


def _read_timeout() -> tuple[type[BaseException], ...]:
    """aiohttp's "no byte within sock_read" error (aiohttp >= 3.10), else nothing."""
    import aiohttp

    cls = getattr(aiohttp, "SocketTimeoutError", None)
    return (cls,) if cls is not None else ()


def _is_network(exc: OSError) -> bool:
    return isinstance(exc, ConnectionError) or exc.errno in (
        errno.ECONNRESET,
        errno.ECONNREFUSED,
        errno.EPIPE,
    )


def _unlink(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
