"""The schedule e-mail of a shipped order carries the schedule as a PDF, through real SMTP."""

import io
from datetime import UTC, datetime

import pytest
from pypdf import PdfReader

from bnpl import orders
from bnpl.models import Plan
from portal.notifications.models import OutboxAttachment, OutboxMessage
from tests.notifications.test_delivery import deliver, make_due

pytestmark = pytest.mark.django_db
Status = OutboxMessage.Status


@pytest.fixture
def shipped(shops, cast, settings):
    settings.SHIPPO_API_KEY = ""  # the carrier simulator
    order = orders.order_capture(actor=cast.merchant, order_id=shops.delta_order2.pk)  # 100.00 EUR in 4
    return orders.order_ship(
        actor=cast.merchant,
        order_id=order.pk,
        carrier="dhl_germany",
        tracking_number="00340434161094015902",
        shipped_at=datetime(2026, 3, 10, 9, 30, tzinfo=UTC),
    )


def schedule_mail(cast):
    return OutboxMessage.objects.get(channel=OutboxMessage.Channel.EMAIL, recipient=cast.client2.email)


def pdf_of(received):
    [part] = list(received.iter_attachments())
    assert part.get_content_type() == "application/pdf"
    return part.get_filename(), PdfReader(io.BytesIO(part.get_content()))


def test_the_schedule_email_carries_a_pdf_with_every_instalment(shipped, cast, smtp_settings):
    plan = Plan.objects.get(order=shipped)

    assert deliver(schedule_mail(cast)) == Status.SENT

    [received] = smtp_settings.messages
    filename, pdf = pdf_of(received)
    text = "\n".join(page.extract_text() for page in pdf.pages)
    assert filename == f"schedule-{shipped.reference}.pdf"
    assert shipped.reference in text
    for instalment in plan.instalments.all():
        assert f"{instalment.amount}" in text
        assert instalment.due_date.strftime("%Y") in text
    assert "25.00" in text and "100.00" in text


def test_an_smtp_failure_is_retried_with_the_pdf_still_attached(shipped, cast, smtp_settings):
    mail = schedule_mail(cast)
    smtp_settings.stop()

    assert deliver(mail) == Status.PENDING
    smtp_settings.start()
    make_due(mail)
    assert deliver(mail) == Status.SENT

    [received] = smtp_settings.messages
    _filename, pdf = pdf_of(received)
    assert "25.00" in pdf.pages[0].extract_text()
    assert OutboxAttachment.objects.get(message=mail).size > 1000


def test_the_sms_and_the_in_app_notice_carry_no_attachment(shipped, cast):
    assert not OutboxAttachment.objects.exclude(message__channel=OutboxMessage.Channel.EMAIL).exists()
    assert OutboxAttachment.objects.filter(message__recipient=cast.client2.email).count() == 1
