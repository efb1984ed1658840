"""broker1 finds a client by typing part of the name and requests a portfolio statement; client1 is
told a new statement is ready and downloads it from the notification."""

import io

import pytest
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from reports.models import Report
from tests.factories import PASSWORD

from .conftest import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def switch_user(page: Page, base_url: str, email: str) -> None:
    page.goto("about:blank")  # the old page stops polling first: a late answer must not set a cookie
    page.context.clear_cookies()
    log_in(page, base_url, email, PASSWORD)


def test_a_broker_requests_a_statement_by_name_and_the_client_downloads_it(
    page: Page, live_server, settings, workspace, cast
):
    settings.PORTAL_REQUIRE_2FA = False
    base = live_server.url

    # broker1 types part of the client's name and picks her from what the search finds.
    log_in(page, base, cast.broker1.email, PASSWORD)
    page.get_by_test_id("role-nav").get_by_role("link", name="Reports").click()
    page.get_by_label("Report").select_option("portfolio_statement")
    page.get_by_label("Client", exact=True).press_sequentially("alb")
    choice = page.get_by_role("radio", name="Anna Albers")
    expect(choice).to_be_visible()  # found by htmx while typing
    expect(page.get_by_role("radio")).to_have_count(1)  # only broker1's own clients
    choice.check()
    page.get_by_label("From", exact=True).fill("2026-09-01")
    page.get_by_label("To", exact=True).fill("2026-10-31")
    page.get_by_role("button", name="Request report").click()
    expect(page.get_by_role("status")).to_contain_text("requested")
    expect(page.get_by_test_id("report-download")).to_be_visible(timeout=30_000)
    report = Report.objects.get(requested_by=cast.broker1)
    assert report.client == workspace.anna and report.status == Report.Status.READY

    # client1 is told, finds it among the zone's documents, and downloads it
    # from the notification.
    switch_user(page, base, cast.client1.email)
    expect(page.get_by_test_id("notification-bell")).to_contain_text("1")
    page.goto(f"{base}/client/documents/")
    expect(page.get_by_role("main")).to_contain_text("Portfolio statement")
    page.get_by_test_id("notification-bell").click()
    page.get_by_test_id("unread-menu").get_by_role("link", name="All notifications").click()
    notification = page.get_by_test_id("notification").filter(has_text="New portfolio statement")
    expect(notification).to_contain_text("ready to download")
    link = notification.get_by_role("link", name="Open")
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == "portfolio_statement-C1001-20260901-20261031.pdf"
    text = " ".join(PdfReader(io.BytesIO(download.value.path().read_bytes())).pages[0].extract_text().split())
    assert "Client portfolio statement" in text and "Anna Albers (C1001)" in text
    report.refresh_from_db()
    assert report.client_downloaded_at is not None  # no longer new in the zone
