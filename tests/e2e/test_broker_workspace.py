"""A broker's day: dashboard → client → performance chart → transactions filter → CSV export."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.factories import PASSWORD

from .conftest import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_broker_walks_from_the_dashboard_to_a_clients_transactions(
    page: Page, live_server, settings, workspace, cast
):
    settings.PORTAL_REQUIRE_2FA = False
    log_in(page, live_server.url, cast.broker1.email, PASSWORD)

    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    expect(page.get_by_test_id("client-count")).to_have_text("1 / 2")
    expect(page.locator("canvas[data-chart='book-chart-data']")).to_have_attribute("data-drawn", "true")
    page.get_by_role("link", name="YTD").click()
    expect(page.get_by_role("link", name="YTD")).to_have_class(re.compile("active"))

    page.get_by_role("link", name="Anna Albers").first.click()
    expect(page.get_by_role("heading", name="Anna Albers")).to_be_visible()
    expect(page.get_by_test_id("performance-chart")).to_have_attribute("data-drawn", "true")
    expect(page.get_by_test_id("performance-table")).to_contain_text("MAX")
    # Both returns cumulative; under a year no annualised figure (GIPS), and the page says so.
    expect(page.get_by_test_id("performance-table")).to_contain_text("Cumulative")
    expect(page.locator("tr[data-period='1M'] [data-figure='mwr-annualised']")).to_have_text("–")
    expect(page.get_by_test_id("performance-note")).to_contain_text("only for periods of a year or more")
    expect(page.get_by_test_id("positions")).to_contain_text("SAP SE")

    page.get_by_test_id("all-transactions").click()
    page.get_by_label("Type").select_option("dividend")
    page.get_by_role("button", name="Filter").click()
    table = page.get_by_test_id("transaction-table")
    expect(table).to_contain_text("Dividend")
    expect(table).not_to_contain_text("Fee")

    with page.expect_download() as download_info:
        page.get_by_test_id("transaction-export").click()
    csv_text = download_info.value.path().read_text(encoding="utf-8")
    assert "Dividend" in csv_text and "Fee" not in csv_text
    assert csv_text.splitlines()[0].startswith("Date,Portfolio,Type")


def test_another_firms_broker_sees_404_for_the_same_client(page: Page, live_server, settings, workspace, cast):
    settings.PORTAL_REQUIRE_2FA = False
    log_in(page, live_server.url, cast.broker3.email, PASSWORD)
    response = page.goto(f"{live_server.url}/broker/clients/{workspace.anna.pk}/")
    assert response.status == 404
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
