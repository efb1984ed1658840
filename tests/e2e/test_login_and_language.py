"""The foundation journey: a broker logs in, enrols TOTP because it is required, and reads the
portal in German after switching the language."""

import base64

import pytest
from django_otp.oath import TOTP
from playwright.sync_api import Page, expect

from tests.factories import PASSWORD

from .conftest import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def totp_now(secret_base32: str) -> str:
    key = base64.b32decode(secret_base32.replace(" ", "").upper() + "=" * (-len(secret_base32.replace(" ", "")) % 8))
    return f"{TOTP(key).token():06d}"


def test_a_broker_enrols_totp_logs_in_and_switches_to_german(page: Page, live_server, settings, cast):
    settings.PORTAL_REQUIRE_2FA = True
    log_in(page, live_server.url, cast.broker1.email, PASSWORD)

    # 2FA is required for intermediaries: the portal sends the broker to enrolment first.
    expect(page).to_have_url(f"{live_server.url}/accounts/2fa/setup/?next=%2F")
    expect(page.get_by_test_id("totp-qr").locator("svg")).to_be_visible()
    secret = page.get_by_test_id("totp-secret").inner_text()
    page.get_by_label("Code from the app").fill(totp_now(secret))
    page.get_by_role("button", name="Confirm and turn on").click()

    codes = page.get_by_test_id("recovery-codes").locator("li")
    expect(codes).to_have_count(10)
    page.get_by_role("link", name="I have stored the codes, continue").click()

    nav = page.get_by_test_id("role-nav")
    expect(nav).to_contain_text("Dashboard")
    expect(nav).to_contain_text("Clients")

    page.get_by_test_id("language-menu").click()
    page.get_by_role("button", name="Deutsch").click()
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(nav).to_contain_text("Kunden")
    expect(nav).to_contain_text("Übersicht")
    expect(page.get_by_test_id("language-menu")).to_contain_text("Sprache")


def test_the_layout_works_on_a_phone(page: Page, live_server, settings, cast):
    settings.PORTAL_REQUIRE_2FA = False
    page.set_viewport_size({"width": 375, "height": 740})
    log_in(page, live_server.url, cast.client1.email, PASSWORD)
    # The menu collapses behind the toggler and opens on a tap.
    nav = page.get_by_test_id("role-nav")
    expect(nav).to_be_hidden()
    page.get_by_role("button", name="Toggle navigation").click()
    expect(nav).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375
