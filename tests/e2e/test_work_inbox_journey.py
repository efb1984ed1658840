"""The work inbox end to end: backoffice@ opens /backoffice/, filters to signed requests, claims one,
opens it, marks it processed, and it leaves the open list (it is among the closed ones)."""

import re

import pytest
from playwright.sync_api import Page, expect

from portal.inbox.models import WorkItem
from signing.inbox import KIND
from tests.factories import PASSWORD
from tests.signing.conftest import a_minute_passes, book, request_code, sign, transfer  # noqa: F401 (the client book fixture)

from .conftest import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_the_back_office_claims_a_signed_request_from_the_inbox_and_processes_it(
    page: Page,
    live_server,
    settings,
    cast,
    book,  # noqa: F811 (the fixture imported above)
):
    settings.PORTAL_REQUIRE_2FA = False
    first = transfer(cast.broker1, book.anna, payee_name="Clara Schmidt")
    sign(first, cast.client1, request_code(first, cast.client1))
    a_minute_passes()  # the next code SMS to the same phone
    second = transfer(cast.broker1, book.anna, payee_name="Carl Weber")
    sign(second, cast.client1, request_code(second, cast.client1))
    item = WorkItem.objects.get(kind=KIND, object_id=first.pk)

    log_in(page, live_server.url, cast.backoffice.email, PASSWORD)
    nav = page.get_by_test_id("role-nav")
    expect(nav.get_by_test_id("inbox-count")).to_have_text("2")
    nav.get_by_role("link", name=re.compile("Work inbox")).click()
    expect(page.get_by_test_id("inbox-title")).to_have_text("Work inbox")

    page.get_by_label("Kind").select_option(label="Signed request")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"kind=signing\.signed_request"))
    rows = page.get_by_test_id("inbox-item")
    expect(rows).to_have_count(2)

    row = page.locator(f"#item-{item.pk}")
    expect(row.get_by_test_id("inbox-assignee")).to_have_text("Nobody yet")
    row.get_by_test_id("claim").click()
    expect(row.get_by_test_id("item-notice")).to_have_text("You have the item now.")
    expect(row.get_by_test_id("inbox-assignee")).to_have_text("You")
    expect(row.get_by_test_id("release")).to_be_visible()

    row.get_by_test_id("inbox-item-link").click()
    expect(page).to_have_url(re.compile(rf"/signing/backoffice/{first.pk}/$"))
    page.get_by_label("Comment for the broker").fill("Booked in the core system.")
    page.get_by_test_id("mark-processed").click()
    expect(page.get_by_test_id("status")).to_have_text("Processed")

    page.get_by_role("link", name="Work inbox", exact=True).first.click()
    expect(page.get_by_test_id("inbox-item")).to_have_count(1)
    expect(page.locator(f"#item-{item.pk}")).to_have_count(0)
    expect(page.locator(f"#item-{WorkItem.objects.get(kind=KIND, object_id=second.pk).pk}")).to_be_visible()
    expect(nav.get_by_test_id("inbox-count")).to_have_text("1")

    page.get_by_label("Show").select_option(label="Closed items")
    page.get_by_role("button", name="Filter").click()
    closed = page.locator(f"#item-{item.pk}")
    expect(closed).to_contain_text("Processed")
    expect(closed.get_by_test_id("claim")).to_have_count(0)
