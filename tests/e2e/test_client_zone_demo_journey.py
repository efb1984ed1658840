"""Issue 12's journey on the demo's own data, as a person who ran `make demo` would walk it.

client1 logs in and sees their assets, the performance chart, positions and transactions, downloads a
statement PDF, verifies a new mobile number with the SMS code, signs a waiting request from the zone
and downloads their data; broker1 sends a signature request from a client's page; the back office
reaches admin, the audit trail and commissions from the menu. Every step reads what the demo made,
so an empty page of the demo fails here.
"""

import json
import re
import zipfile
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from portal.accounts.models import User
from portal.shell.demo import DEMO_PASSWORD
from signing.models import SignatureRequest

from .conftest import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo_in_english(demo):
    """The demo, with English pages for the steps below (client1's demo language is German)."""
    # Saved one by one, not update(): a save forgets the signed-in user cached during the demo.
    for user in User.objects.filter(email__in=["client1@example.com", "broker1@example.com", "backoffice@example.com"]):
        user.language = "en"
        user.save(update_fields=["language"])


def latest_code(page: Page, base: str, number: str) -> str:
    """The newest SMS code to `number`, from the dev outbox as the demo user reads it."""
    page.goto(f"{base}/notifications/dev-outbox/")
    sms = page.get_by_test_id("outbox-message").filter(has=page.get_by_test_id("outbox-recipient").get_by_text(number))
    return re.search(r"\b(\d{6})\b", sms.first.get_by_test_id("outbox-body").inner_text()).group(1)


def test_client1_broker1_and_the_back_office_walk_the_demo(page: Page, live_server, demo_in_english):
    base = live_server.url

    # client1: the zone's home with assets, the chart and what waits for a signature.
    log_in(page, base, "client1@example.com", DEMO_PASSWORD)
    expect(page).to_have_url(f"{base}/client/")
    expect(page.get_by_test_id("panel-assets").get_by_test_id("assets-total")).to_contain_text("EUR")
    expect(page.get_by_test_id("panel-performance").get_by_test_id("performance-chart")).to_have_count(1)
    expect(page.get_by_test_id("panel-allocation")).to_be_visible()
    expect(page.get_by_test_id("zone-waiting").get_by_test_id("waiting-request").first).to_be_visible()
    nav = page.get_by_test_id("role-nav")

    # Positions and transactions.
    nav.get_by_role("link", name="Portfolio").click()
    expect(page.get_by_test_id("positions").locator("tbody tr").first).to_be_visible()
    page.goto(f"{base}/client/portfolio/transactions/")
    expect(page.get_by_test_id("transaction-table").locator("tbody tr").first).to_be_visible()

    # A statement PDF from Documents.
    nav.get_by_role("link", name="Documents", exact=True).click()
    statements = page.get_by_test_id("documents-statements").get_by_test_id("document")
    expect(statements.first).to_be_visible()
    with page.expect_download() as download:
        statements.first.get_by_role("link", name="Download").click()
    assert download.value.suggested_filename.endswith(".pdf")
    assert Path(download.value.path()).read_bytes()[:5] == b"%PDF-"

    # A new mobile number, verified with the code from the SMS.
    nav.get_by_role("link", name="Profile").click()
    page.get_by_test_id("mobile-change-toggle").click()
    page.get_by_label("New mobile number").fill("+49 151 9999 0011")
    page.get_by_label("Your password").fill(DEMO_PASSWORD)
    page.get_by_test_id("mobile-save").click()
    expect(page.get_by_test_id("mobile-state")).to_have_text("Not verified")
    code = latest_code(page, base, "+4915199990011")
    page.goto(f"{base}/client/profile/")
    page.get_by_label("Code from the SMS").fill(code)
    page.get_by_test_id("mobile-verify").click()
    expect(page.get_by_test_id("mobile-state")).to_have_text("Verified")

    # Sign the waiting request from the zone, with a code sent to the new number.
    page.goto(f"{base}/client/")
    page.get_by_test_id("zone-waiting").get_by_role("link", name="Read and sign").first.click()
    request_id = int(re.search(r"/client/sign/(\d+)/", page.url).group(1))
    page.get_by_test_id("request-code").click()
    expect(page.get_by_test_id("code-status")).to_have_attribute("data-delivery", "sent")
    code = latest_code(page, base, "+4915199990011")
    page.goto(f"{base}/client/sign/{request_id}/")
    page.get_by_label("Code from the SMS").fill(code)
    page.get_by_test_id("sign").click()
    expect(page.get_by_test_id("signed-note")).to_be_visible()
    assert SignatureRequest.objects.get(pk=request_id).status == SignatureRequest.Status.SIGNED

    # Download my data: the ZIP holds the portfolios and the signed request.
    page.goto(f"{base}/client/profile/")
    page.get_by_test_id("export-request").click()
    expect(page.get_by_test_id("export-panel")).to_have_attribute("data-state", "ready")
    with page.expect_download() as download:
        page.get_by_test_id("export-download").click()
    archive = zipfile.ZipFile(download.value.path())
    data = json.loads(archive.read("data.json"))
    assert data["client"]["number"] == "C0001"
    assert data["parts"]["portfolios"] and data["parts"]["signature_requests"] and data["parts"]["statements"]
    page.goto("about:blank")  # the old page stops polling first: a late answer must not set a cookie
    page.context.clear_cookies()

    # broker1 sends a signature request from client detail, with the client chosen.
    log_in(page, base, "broker1@example.com", DEMO_PASSWORD)
    expect(page.get_by_test_id("user-menu")).to_have_text("broker1@example.com")
    page.get_by_test_id("role-nav").get_by_role("link", name="Clients").click()
    page.get_by_role("link", name=re.compile("Schmidt")).first.click()
    page.get_by_role("link", name="Send for signature").click()
    expect(page).to_have_url(re.compile(r"/signing/requests/new/\?recipient=\d+"))
    page.goto("about:blank")  # the old page stops polling first: a late answer must not set a cookie
    page.context.clear_cookies()

    # The back office reaches admin, the audit trail and commissions from the menu.
    log_in(page, base, "backoffice@example.com", DEMO_PASSWORD)
    expect(page.get_by_test_id("user-menu")).to_have_text("backoffice@example.com")
    menu = page.get_by_test_id("role-nav")
    for name, path in (
        ("Audit trail", "/admin/audit/auditevent/"),
        ("Commissions", "/commissions/"),
        ("Admin", "/admin/"),
    ):
        page.goto(f"{base}/")
        menu.get_by_role("link", name=name, exact=True).click()
        expect(page).to_have_url(base + path)
        expect(page.get_by_role("heading", name="Access denied")).to_have_count(0)
