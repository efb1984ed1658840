"""The client's portfolio in the zone, and the broker's exports and actions on the client page.

client1 (Anna, C1001) opens Portfolio, changes the day, filters the transactions and downloads
them as CSV; broker1 exports Anna's positions from the client page and sends her a request with
her preselected.
"""

import csv
import io

import pytest
from playwright.sync_api import Page, expect

from tests.factories import PASSWORD
from tests.intermediaries.conftest import DAYS

from .conftest import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_client_reads_positions_on_a_day_and_downloads_filtered_transactions(
    page: Page, live_server, settings, workspace, cast
):
    settings.PORTAL_REQUIRE_2FA = False
    log_in(page, live_server.url, cast.client1.email, PASSWORD)

    page.get_by_test_id("role-nav").get_by_role("link", name="Portfolio").click()
    expect(page.get_by_role("heading", name="Portfolio", exact=True)).to_be_visible()
    positions = page.get_by_test_id("positions")
    expect(positions).to_contain_text("SAP SE")
    expect(positions.get_by_role("cell", name="30", exact=True)).to_be_visible()  # after the sale of 20

    page.get_by_label("Positions on").fill(DAYS[15].isoformat())
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_label("Positions on")).to_have_value(DAYS[15].isoformat())
    expect(positions.get_by_role("cell", name="50", exact=True)).to_be_visible()  # before the sale

    page.get_by_test_id("portfolio-tabs").get_by_role("link", name="Transactions").click()
    page.get_by_label("Type").select_option("dividend")
    page.get_by_role("button", name="Filter").click()
    table = page.get_by_test_id("transaction-table")
    expect(table).to_contain_text("Dividend")
    expect(table).not_to_contain_text("Fee")
    expect(page.get_by_test_id("transaction-count")).to_have_text("1 transaction")

    with page.expect_download() as download_info:
        page.get_by_test_id("transaction-export").click()
    rows = list(csv.reader(io.StringIO(download_info.value.path().read_text(encoding="utf-8"))))
    assert rows[0][:3] == ["Date", "Portfolio", "Type"]
    assert [row[2] for row in rows[1:]] == ["Dividend"]

    page.get_by_test_id("portfolio-tabs").get_by_role("link", name="Performance").click()
    page.get_by_test_id("period-buttons").get_by_role("link", name="MAX").click()
    expect(page.get_by_test_id("range-chart")).to_have_attribute("data-drawn", "true")
    expect(page.get_by_test_id("period-chart")).to_have_attribute("data-drawn", "true")
    expect(page.get_by_test_id("performance-table")).to_contain_text("YTD")
    # Labelled as on the broker's page: both returns cumulative, nothing annualised under a year.
    expect(page.get_by_test_id("performance-table")).to_contain_text("Cumulative")
    expect(page.locator("tr[data-period='1M'] [data-figure='mwr-annualised']")).to_have_text("–")
    expect(page.get_by_test_id("range-not-annualised")).to_be_visible()


def test_a_broker_exports_a_clients_positions_and_sends_them_a_request(
    page: Page, live_server, settings, workspace, cast
):
    settings.PORTAL_REQUIRE_2FA = False
    log_in(page, live_server.url, cast.broker1.email, PASSWORD)
    page.goto(f"{live_server.url}/broker/clients/{workspace.anna.pk}/")
    expect(page.get_by_role("heading", name="Anna Albers")).to_be_visible()

    with page.expect_download() as download_info:
        page.get_by_test_id("positions-export-csv").click()
    rows = list(csv.reader(io.StringIO(download_info.value.path().read_text(encoding="utf-8"))))
    assert {row[3] for row in rows[1:]} == {"SAP SE", "iShares Core MSCI World"}

    page.get_by_test_id("send-for-signature").click()
    page.get_by_test_id("kind-document").click()
    expect(page.get_by_label("Client", exact=True).locator("option:checked")).to_have_text("Anna Albers (C1001)")
