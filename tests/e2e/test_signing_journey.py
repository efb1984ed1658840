"""Signing end to end: broker1 writes a transfer with an attachment, client1 signs it with the SMS code
from the fake Twilio, the back office processes it, and broker1 sees "Processed".
"""

import re

import pytest
from playwright.sync_api import Page, expect

from signing.models import SignatureRequest
from tests.factories import PASSWORD
from tests.fakes.fixtures import fake_twilio, twilio_settings  # noqa: F401 (the loopback Twilio)
from tests.signing.conftest import book, pdf_bytes, transfer  # noqa: F401 (the client book fixture)

from .conftest import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def switch_user(page: Page, base_url: str, email: str) -> None:
    page.goto("about:blank")  # the old page stops polling first: a late answer must not set a cookie
    page.context.clear_cookies()
    log_in(page, base_url, email, PASSWORD)


def test_a_transfer_goes_from_broker_to_client_to_back_office_and_back(
    page: Page,
    live_server,
    settings,
    cast,
    book,  # noqa: F811 (the fixture imported above)
    twilio_settings,  # noqa: F811
):
    settings.PORTAL_REQUIRE_2FA = False
    base = live_server.url

    # broker1 writes the transfer with an attachment, previews it and sends it.
    log_in(page, base, cast.broker1.email, PASSWORD)
    page.get_by_test_id("role-nav").get_by_role("link", name="Signature requests").click()
    page.get_by_test_id("new-request").click()
    page.get_by_test_id("kind-fund_transfer").click()
    page.get_by_label("Client", exact=True).select_option(label="Anna Albers (C1001)")
    portfolio = page.get_by_label("Portfolio", exact=True)
    expect(portfolio.locator("option", has_text="Depot P1 (P1)")).to_have_count(1)  # loaded by htmx
    portfolio.select_option(label="Depot P1 (P1) · EUR")
    page.get_by_label("Amount").fill("2500.00")
    page.get_by_label("Payee", exact=True).fill("Max Mustermann")
    page.get_by_label("Payee's IBAN").fill("DE89 3704 0044 0532 0130 00")
    page.get_by_label("Text for the client").fill("The withdrawal we discussed.")
    page.get_by_label("Attachments").set_input_files(
        files=[{"name": "order.pdf", "mimeType": "application/pdf", "buffer": pdf_bytes("Withdrawal order")}]
    )
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_test_id("status-text")).to_have_text("Draft")
    fingerprint = page.get_by_test_id("fingerprint").inner_text()

    page.get_by_test_id("preview").click()
    preview = page.get_by_test_id("preview-frame")
    expect(preview).to_contain_text("2,500.00 EUR")
    expect(preview).to_contain_text("order.pdf")
    expect(preview.get_by_test_id("fingerprint")).to_have_text(fingerprint)
    page.get_by_test_id("send").click()
    expect(page.get_by_test_id("status-text")).to_have_text("Sent")
    request = SignatureRequest.objects.get()

    # client1 reads it, asks for the code, reads the SMS and signs.
    switch_user(page, base, cast.client1.email)
    page.get_by_test_id("role-nav").get_by_role("link", name="Documents to sign").click()
    page.get_by_role("link", name=re.compile(r"Transfer of 2500\.00 EUR to Max Mustermann")).click()
    expect(page.get_by_test_id("fingerprint")).to_have_text(fingerprint)
    expect(page.get_by_test_id("transfer-details")).to_contain_text("DE89 3704 0044 0532 0130 00")
    with page.expect_popup() as popup:
        page.get_by_test_id("attachments").get_by_role("link", name="View").click()
    assert popup.value.url.endswith(f"/signing/requests/{request.pk}/attachments/{request.attachments.get().pk}/")
    popup.value.close()

    page.get_by_test_id("request-code").click()
    expect(page.get_by_test_id("code-status")).to_have_attribute("data-delivery", "sent")
    [sms] = twilio_settings.wait_for_messages(1)
    assert sms["to"] == cast.client1.phone
    assert "2,500.00 EUR" in sms["body"] and "Max Mustermann" in sms["body"]
    code = re.search(r"\b(\d{6})\b", sms["body"]).group(1)
    page.get_by_label("Code from the SMS").fill(code)
    page.get_by_test_id("sign").click()
    expect(page.get_by_test_id("signed-note")).to_be_visible()
    expect(page.get_by_test_id("status")).to_have_text("Signed")

    # The back office sees it with its evidence and marks it processed.
    switch_user(page, base, cast.backoffice.email)
    page.get_by_test_id("role-nav").get_by_role("link", name=re.compile("Work inbox")).click()
    page.get_by_test_id("inbox-table").get_by_role("link", name=re.compile("Max Mustermann")).click()
    evidence = page.get_by_test_id("evidence")
    expect(evidence).to_contain_text(sms["sid"])
    expect(evidence.get_by_test_id("signed-pdf")).to_be_visible()
    page.get_by_label("Comment for the broker").fill("Booked.")
    page.get_by_test_id("mark-processed").click()
    expect(page.get_by_test_id("status")).to_have_text("Processed")

    # broker1 sees the outcome.
    switch_user(page, base, cast.broker1.email)
    page.get_by_test_id("role-nav").get_by_role("link", name="Signature requests").click()
    expect(page.get_by_test_id("request-table").get_by_test_id("status")).to_have_text("Processed")
    page.get_by_test_id("request-table").get_by_role("link", name=re.compile("Max Mustermann")).click()
    expect(page.get_by_test_id("status-text")).to_have_text("Processed")
    expect(page.get_by_test_id("handling")).to_contain_text("Booked.")
    expect(page.get_by_test_id("history")).to_contain_text("Processed by the back office")


