"""In a real browser: the shopper finds the schedule e-mail of a shipped order in the dev outbox and
downloads the PDF attached to it."""

import pytest
from django.test import override_settings

from bnpl import orders
from portal.notifications.models import OutboxMessage
from tests.conftest import login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@override_settings(DEBUG=True, PORTAL_DEV_OUTBOX=True, PORTAL_EMAIL_TRANSPORT="dev", SHIPPO_API_KEY="")
def test_the_shopper_downloads_the_schedule_pdf_attached_to_the_email(browser, live_server, client, shops, cast):
    order = orders.order_capture(actor=cast.merchant, order_id=shops.delta_order2.pk)
    orders.order_ship(actor=cast.merchant, order_id=order.pk, carrier="ups", tracking_number="1Z999AA10123456784")
    assert OutboxMessage.objects.get(recipient=cast.client2.email).status == OutboxMessage.Status.SENT
    login(client, cast.client2)
    context = browser.new_context(locale="en-GB", accept_downloads=True)
    host = live_server.url.split("//")[1].split(":")[0]
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "domain": host, "path": "/"}]
    )
    page = context.new_page()

    page.goto(f"{live_server.url}/notifications/dev-outbox/?channel=email")
    mail = page.get_by_test_id("outbox-message").filter(has_text=order.reference)
    link = mail.get_by_role("link", name=f"schedule-{order.reference}.pdf")
    with page.expect_download() as info:
        link.click()

    download = info.value
    assert download.suggested_filename == f"schedule-{order.reference}.pdf"
    with open(download.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"
    context.close()
