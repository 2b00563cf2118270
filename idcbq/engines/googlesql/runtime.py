"""The ZetaSQL WebAssembly module, started once per process, with a compiled-module cache.

The ``zetasql`` package ships ZetaSQL's local service compiled to WASI and a client
that (a) compiles the 28 MB module on every start (~60 s) and (b) copies memory into
and out of the module one byte at a time in Python. This module replaces that client:

- The compiled module is cached in ``<idcbq cache>/zetasql/`` (or ``$IDCBQ_GOOGLESQL_CACHE``,
  or the config's ``googlesql_cache``) under a name keyed by
  the ``wasmtime`` and ``zetasql`` versions and the wasm file's size; it is written to
  a temporary file and renamed, so concurrent processes never read half a file. The
  file ends with its length and CRC32: a damaged or foreign file is recompiled and
  replaced, never loaded (wasmtime trusts serialized machine code).
- Requests and responses are copied with one ``ctypes.memmove`` / ``string_at`` each
  (the module's memory is shared memory, which has no ``write``/``read`` methods).
- Requests are protobuf messages of ``zetasql``'s generated ``_pb2`` modules, not its
  dataclass model (converting table content through the model is slow).

Example:
    >>> rt = runtime()                                    # doctest: +SKIP
    >>> rt.call("GetLanguageOptions", req, LanguageOptionsProto)  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
import re
import sys
import tempfile
import threading
import time
import zlib
from pathlib import Path
from typing import Any, TypeVar

from idcbq.errors import QueryError, UsageError, ValidationError

_INSTALL_HINT = "pip install 'idcbq[googlesql]'"
_LOCK = threading.Lock()
_RUNTIME: ZetaSQLRuntime | None = None

M = TypeVar("M")


def zetasql_available() -> bool:
    """True if the ``zetasql`` and ``wasmtime`` packages can be imported."""
    try:
        import wasmtime  # noqa: F401
        import zetasql.wasi  # noqa: F401
    except ImportError:
        return False
    return True


def require_zetasql() -> None:
    """Raise a UsageError with the install hint if zetasql is missing."""
    if not zetasql_available():
        raise UsageError(
            "the googlesql engine and analyzer need the zetasql package", hint=_INSTALL_HINT
        )


def module_cache_path() -> Path:
    """Where the compiled module is cached (keyed by wasmtime/zetasql versions and size)."""
    from zetasql.wasi import get_wasm_path

    from idcbq.engines.googlesql.verdicts import cache_root

    wasm = get_wasm_path()
    key = "-".join(
        (
            f"wasmtime{importlib.metadata.version('wasmtime')}",
            f"zetasql{importlib.metadata.version('zetasql')}",
            f"{wasm.stat().st_size}",
            sys.platform,
            os.uname().machine if hasattr(os, "uname") else "",
        )
    )
    return cache_root() / f"zetasql-{key}.cwasm2"


_STATUS_RE = re.compile(r"^\s*Code:\s*(\d+),\s*Message:\s*(.*)$", re.DOTALL)


def _status_message(error: str) -> tuple[str, str]:
    """Split ZetaSQL's ``Code: N, Message: text`` error string (N: absl status code)."""
    m = _STATUS_RE.match(error)
    if m:
        return m.group(1), m.group(2).strip()
    return "", error.strip()


_TRAILER = b"IDCBQ-CWASM1"


def _read_cache(path: Path) -> bytes | None:
    """The cached module's bytes if the file is whole (length + CRC32 trailer), else None.

    wasmtime trusts a serialized module's machine code, so a damaged file could crash
    the process instead of failing to load: the trailer is checked first.
    """
    try:
        blob = path.read_bytes()
    except OSError:
        return None
    tail = len(_TRAILER) + 12
    if len(blob) < tail or blob[-tail:-12] != _TRAILER:
        return None
    size = int.from_bytes(blob[-12:-4], "little")
    crc = int.from_bytes(blob[-4:], "little")
    data = blob[:-tail]
    if size != len(data) or zlib.crc32(data) != crc:
        return None
    return data


