"""The SMS provider failing while a client verifies their number (the real twilio client against the
loopback fake): the page says what happened in words, and the number is never verified without its code.
"""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from clients.models import Client
from portal.accounts import phone_verification as pv
from portal.accounts.models import PhoneCodeSend, User
from portal.notifications.delivery import outbox_message_deliver
from portal.notifications.models import OutboxMessage
from portal.notifications.selectors import dev_message_text
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db
Status = OutboxMessage.Status
NEW_NUMBER = "+4915199990007"


@pytest.fixture
def anna(cast):
    return Client.objects.create(
        number="C1001", first_name="Anna", last_name="Albers", advisor=cast.broker1, user=cast.client1
    )


def change_number(client):
    response = client.post(
        reverse("clients:profile-mobile"), {"phone": NEW_NUMBER, "password": PASSWORD}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    return OutboxMessage.objects.filter(event=pv.SMS_EVENT).order_by("-id").first()


def status(client) -> str:
    return client.get(reverse("clients:profile-mobile-status")).text


def verify(client, code: str):
    return client.post(reverse("clients:profile-mobile-verify"), {"code": code}, HTTP_HX_REQUEST="true")


def make_due(message) -> None:
    OutboxMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))


def verified() -> bool:
    return User.objects.get(email="client1@example.com").phone_verified_at is not None


def code_of(text: str) -> str:
    return re.search(r"(?<!\d)\d{6}(?!\d)", text).group(0)


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_twilio_not_answering_keeps_the_code_waiting_and_the_page_says_so(twilio_settings, cast, anna, login_as):
    client = login_as(cast.client1)
    twilio_settings.fail_next(503, times=2)
    message = change_number(client)

    assert outbox_message_deliver(message_id=message.pk) == Status.PENDING
    page = status(client)
    assert 'data-delivery="pending"' in page
    assert "Our SMS provider does not answer right now; we keep trying." in page
    assert "wrong" not in page.lower()

    # Guessing meanwhile does not verify; the code waits sealed in the outbox.
    response = verify(client, wrong(code_of(dev_message_text(message=message))))
    assert response.status_code == 400 and "Wrong code" in response.text
    assert not verified()

    make_due(message)
    assert outbox_message_deliver(message_id=message.pk) == Status.PENDING
    make_due(message)
    assert outbox_message_deliver(message_id=message.pk) == Status.SENT
    [sms] = twilio_settings.messages
    assert sms["to"] == NEW_NUMBER
    assert 'data-delivery="sent"' in status(client)

    assert verify(client, code_of(sms["body"])).status_code == 200
    assert verified()


def test_twilio_refusing_the_number_says_the_sms_could_not_be_sent(twilio_settings, cast, anna, login_as):
    client = login_as(cast.client1)
    twilio_settings.fail_next(400)
    message = change_number(client)

    assert outbox_message_deliver(message_id=message.pk) == Status.FAILED

    page = status(client)
    assert 'data-delivery="failed"' in page
    assert f"The SMS could not be sent to {NEW_NUMBER}. Check the number and ask for a new code" in page
    assert OutboxMessage.objects.get(pk=message.pk).secret == ""  # the code left no copy behind
    assert twilio_settings.messages == []
    assert not verified()
    assert 'data-testid="mobile-send-code"' in client.get(reverse("clients:profile")).text

    # A new code, once Twilio takes it, verifies the number.
    PhoneCodeSend.objects.update(created_at=timezone.now() - timedelta(seconds=61))
    client.post(reverse("clients:profile-mobile-code"), HTTP_HX_REQUEST="true")
    second = OutboxMessage.objects.filter(event=pv.SMS_EVENT).exclude(pk=message.pk).get()
    assert outbox_message_deliver(message_id=second.pk) == Status.SENT
    [sms] = twilio_settings.messages
    assert verify(client, code_of(sms["body"])).status_code == 200
    assert verified()


def test_twilio_unsure_whether_it_sent_is_said_and_never_verifies_by_itself(twilio_settings, cast, anna, login_as):
    client = login_as(cast.client1)
    twilio_settings.hang_next(seconds=3)
    message = change_number(client)

    assert outbox_message_deliver(message_id=message.pk) == Status.UNKNOWN

    page = status(client)
    assert 'data-delivery="unknown"' in page and "We could not confirm that the SMS left." in page
    assert not verified()
    assert len(twilio_settings.requests) == 1  # not repeated by the system