def test_in_the_demo_client1_reads_the_code_in_the_dev_outbox_and_signs(
    page: Page,
    live_server,
    settings,
    cast,
    book,  # noqa: F811
):
    settings.DEBUG = True
    settings.PORTAL_DEV_OUTBOX = True
    settings.PORTAL_SMS_TRANSPORT = "dev"
    settings.PORTAL_REQUIRE_2FA = False
    base = live_server.url
    request = transfer(cast.broker1, book.anna, amount="750.00")

    # The dev outbox is no public page: a visitor is sent to the login first.
    page.goto(f"{base}/notifications/dev-outbox/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/notifications/dev-outbox/$"))

    log_in(page, base, cast.client1.email, PASSWORD)
    # A link from before the client zone (an e-mail, a bookmark) lands on the request in the zone.
    page.goto(f"{base}/signing/inbox/{request.pk}/")
    expect(page).to_have_url(f"{base}/client/sign/{request.pk}/")
    page.get_by_test_id("request-code").click()
    expect(page.get_by_test_id("code-status")).to_have_attribute("data-delivery", "sent")

    page.get_by_role("link", name="Dev outbox").click()
    sms = (
        page.locator("[data-testid=outbox-message][data-channel=sms]")
        .filter(has_text="750.00 EUR")
        .get_by_test_id("outbox-body")
    )
    code = re.search(r"\b(\d{6})\b", sms.inner_text()).group(1)

    page.goto(f"{base}/client/sign/{request.pk}/")
    page.get_by_label("Code from the SMS").fill(code)
    page.get_by_test_id("sign").click()
    expect(page.get_by_test_id("signed-note")).to_be_visible()

    # Once used, the code is gone from the dev outbox too.
    page.goto(f"{base}/notifications/dev-outbox/")
    used = (
        page.locator("[data-testid=outbox-message][data-channel=sms]")
        .filter(has_text="750.00 EUR")
        .get_by_test_id("outbox-body")
    )
    expect(used).to_contain_text("••••••")
    expect(used).not_to_contain_text(code)
    assert SignatureRequest.objects.get(pk=request.pk).status == "signed"
