"""A real DICOMweb server on loopback: Orthanc with its DICOMweb plugin.

Debian ships both (``apt-get install -y orthanc orthanc-dicomweb``). The server runs
with its own JSON configuration: HTTP on a free loopback port (remote access off, no
authentication), the DICOM listener on another free port, storage and index in a
temporary directory, and only the DICOMweb plugin loaded. DICOMweb lives under
``<url>/dicom-web``.

Example:
    >>> with OrthancServer() as orthanc:                      # doctest: +SKIP
    ...     orthanc.upload(dicom_bytes)
    ...     orthanc.dicomweb_url
    'http://127.0.0.1:40123/dicom-web'
"""

from __future__ import annotations

import json
import shutil
import tempfile
import urllib.request
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from idcbq.testing.servers import Server, free_port

#: Where Debian's orthanc-dicomweb package puts the plugin.
PLUGIN_DIRS = ("/usr/share/orthanc/plugins", "/usr/lib/orthanc")
PLUGIN_NAME = "libOrthancDicomWeb.so"


def orthanc_binary() -> str | None:
    """Path of the Orthanc executable, or None if it is not installed."""
    return shutil.which("Orthanc") or (
        "/usr/sbin/Orthanc" if Path("/usr/sbin/Orthanc").exists() else None
    )


def dicomweb_plugin() -> Path | None:
    """Path of the DICOMweb plugin library, or None if orthanc-dicomweb is not installed."""
    for folder in PLUGIN_DIRS:
        path = Path(folder) / PLUGIN_NAME
        if path.exists():
            return path
        found = sorted(Path(folder).glob(f"{PLUGIN_NAME}*")) if Path(folder).is_dir() else []
        if found:
            return found[0]
    return None


def missing_reason() -> str | None:
    """Why an Orthanc server cannot start here (None when it can)."""
    if orthanc_binary() is None:
        return "Orthanc is not installed (apt-get install -y orthanc orthanc-dicomweb, as root)"
    if dicomweb_plugin() is None:
        return "the Orthanc DICOMweb plugin is not installed (apt-get install -y orthanc-dicomweb)"
    return None


class OrthancServer(Server):
    """Orthanc + DICOMweb in a temporary directory; stops and cleans up on exit."""

    def __init__(self, port: int | None = None):
        super().__init__(port)
        self.workdir = Path(tempfile.mkdtemp(prefix="idcbq-orthanc-"))
        self.dicomweb_url = f"{self.url}/dicom-web"
        self.config_path = self.workdir / "orthanc.json"

    def command(self) -> list[str]:
        binary = orthanc_binary()
        plugin = dicomweb_plugin()
        if binary is None or plugin is None:
            raise RuntimeError(missing_reason())
        config = {
            "Name": "idcbq-test",
            "StorageDirectory": str(self.workdir / "storage"),
            "IndexDirectory": str(self.workdir / "index"),
            "StorageCompression": False,
            "HttpPort": self.port,
            "RemoteAccessAllowed": False,  # answers loopback clients only
            "AuthenticationEnabled": False,
            "DicomServerEnabled": False,
            "DicomPort": free_port(),
            "HttpsCACertificates": "",
            "Plugins": [str(plugin)],
            "StoreMD5ForAttachments": True,
            "HttpThreadsCount": 16,
            "DicomWeb": {
                "Enable": True,
                "Root": "/dicom-web/",
                "StudiesMetadata": "MainDicomTags",
                "SeriesMetadata": "MainDicomTags",
            },
        }
        self.config_path.write_text(json.dumps(config, indent=2), encoding="utf-8")
        return [binary, str(self.config_path)]

    def health_url(self) -> str:
        return f"{self.url}/system"

    def upload(self, data: bytes) -> dict[str, str]:
        """Store one DICOM file through Orthanc's REST API (POST /instances)."""
        req = urllib.request.Request(
            f"{self.url}/instances",
            data=data,
            method="POST",
            headers={"Content-Type": "application/dicom"},
        )
        with urllib.request.urlopen(req, timeout=60) as resp:
            return json.loads(resp.read())

    def upload_many(self, blobs: Iterable[bytes], workers: int = 8) -> int:
        """Store many DICOM files; returns how many were stored."""
        with ThreadPoolExecutor(workers) as pool:
            return sum(1 for _ in pool.map(self.upload, blobs))

    def stop(self) -> None:
        super().stop()
        shutil.rmtree(self.workdir, ignore_errors=True)
