"""The code SMS through the real twilio client against the loopback fake: slow, down, or unsure.

The code is never lost (the outbox row waits), the client sees "sending" meanwhile, 429 and
refused connections are retried with backoff, and a send whose outcome is unknown is never
repeated by the system; only the client's own "send a new code" sends another.
"""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from portal.notifications.delivery import outbox_message_deliver, outbox_sweep
from portal.notifications.models import OutboxMessage
from portal.notifications.reconcile import outbox_reconcile
from signing import services
from signing.models import SignatureEvidence, SignatureRequest, SigningCodeSend
from tests.fakes.fixtures import wait_until

from .conftest import code_from, opened, sign, transfer

pytestmark = pytest.mark.django_db
Status = OutboxMessage.Status


def ask_for_code(client, request):
    return client.post(
        reverse("signing:code-request", args=[request.pk]),
        {"content_hash": request.content_hash},
        HTTP_HX_REQUEST="true",
    )


def code_sms() -> OutboxMessage:
    return OutboxMessage.objects.get(event="signing.code")


def make_due(message):
    OutboxMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))


def status_panel(client, request) -> str:
    return client.get(reverse("signing:code-status", args=[request.pk])).text


@pytest.fixture
def sent(cast, book):
    return opened(transfer(cast.broker1, book.anna), cast.client1)


def test_twilio_answering_429_twice_delays_the_code_and_the_client_sees_it_sending(
    twilio_settings, cast, sent, login_as
):
    client = login_as(cast.client1)
    twilio_settings.fail_next(429, times=2)
    assert ask_for_code(client, sent).status_code == 200
    message = code_sms()

    assert outbox_message_deliver(message_id=message.pk) == Status.PENDING
    assert "Sending the code" in status_panel(client, sent)
    make_due(message)
    assert outbox_message_deliver(message_id=message.pk) == Status.PENDING
    assert twilio_settings.messages == []

    make_due(message)
    assert outbox_message_deliver(message_id=message.pk) == Status.SENT
    [sms] = twilio_settings.messages
    assert sms["to"] == "+4915112345001" and "1,250.00 EUR" in sms["body"] and "Max Mustermann" in sms["body"]
    assert 'data-delivery="sent"' in status_panel(client, sent)

    evidence = sign(sent, cast.client1, code_from(sms["body"]))
    assert evidence.sms_message_id == sms["sid"]
    assert len(twilio_settings.requests) == 3


def test_twilio_down_keeps_the_code_waiting_until_it_is_back(twilio_settings, cast, sent, login_as):
    client = login_as(cast.client1)
    twilio_settings.stop()
    ask_for_code(client, sent)
    message = code_sms()

    assert outbox_message_deliver(message_id=message.pk) == Status.PENDING
    assert "unreachable" in OutboxMessage.objects.get(pk=message.pk).last_error
    assert 'data-delivery="pending"' in status_panel(client, sent)

    twilio_settings.start()
    make_due(message)
    assert outbox_message_deliver(message_id=message.pk) == Status.SENT
    [sms] = twilio_settings.messages
    sign(sent, cast.client1, code_from(sms["body"]))
    assert SignatureRequest.objects.get(pk=sent.pk).status == "signed"


def test_a_timeout_after_sending_is_never_resent_by_the_system(twilio_settings, cast, sent, login_as):
    client = login_as(cast.client1)
    twilio_settings.hang_next(seconds=3)
    ask_for_code(client, sent)
    message = code_sms()

    assert outbox_message_deliver(message_id=message.pk) == Status.UNKNOWN
    OutboxMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now() - timedelta(hours=1))
    outbox_sweep()
    outbox_message_deliver(message_id=message.pk)

    assert len(twilio_settings.messages) == 1  # Twilio took it once; nobody sent it again
    assert len(twilio_settings.requests) == 1
    assert "could not confirm" in status_panel(client, sent)

    # The SMS did arrive: its code signs, and the evidence says the provider id is unknown.
    [sms] = twilio_settings.messages
    evidence = sign(sent, cast.client1, code_from(sms["body"]))
    assert evidence.sms_message_id == "" and evidence.outbox_message_id == message.pk


