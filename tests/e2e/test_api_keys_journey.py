"""A broker makes an API key, a plain HTTP client uses it, the broker revokes it, the next call is 401."""

import json
import urllib.error
import urllib.request

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page, expect

from tests.factories import PASSWORD

from .conftest import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def api_get(url: str, key: str) -> tuple[int, dict]:
    request = urllib.request.Request(url, headers={"Authorization": f"Api-Key {key}", "Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_a_broker_creates_uses_and_revokes_an_api_key(page: Page, live_server, settings, workspace, cast):
    settings.PORTAL_REQUIRE_2FA = True
    device = TOTPDevice.objects.create(user=cast.broker1, name="phone", confirmed=True)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)

    log_in(page, live_server.url, cast.broker1.email, PASSWORD)
    page.locator("input[name=token]").fill(f"{TOTP(device.bin_key).token():06d}")
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()

    page.get_by_test_id("role-nav").get_by_role("link", name="API keys").click()
    expect(page.get_by_role("heading", name="API keys", exact=True)).to_be_visible()
    page.get_by_label("Name").fill("Back-office ERP")
    page.get_by_test_id("scope-scope_clients").get_by_label("Read only").check()
    page.get_by_role("button", name="Create key").click()

    expect(page.get_by_role("heading", name="Your new API key")).to_be_visible()
    shown = page.get_by_test_id("new-api-key").input_value()
    page.bring_to_front()  # the clipboard is only for the focused page
    page.get_by_test_id("copy-api-key").click()
    expect(page.get_by_test_id("copy-api-key")).to_have_text("Copied")
    key = page.evaluate("navigator.clipboard.readText()")
    assert key == shown and key.startswith("pzk_")

    status, body = api_get(f"{live_server.url}/api/v1/clients/", key)
    assert status == 200
    assert {c["number"] for c in body["results"]} == {"C1001", "C1002"}

    page.get_by_test_id("back-to-keys").click()
    prefix = key.split(".")[0]
    row = page.get_by_test_id(f"api-key-{prefix}")
    expect(row).to_contain_text("Back-office ERP")
    expect(row.get_by_test_id("api-key-state")).to_have_text("Active")
    expect(row).not_to_contain_text(key.split(".")[1])
    page.get_by_test_id(f"revoke-{prefix}").click()
    expect(page.get_by_test_id(f"api-key-{prefix}").get_by_test_id("api-key-state")).to_have_text("Revoked")

    status, body = api_get(f"{live_server.url}/api/v1/clients/", key)
    assert status == 401
    assert body["error"]["code"] == "authentication_failed"
