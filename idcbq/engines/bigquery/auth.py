"""Credentials and the billing project for BigQuery, resolved without slow probes.

Order: explicit ``credentials`` -> service-account ``key_file`` (or
``GOOGLE_APPLICATION_CREDENTIALS``) -> Colab user auth (when ``google.colab`` is
importable) -> Application Default Credentials (gcloud's ADC file, or the metadata
server when this machine *is* a Google VM).

Why not just ``google.auth.default()``: with nothing configured it probes the GCE
metadata server (three tries, seconds each) before failing. We look for a source
first and fail at once with one message saying how to fix it.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from idcbq.errors import AuthError

SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)
PROJECT_ENV = ("GOOGLE_CLOUD_PROJECT", "GCLOUD_PROJECT", "CLOUDSDK_CORE_PROJECT")

_HOW_TO_FIX = (
    "run `gcloud auth application-default login`, or set GOOGLE_APPLICATION_CREDENTIALS "
    "to a service-account key file (or pass key_file= / --key-file), or in Colab run "
    "`from google.colab import auth; auth.authenticate_user()`"
)


@dataclass(frozen=True)
class Resolved:
    """Credentials plus the project that is billed for queries (not the data project)."""

    credentials: Any
    project: str
    source: str


def in_colab() -> bool:
    """True when running inside Google Colab."""
    try:
        return importlib.util.find_spec("google.colab") is not None
    except (ImportError, ValueError):
        return False


def resolve(
    *,
    credentials: Any = None,
    key_file: str | os.PathLike[str] | None = None,
    project: str | None = None,
) -> Resolved:
    """Find credentials and a billing project, or raise one clear :class:`AuthError`.

    ``credentials="anonymous"`` gives ``AnonymousCredentials`` (local emulators).
    """
    project = project or _project_from_env()
    if credentials is not None:
        if credentials == "anonymous":
            from google.auth.credentials import AnonymousCredentials

            credentials = AnonymousCredentials()
        return Resolved(credentials, _need_project(project, credentials), "explicit")

    key = key_file or os.environ.get("GOOGLE_APPLICATION_CREDENTIALS")
    if key:
        creds, key_project = _from_key_file(Path(key), explicit=key_file is not None)
        return Resolved(creds, _need_project(project or key_project, creds), f"key file {key}")

    if in_colab():
        _colab_authenticate()

    if not _adc_source_exists():
        raise AuthError("no Google Cloud credentials found", hint=_HOW_TO_FIX)
    import google.auth
    from google.auth.exceptions import DefaultCredentialsError

    try:
        creds, adc_project = google.auth.default(scopes=list(SCOPES), quota_project_id=None)
    except DefaultCredentialsError as exc:
        raise AuthError(
            f"Google Cloud credentials are not usable: {exc}", hint=_HOW_TO_FIX
        ) from exc
    return Resolved(creds, _need_project(project or adc_project, creds), "application default")


def _project_from_env() -> str | None:
    for name in PROJECT_ENV:
        value = os.environ.get(name)
        if value:
            return value
    return None


def _need_project(project: str | None, credentials: Any) -> str:
    project = project or getattr(credentials, "quota_project_id", None)
    if not project:
        raise AuthError(
            "no billing project for BigQuery",
            hint="pass --project PROJECT (or project=...), or set GOOGLE_CLOUD_PROJECT; "
            "queries are billed to this project, the IDC data stays in bigquery-public-data",
        )
    return str(project)


def _from_key_file(path: Path, *, explicit: bool) -> tuple[Any, str | None]:
    what = "key file" if explicit else "GOOGLE_APPLICATION_CREDENTIALS"
    if not path.is_file():
        raise AuthError(f"{what} {str(path)!r} does not exist", hint=_HOW_TO_FIX)
    import json

    from google.oauth2 import service_account

    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise AuthError(f"{what} {str(path)!r} is not a JSON key file: {exc}") from exc
    if info.get("type") != "service_account":
        # Authorized-user / external-account files: let google-auth handle them.
        import google.auth

        try:
            creds, proj = google.auth.load_credentials_from_file(str(path), scopes=list(SCOPES))
        except Exception as exc:
            raise AuthError(f"{what} {str(path)!r} cannot be used: {exc}") from exc
        return creds, proj
    try:
        creds = service_account.Credentials.from_service_account_info(info, scopes=list(SCOPES))
    except (ValueError, KeyError) as exc:
        raise AuthError(f"{what} {str(path)!r} is not a valid service-account key: {exc}") from exc
    return creds, info.get("project_id")


def _colab_authenticate() -> None:
    from google.colab import auth  # type: ignore[import-not-found]

    auth.authenticate_user()


def _adc_source_exists() -> bool:
    """Is there anything for ``google.auth.default()`` to find, short of a network probe?"""
    from google.auth import _cloud_sdk, environment_vars

    if Path(_cloud_sdk.get_application_default_credentials_path()).is_file():
        return True
    if os.environ.get(environment_vars.GCE_METADATA_HOST) or os.environ.get(
        environment_vars.GCE_METADATA_IP
    ):
        return True
    if (
        os.environ.get("GAE_RUNTIME")
        or os.environ.get("CLOUD_RUN_JOB")
        or os.environ.get("K_SERVICE")
    ):
        return True
    return _on_google_vm()


def _on_google_vm() -> bool:
    # Google VMs (GCE, Colab, Vertex) say so in DMI; reading a file costs nothing.
    try:
        text = Path("/sys/class/dmi/id/product_name").read_text(encoding="utf-8")
    except OSError:
        return False
    return text.strip().startswith(("Google", "Google Compute Engine"))
