"""``gs://`` without gcsfs: pyarrow's GCS file system, seen by DuckDB through fsspec.

pyarrow's wheels include a GCS client (``pyarrow.fs.GcsFileSystem``): anonymous reads of
public buckets, Google default credentials otherwise, and an endpoint override for local
servers. DuckDB reads ``gs://`` through any registered fsspec file system, so the arrow
file system is wrapped in fsspec's own ``ArrowFSWrapper`` under the ``gs``/``gcs``
protocols. No gcsfs: installing idcbq never moves a preinstalled google-cloud-storage
(issue 17 o).

Listings: a directory is listed with a delimiter; where a server answers that with
nothing (fake-gcs-server does, for pyarrow's requests) the listing falls back to one
flat listing of the prefix, from which the immediate children are derived. ``find``
(DuckDB's ``glob``) is always one flat listing of the prefix, as gcsfs does, never one
request per folder.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from fsspec.implementations.arrow import ArrowFSWrapper

from idcbq.errors import SourceError

if TYPE_CHECKING:
    import pyarrow.fs as pafs

#: How long pyarrow's GCS client keeps retrying one failed request.
RETRY_SECONDS = 15.0


def arrow_gcs(endpoint: str | None = None, anonymous: bool = True) -> pafs.GcsFileSystem:
    """pyarrow's GCS file system; ``endpoint`` like ``http://127.0.0.1:4443`` for a local server."""
    import pyarrow.fs as pafs

    kwargs: dict[str, Any] = {
        "anonymous": anonymous,
        "retry_time_limit": dt.timedelta(seconds=RETRY_SECONDS),
    }
    if endpoint:
        url = urlparse(endpoint if "://" in endpoint else f"https://{endpoint}")
        if not url.netloc:
            raise SourceError(f"bad GCS endpoint {endpoint!r}", hint="use http://host:port")
        kwargs.update(endpoint_override=url.netloc, scheme=url.scheme or "https")
    return pafs.GcsFileSystem(**kwargs)


class GcsFsspec(ArrowFSWrapper):
    """fsspec view (protocols ``gs``, ``gcs``) of a pyarrow GCS file system."""

    protocol = ("gs", "gcs")  # type: ignore[assignment]
    root_marker = ""

    @classmethod
    def _strip_protocol(cls, path: Any) -> str:
        text = str(path[0] if isinstance(path, list) else path)
        for prefix in ("gs://", "gcs://"):
            if text.startswith(prefix):
                text = text[len(prefix) :]
        return text.rstrip("/")

    def _flat(self, path: str) -> list[dict[str, Any]]:
        """Every object under ``path`` (one recursive listing), as fsspec entries."""
        import pyarrow.fs as pafs

        infos = self.fs.get_file_info(pafs.FileSelector(path, recursive=True, allow_not_found=True))
        return [self._make_entry(i) for i in infos if i.type == pafs.FileType.File]

    def ls(self, path: str, detail: bool = False, **kwargs: Any) -> list[Any]:
        path = self._strip_protocol(path)
        entries = super().ls(path, detail=True, **kwargs)
        if not entries:
            children: dict[str, dict[str, Any]] = {}
            for entry in self._flat(path):
                rest = entry["name"][len(path) + 1 :]
                head = rest.split("/", 1)[0]
                name = f"{path}/{head}"
                if "/" in rest:
                    children.setdefault(name, {"name": name, "size": 0, "type": "directory"})
                else:
                    children[name] = entry
            entries = sorted(children.values(), key=lambda e: e["name"])
        return entries if detail else [e["name"] for e in entries]

    def find(
        self,
        path: str,
        maxdepth: int | None = None,
        withdirs: bool = False,
        detail: bool = False,
        **kwargs: Any,
    ) -> Any:
        path = self._strip_protocol(path)
        out: dict[str, dict[str, Any]] = {}
        for entry in self._flat(path):
            rest = entry["name"][len(path) + 1 :].split("/")
            if maxdepth is None or len(rest) <= maxdepth:
                out[entry["name"]] = entry
            if withdirs:  # the folders on the way, down to maxdepth
                depth = len(rest) - 1 if maxdepth is None else min(len(rest) - 1, maxdepth)
                for i in range(1, depth + 1):
                    name = "/".join([path, *rest[:i]])
                    out.setdefault(name, {"name": name, "size": 0, "type": "directory"})
        if not out:
            try:
                info = self.info(path)
            except FileNotFoundError:
                info = None
            if info is not None and info["type"] == "file":
                out[path] = info
        names = sorted(out)
        return {n: out[n] for n in names} if detail else names


def fsspec_gcs(endpoint: str | None = None, anonymous: bool = True) -> GcsFsspec:
    """An fsspec ``gs://`` file system (for ``DuckDBPyConnection.register_filesystem``)."""
    # skip_instance_cache: each engine gets its own file system (endpoints differ in tests).
    return GcsFsspec(arrow_gcs(endpoint, anonymous), skip_instance_cache=True)


def pyarrow_gcs(endpoint: str | None = None, anonymous: bool = True) -> pafs.FileSystem:
    """A pyarrow file system with the listing behaviour of :class:`GcsFsspec`."""
    import pyarrow.fs as pafs

    return pafs.PyFileSystem(pafs.FSSpecHandler(fsspec_gcs(endpoint, anonymous)))
