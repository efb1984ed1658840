"""X-Forwarded-Proto is believed only from a trusted proxy (PORTAL_TRUSTED_PROXY_HOPS > 0)."""

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.django_db


def _setting(env: dict) -> str:
    code = "from django.conf import settings; print(settings.SECURE_PROXY_SSL_HEADER)"
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        env={"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "portal.settings", "DEBUG": "true", **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def test_without_a_trusted_proxy_the_header_means_nothing():
    assert _setting({}) == "None"
    assert _setting({"PORTAL_TRUSTED_PROXY_HOPS": "1"}) == "('HTTP_X_FORWARDED_PROTO', 'https')"


def test_a_client_cannot_claim_https_by_sending_the_header(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = None  # as production without PORTAL_TRUSTED_PROXY_HOPS

    response = client.get("/accounts/login/", HTTP_X_FORWARDED_PROTO="https")

    assert response.status_code == 301
    assert response["Location"] == "https://testserver/accounts/login/"


def test_behind_a_trusted_proxy_its_header_is_believed(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

    assert client.get("/accounts/login/", HTTP_X_FORWARDED_PROTO="https").status_code == 200
