"""Auth resolution: clear, fast errors; key files; billing project kept separate."""

from __future__ import annotations

import json

import pytest

from idcbq.engines.bigquery import BigQueryEngine, auth
from idcbq.errors import AuthError


@pytest.fixture
def no_google_env(monkeypatch, tmp_path):
    """No credentials anywhere: no env vars, an empty gcloud config dir, a fresh HOME."""
    for name in (
        "GOOGLE_APPLICATION_CREDENTIALS",
        "GOOGLE_CLOUD_PROJECT",
        "GCLOUD_PROJECT",
        "CLOUDSDK_CORE_PROJECT",
        "GCE_METADATA_HOST",
        "GCE_METADATA_IP",
        "GAE_RUNTIME",
        "K_SERVICE",
        "CLOUD_RUN_JOB",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "gcloud"))
    monkeypatch.setenv("HOME", str(tmp_path))
    return tmp_path


#: Addresses this process tried to connect to while ``_CONNECTS["on"]`` (an audit hook:
#: Python reports every ``socket.connect``; hooks cannot be removed, so it is gated).
_CONNECTS: dict[str, object] = {"on": False, "seen": []}


def _record_connects(event: str, args: tuple) -> None:
    if event == "socket.connect" and _CONNECTS["on"]:
        _CONNECTS["seen"].append(args[1])  # type: ignore[union-attr]


def test_no_credentials_fails_fast_with_how_to_fix(no_google_env):
    """No probe of the metadata server (seconds of retries): no connection at all."""
    import sys

    if not _CONNECTS.get("hooked"):
        sys.addaudithook(_record_connects)
        _CONNECTS["hooked"] = True
    _CONNECTS.update(on=True, seen=[])
    try:
        with pytest.raises(AuthError) as info:
            BigQueryEngine.from_options(project="my-billing")
    finally:
        _CONNECTS["on"] = False
    assert _CONNECTS["seen"] == [], "tried the network (metadata-server probe?)"
    text = str(info.value)
    assert "no Google Cloud credentials" in text
    assert "gcloud auth application-default login" in text
    assert "GOOGLE_APPLICATION_CREDENTIALS" in text
    assert info.value.exit_code == 2


def _service_account_key(path, project="key-project"):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    path.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": project,
                "private_key_id": "local-test-key",
                "private_key": pem,
                "client_email": "idcbq-test@key-project.iam.gserviceaccount.com",
                "client_id": "1",
                "token_uri": "https://oauth2.googleapis.com/token",
            }
        )
    )
    return path


def test_key_file_gives_credentials_and_default_project(no_google_env):
    key = _service_account_key(no_google_env / "sa.json")
    resolved = auth.resolve(key_file=key)
    assert resolved.project == "key-project"
    assert resolved.credentials.service_account_email.startswith("idcbq-test@")


def test_billing_project_overrides_key_project_and_data_project_stays(no_google_env, monkeypatch):
    key = _service_account_key(no_google_env / "sa.json")
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key))
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "billing-from-env")
    engine = BigQueryEngine.from_options(idc_version="v25")
    try:
        assert engine.client.project == "billing-from-env"
        assert engine.data_project == "bigquery-public-data"
        prepared = engine.prepare("SELECT 1 FROM dicom_all", [])
        assert "`bigquery-public-data.idc_v25.dicom_all`" in prepared.sql
    finally:
        engine.close()


def test_missing_key_file_names_the_path(no_google_env):
    with pytest.raises(AuthError, match=r"nope\.json"):
        auth.resolve(key_file=no_google_env / "nope.json", project="p")


def test_broken_key_file_names_the_path(no_google_env):
    bad = no_google_env / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(AuthError, match=r"bad\.json"):
        auth.resolve(key_file=bad, project="p")


def test_no_project_says_how_to_set_one(no_google_env):
    with pytest.raises(AuthError) as info:
        auth.resolve(credentials="anonymous")
    assert "--project" in str(info.value)
    assert "GOOGLE_CLOUD_PROJECT" in str(info.value)


def test_adc_file_is_used_when_present(no_google_env):
    adc = no_google_env / "gcloud" / "application_default_credentials.json"
    adc.parent.mkdir(parents=True)
    adc.write_text(
        json.dumps(
            {
                "type": "authorized_user",
                "client_id": "x.apps.googleusercontent.com",
                "client_secret": "s",
                "refresh_token": "r",
                "quota_project_id": "adc-quota",
            }
        )
    )
    resolved = auth.resolve()
    assert resolved.source == "application default"
    assert resolved.project == "adc-quota"


def test_colab_is_detected_only_when_importable():
    import importlib.util

    assert auth.in_colab() == (importlib.util.find_spec("google.colab") is not None)
