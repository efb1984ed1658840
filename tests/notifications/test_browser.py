"""In a real browser at phone width: the pages fit, and marking read works through htmx under the CSP."""

import pytest

from portal.notifications import registry, services
from portal.notifications.models import Notification
from tests.conftest import login
from tests.factories import UserFactory

# Chromium comes from pytest-playwright's `browser` fixture (launch arguments in tests/e2e/conftest.py).
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def phone(browser, live_server, client, settings):
    """A 375 px wide Chromium page, logged in as a client with a verified second factor."""
    settings.DEBUG = True  # the dev outbox exists only in development
    settings.PORTAL_DEV_OUTBOX = True
    user = UserFactory(email="phone@example.com", first_name="Pia", phone="+4915112349999")
    login(client, user)
    context = browser.new_context(viewport={"width": 375, "height": 740}, locale="en-GB")
    host = live_server.url.split("//")[1].split(":")[0]
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "domain": host, "path": "/"}]
    )
    page = context.new_page()
    errors = []
    page.on("console", lambda msg: errors.append(msg) if msg.type == "error" else None)
    page.user = user
    # The browser's own favicon request is not the page's business.
    page.console_errors = lambda: [m.text for m in errors if not m.location.get("url", "").endswith("/favicon.ico")]
    yield page
    context.close()


def fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_notification_is_marked_read_in_place_on_a_phone(phone, live_server):
    services.notify(user=phone.user, event="security.password_changed", link="/notifications/preferences/")

    phone.goto(f"{live_server.url}/notifications/")
    item = phone.get_by_test_id("notification")
    assert "Your password was changed" in item.inner_text()
    assert fits_the_screen(phone)
    phone.get_by_role("button", name="Mark as read").click()

    phone.wait_for_selector("[data-testid=notification]:not([data-unread])", timeout=10_000)
    assert phone.url == f"{live_server.url}/notifications/"  # swapped in place, no page load
    assert Notification.objects.get(user=phone.user).read_at is not None
    assert phone.console_errors() == []


def test_the_preferences_and_the_dev_outbox_fit_a_phone(phone, live_server):
    services.sms_queue(to="+4915112349999", body="Your signing code is 123456 " * 4)

    phone.goto(f"{live_server.url}/notifications/preferences/")
    rows = [e for e in registry.event_list(configurable_only=True) if e.concerns(phone.user)]
    assert phone.get_by_role("checkbox").count() == sum(len(e.channels) for e in rows)  # SMS only where it exists
    assert fits_the_screen(phone)

    phone.goto(f"{live_server.url}/notifications/dev-outbox/")
    assert "Your signing code is 123456" in phone.get_by_test_id("outbox-body").inner_text()
    assert fits_the_screen(phone)
    assert phone.console_errors() == []
