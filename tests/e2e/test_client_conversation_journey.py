"""The client's conversation with their broker (issue 13): client1 writes from "My adviser", broker1
reads it on the client's page, writes an internal note and answers; the answer reaches the client's
open page by itself (polling), the note never does."""

import pytest
from django.urls import reverse
from playwright.sync_api import Browser, expect

from portal.threads.models import Message
from tests.factories import PASSWORD
from tests.threads.conftest import book  # noqa: F401 (Anna with login client1, advised by broker1)

from .conftest import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

NOTE = "Prefers low volatility: check the suitability profile first"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_client_writes_broker_answers_and_notes_the_client_never_sees_the_note(
    browser: Browser,
    live_server,
    settings,
    cast,
    book,  # noqa: F811 (the fixture imported above)
):
    settings.PORTAL_REQUIRE_2FA = False
    base = live_server.url
    client_page = browser.new_context(locale="en-GB").new_page()
    broker_page = browser.new_context(locale="en-GB").new_page()

    # client1 writes to their adviser from the client zone.
    log_in(client_page, base, cast.client1.email, PASSWORD)
    client_page.get_by_test_id("role-nav").get_by_role("link", name="My adviser").click()
    panel = client_page.get_by_test_id("thread-panel")
    expect(panel.get_by_role("heading", name="Messages with your adviser")).to_be_visible()
    expect(panel.get_by_text("No messages yet.")).to_be_visible()
    expect(panel.get_by_test_id("thread-internal")).to_have_count(0)
    panel.get_by_label("Your message").fill("Could we talk about a sustainable fund?")
    panel.get_by_test_id("thread-send").click()
    expect(panel.get_by_test_id("thread-message")).to_have_count(1)
    expect(panel.get_by_test_id("thread-message")).to_contain_text("Could we talk about a sustainable fund?")
    expect(panel.get_by_text("No messages yet.")).to_be_hidden()
    expect(panel.get_by_label("Your message")).to_have_value("")

    # broker1 sees it on the client's page, notes something for the firm, and answers.
    log_in(broker_page, base, cast.broker1.email, PASSWORD)
    broker_page.goto(base + reverse("intermediaries:client-detail", args=[book.anna.pk]))
    staff = broker_page.get_by_test_id("thread-panel")
    expect(staff.get_by_test_id("thread-message")).to_contain_text("Could we talk about a sustainable fund?")
    expect(staff.get_by_test_id("thread-message")).to_contain_text("Anna Albers")
    staff.get_by_label("Your message").fill(NOTE)
    staff.get_by_label("Internal note (staff only, never shown to the customer)").check()
    staff.get_by_test_id("thread-send").click()
    expect(staff.get_by_test_id("thread-note")).to_contain_text(NOTE)
    expect(staff.get_by_test_id("thread-note")).to_contain_text("Internal note")
    staff.get_by_label("Your message").fill("Gladly! I will prepare two proposals this week.")
    staff.get_by_test_id("thread-send").click()
    expect(staff.get_by_test_id("thread-message")).to_have_count(2)
    assert list(Message.objects.order_by("id").values_list("internal", flat=True)) == [False, True, False]

    # The client's open page gets the answer by itself (the panel polls every 10 s), never the note.
    expect(panel.get_by_test_id("thread-message").nth(1)).to_contain_text(
        "Gladly! I will prepare two proposals this week.", timeout=25_000
    )
    expect(panel.get_by_test_id("thread-message")).to_have_count(2)
    expect(panel.get_by_test_id("thread-note")).to_have_count(0)
    assert NOTE not in client_page.content()
    client_page.reload()
    expect(panel.get_by_test_id("thread-message")).to_have_count(2)
    assert NOTE not in client_page.content()
    assert "Internal note" not in client_page.content()

    # What the portal told the client links to their conversation and does not speak of the note.
    client_page.goto(f"{base}/notifications/")
    expect(client_page.get_by_role("main")).to_contain_text("New message from Boris Brandt")
    assert NOTE not in client_page.content() and "Internal note" not in client_page.content()