def _write_cache(path: Path, data: bytes) -> None:
    """Write ``data`` + trailer atomically (temp file in the same folder, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.write(_TRAILER + len(data).to_bytes(8, "little"))
            fh.write(zlib.crc32(data).to_bytes(4, "little"))
        from idcbq.io.localfs import publish

        publish(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


class ZetaSQLCallError(Exception):
    """A local-service call returned an error status (code is the absl status code)."""

    def __init__(self, code: str, message: str):
        self.code = code
        self.message = message
        super().__init__(message)


class ZetaSQLRuntime:
    """One instance of ZetaSQL's local service in this process.

    Attributes:
        start_seconds: time spent starting (deserialize or compile, then instantiate).
        compiled: True if this start compiled the module (no usable cache).
    """

    def __init__(self, cache_path: Path | None = None):
        require_zetasql()
        import wasmtime
        from zetasql.core.wasm_client import get_tzinfo_dir
        from zetasql.wasi import get_wasm_path

        started = time.perf_counter()
        config = wasmtime.Config()
        with contextlib.suppress(AttributeError):
            config.shared_memory = True
        self._engine = wasmtime.Engine(config)
        self.cache_path = cache_path or module_cache_path()
        self.compiled = False
        module = self._load_module(wasmtime, get_wasm_path())
        wasi = wasmtime.WasiConfig()
        wasi.inherit_stderr()
        tz = get_tzinfo_dir()
        if tz:
            wasi.preopen_dir(tz, "/usr/share/zoneinfo")
        self.store = wasmtime.Store(self._engine)
        self.store.set_wasi(wasi)
        linker = wasmtime.Linker(self._engine)
        linker.define_wasi()
        instance = linker.instantiate(self.store, module)
        self.exports = instance.exports(self.store)
        init = self.exports.get("_initialize") if hasattr(self.exports, "get") else None
        if init is None:
            with contextlib.suppress(KeyError):
                init = self.exports["_initialize"]
        if init is not None:
            init(self.store)
        self.memory = self.exports["memory"]
        self._shared = isinstance(self.memory, getattr(wasmtime, "SharedMemory", ()))
        self._malloc = self.exports["wasm_malloc"]
        self._free = self.exports["wasm_free"]
        self._lock = threading.Lock()
        self.start_seconds = time.perf_counter() - started

    def close(self) -> None:
        """Free the wasm instance: functions and memory, then the store, then the engine."""
        with self._lock:
            self.exports = self._malloc = self._free = None
            for name in ("memory", "store", "_engine"):
                obj, close = getattr(self, name, None), None
                close = getattr(obj, "close", None)
                if callable(close):
                    with contextlib.suppress(Exception):
                        close()
                setattr(self, name, None)

    @property
    def closed(self) -> bool:
        return self.store is None

    def _load_module(self, wasmtime: Any, wasm_path: Path) -> Any:
        path = self.cache_path
        data = _read_cache(path)
        if data is not None:
            try:
                return wasmtime.Module.deserialize(self._engine, data)
            except Exception:  # written by an incompatible build: rebuild it below
                pass
        import logging

        logging.getLogger("idcbq").warning(
            "idcbq: compiling GoogleSQL's analyzer once for this machine (about a minute); "
            "cached in %s",
            path.parent,
        )
        module = wasmtime.Module.from_file(self._engine, str(wasm_path))
        self.compiled = True
        with contextlib.suppress(OSError):
            _write_cache(path, module.serialize())
        return module

    # -- raw calls -----------------------------------------------------------------

    def _base(self) -> int:
        """Host address of linear memory (re-read per call: memory may grow and move)."""
        import ctypes

        mem = self.memory
        ptr = mem.data_ptr() if self._shared else mem.data_ptr(self.store)
        return ctypes.addressof(ptr.contents)

    def _read(self, ptr: int, size: int) -> bytes:
        import ctypes

        return ctypes.string_at(self._base() + ptr, size)

    def _write(self, ptr: int, data: bytes) -> None:
        import ctypes

        ctypes.memmove(self._base() + ptr, data, len(data))

    def call_raw(self, method: str, request: bytes) -> bytes:
        """Call ``ZetaSqlLocalService_<method>`` with serialized request bytes."""
        fn = self.exports[f"ZetaSqlLocalService_{method}"]
        with self._lock:
            req_ptr = self._malloc(self.store, max(len(request), 1))
            size_ptr = self._malloc(self.store, 4)
            try:
                if request:
                    self._write(req_ptr, request)
                resp_ptr = fn(self.store, req_ptr, len(request), size_ptr)
                if resp_ptr == 0:
                    n = self.exports["wasm_get_last_error_size"](self.store)
                    text = ""
                    if n:
                        text = self._read(self.exports["wasm_get_last_error"](self.store), n)
                        text = text.decode("utf-8", "replace")
                    raise ZetaSQLCallError(*_status_message(text))
                size = int.from_bytes(self._read(size_ptr, 4), "little")
                data = self._read(resp_ptr, size)
                self._free(self.store, resp_ptr)
                return data
            finally:
                self._free(self.store, req_ptr)
                self._free(self.store, size_ptr)

    def call(self, method: str, request: Any, response_type: type[M]) -> M:
        """Call a local-service method with a protobuf request; parse the response."""
        data = self.call_raw(method, request.SerializeToString())
        return response_type.FromString(data)  # type: ignore[attr-defined]


def runtime() -> ZetaSQLRuntime:
    """The process-wide runtime (started on first use; thread-safe; closed at exit)."""
    global _RUNTIME
    if _RUNTIME is None:
        with _LOCK:
            if _RUNTIME is None:
                import atexit

                _RUNTIME = ZetaSQLRuntime()
                atexit.register(shutdown)
    return _RUNTIME


def shutdown() -> None:
    """Close the process-wide runtime now, while the wasmtime modules are still loaded.

    Left to interpreter shutdown, wasmtime's ``__del__`` methods may run after
    ``wasmtime._ffi`` was torn down and print ``Exception ignored in ... TypeError``.
    A later :func:`runtime` starts a new one.
    """
    global _RUNTIME
    with _LOCK:
        current, _RUNTIME = _RUNTIME, None
    if current is not None:
        current.close()


def error_for(exc: ZetaSQLCallError, *, phase: str) -> Exception:
    """Map a call error: analysis errors -> ValidationError, evaluation -> QueryError."""
    if phase == "analyze":
        return ValidationError(f"GoogleSQL rejects the query: {exc.message}")
    return QueryError(f"GoogleSQL evaluation failed: {exc.message}")