def test_after_an_unknown_outcome_only_the_client_asks_for_another_code(twilio_settings, cast, sent, login_as):
    client = login_as(cast.client1)
    twilio_settings.hang_next(seconds=3)
    ask_for_code(client, sent)
    first = code_sms()
    outbox_message_deliver(message_id=first.pk)
    SigningCodeSend.objects.update(created_at=timezone.now() - timedelta(seconds=61))

    ask_for_code(client, sent)
    second = OutboxMessage.objects.filter(event="signing.code").exclude(pk=first.pk).get()
    assert outbox_message_deliver(message_id=second.pk) == Status.SENT

    assert len(twilio_settings.messages) == 2
    old_code, new_code = (code_from(m["body"]) for m in twilio_settings.messages)
    if old_code != new_code:
        with pytest.raises(Exception, match="Wrong code"):
            sign(sent, cast.client1, old_code)
    sign(sent, cast.client1, new_code)


def test_a_code_sms_twilio_took_before_the_connection_dropped_is_settled_and_its_sid_is_evidence(
    twilio_settings, cast, sent, login_as
):
    client = login_as(cast.client1)
    twilio_settings.drop_next(accept=True)
    ask_for_code(client, sent)
    message = code_sms()
    assert outbox_message_deliver(message_id=message.pk) == Status.UNKNOWN
    assert "could not confirm" in status_panel(client, sent)

    assert outbox_reconcile().sent == 1

    [sms] = twilio_settings.messages
    assert 'data-delivery="sent"' in status_panel(client, sent)
    evidence = sign(sent, cast.client1, code_from(sms["body"]))
    assert evidence.sms_message_id == sms["sid"]


def test_a_code_sms_twilio_never_got_is_not_resent_once_its_round_ended(
    twilio_settings, cast, sent, login_as, settings
):
    settings.PORTAL_OUTBOX_RECONCILE_GRACE_SECONDS = 0
    client = login_as(cast.client1)
    twilio_settings.drop_next(accept=False)
    ask_for_code(client, sent)
    message = code_sms()
    assert outbox_message_deliver(message_id=message.pk) == Status.UNKNOWN
    services.signature_request_cancel(actor=cast.broker1, request_id=sent.pk)

    assert outbox_reconcile().failed == 1
    outbox_sweep()

    message.refresh_from_db()
    assert message.status == Status.FAILED and "never handed over" in message.last_error
    assert twilio_settings.messages == []
    assert sum(1 for r in twilio_settings.requests if r["method"] == "POST") == 1


@pytest.fixture
def worker_media(settings, monkeypatch):
    """The worker subprocess inherits the environment: it must store and read files where the test does."""
    monkeypatch.setenv("MEDIA_ROOT", str(settings.MEDIA_ROOT))
    return settings.MEDIA_ROOT


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_delivers_the_code_and_renders_the_signed_pdf(worker_media, real_worker, cast, book, fake_twilio):
    request = opened(transfer(cast.broker1, book.anna), cast.client1)
    services.signing_code_request(actor=cast.client1, request_id=request.pk, content_hash=request.content_hash)

    [sms] = fake_twilio.wait_for_messages(1)
    evidence = sign(request, cast.client1, code_from(sms["body"]))
    wait_until(
        lambda: SignatureEvidence.objects.filter(pk=evidence.pk).exclude(pdf="").exists(),
        message="signed PDF rendered by the worker",
    )
    evidence.refresh_from_db()
    assert evidence.sms_message_id == sms["sid"]
    assert evidence.pdf.read().startswith(b"%PDF-")
    # The code left the outbox row when Twilio took it; signing left nothing to redact.
    message = code_sms()
    assert (message.status, message.secret) == ("sent", "") and code_from(sms["body"]) not in message.body
    wait_until(
        lambda: re.search(r"Task signing\.tasks\.signed_request_finalise\[[^]]+\] succeeded", real_worker.log()),
        message="the finalise task reported done",
    )
