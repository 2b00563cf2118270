"""idcbq: named, checked SQL over NCI Imaging Data Commons metadata, and verified downloads.

Heavy dependencies (duckdb, google-cloud-*) load lazily, so ``import idcbq`` stays fast.

Example:
    >>> import idcbq
    >>> idcbq.__version__
    '0.1.0'
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from idcbq.core.version import __version__

if TYPE_CHECKING:
    from idcbq.api import Client

__all__ = ["Client", "__version__", "connect"]


def connect(engine: str = "duckdb", **options: Any) -> Client:
    """Open a client on one engine; see :func:`idcbq.api.connect`."""
    from idcbq.api import connect as _connect

    return _connect(engine=engine, **options)


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext idcbq`` registers the ``%idcbq`` / ``%%idcbq`` magics."""
    from idcbq.magics import load_ipython_extension as _load

    _load(ipython)


def __getattr__(name: str) -> Any:
    if name == "Client":
        from idcbq.api import Client

        return Client
    raise AttributeError(f"module 'idcbq' has no attribute {name!r}")
