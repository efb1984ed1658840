"""client1 changes their mobile number, verifies it with the SMS code from the dev outbox, and downloads
their data as a ZIP, in Chromium against the live server (tasks run eagerly, as in `make demo`).
"""

import io
import json
import re
import zipfile

import pytest
from django.test import Client as Browser
from playwright.sync_api import Page, expect

from clients.models import Client
from portal.accounts.models import User
from tests.factories import PASSWORD

from .conftest import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _demo_like(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.DEBUG = True
    settings.PORTAL_DEV_OUTBOX = True
    settings.PORTAL_SMS_TRANSPORT = "dev"
    settings.PORTAL_REQUIRE_2FA = False


def test_client1_verifies_a_new_mobile_number_and_downloads_their_data(page: Page, live_server, cast):
    Client.objects.create(
        number="C1001", first_name="Anna", last_name="Albers", advisor=cast.broker1, user=cast.client1, city="Berlin"
    )
    base = live_server.url

    log_in(page, base, cast.client1.email, PASSWORD)
    page.get_by_test_id("role-nav").get_by_role("link", name="Profile").click()
    expect(page.get_by_role("heading", name="Profile", exact=True)).to_be_visible()
    expect(page.get_by_test_id("mobile-state")).to_have_text("Verified")

    # A new number: saved unverified, and a code goes out to it at once.
    page.get_by_test_id("mobile-change-toggle").click()
    page.get_by_label("New mobile number").fill("+49 151 9999 0007")
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_test_id("mobile-save").click()
    expect(page.get_by_test_id("mobile-number")).to_have_text("+4915199990007")
    expect(page.get_by_test_id("mobile-state")).to_have_text("Not verified")
    expect(page.get_by_test_id("mobile-status")).to_have_attribute("data-delivery", "sent")

    # The SMS, as the dev outbox shows it (the demo's stand-in for the phone).
    outbox = page.context.new_page()
    outbox.goto(f"{base}/notifications/dev-outbox/")
    sms = (
        outbox.locator("[data-testid=outbox-message][data-channel=sms]")
        .filter(has_text="verify this mobile number")
        .first
    )
    expect(sms.get_by_test_id("outbox-recipient")).to_have_text("+4915199990007")
    code = re.search(r"\b(\d{6})\b", sms.get_by_test_id("outbox-body").inner_text()).group(1)
    outbox.close()

    page.get_by_label("Code from the SMS").fill(code)
    page.get_by_test_id("mobile-verify").click()
    expect(page.get_by_test_id("mobile-notice")).to_contain_text("Your mobile number is verified")
    expect(page.get_by_test_id("mobile-state")).to_have_text("Verified")
    assert User.objects.get(pk=cast.client1.pk).phone_verified_at is not None

    # Once used, the code is gone from the dev outbox too.
    page.goto(f"{base}/notifications/dev-outbox/")
    used = page.locator("[data-testid=outbox-message][data-channel=sms]").filter(has_text="verify this mobile number")
    expect(used.first.get_by_test_id("outbox-body")).not_to_contain_text(code)
    page.goto(f"{base}/client/profile/")

    # Download my data.
    panel = page.get_by_test_id("export-panel")
    expect(panel).to_have_attribute("data-state", "none")
    page.get_by_test_id("export-request").click()
    expect(panel).to_have_attribute("data-state", "ready")
    with page.expect_download() as download_info:
        page.get_by_test_id("export-download").click()
    download = download_info.value
    assert download.suggested_filename.startswith("partnerzone-my-data-") and download.suggested_filename.endswith(
        ".zip"
    )
    with open(download.path(), "rb") as handle:
        archive = zipfile.ZipFile(io.BytesIO(handle.read()))
    data = json.loads(archive.read("data.json"))
    assert data["client"]["number"] == "C1001"
    assert data["account"]["mobile_phone"] == "+4915199990007"
    assert data["account"]["mobile_phone_verified_at"]

    # The link is client1's alone.
    other = Browser()
    other.force_login(User.objects.get(pk=cast.client2.pk))
    assert other.get(page.get_by_test_id("export-download").get_attribute("href")).status_code == 404
