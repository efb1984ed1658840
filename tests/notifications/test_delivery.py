"""Delivery in this process, through the real SMTP client and the real twilio client to loopback fakes."""

import base64
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from portal.notifications import delivery, services
from portal.notifications.models import OutboxMessage
from portal.notifications.tasks import deliver_outbox_message, outbox_sweep
from tests.fakes.fixtures import TWILIO_FROM

Status = OutboxMessage.Status
pytestmark = pytest.mark.django_db


def sms(to="+4915112345678", body="Your code is 482913"):
    return services.sms_queue(to=to, body=body, event="tests.code")


def email(to="anna@example.com"):
    return services.email_queue(
        to=to, subject="Statement ready", body="Your statement is ready.", html_body="<p>Your statement is ready.</p>"
    )


def deliver(message):
    status = delivery.outbox_message_deliver(message_id=message.pk)
    message.refresh_from_db()
    return status


def make_due(message):
    """Time passes: the backoff is over."""
    OutboxMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))


class TestSmtp:
    def test_an_email_arrives_at_the_smtp_server_with_subject_body_and_html(self, smtp_settings):
        message = email()

        assert deliver(message) == Status.SENT

        [received] = smtp_settings.messages
        assert received["Subject"] == "Statement ready"
        assert received["To"] == "anna@example.com"
        assert received.envelope["rcpt_tos"] == ["anna@example.com"]
        assert received.get_body(("plain",)).get_content().strip() == "Your statement is ready."
        assert "<p>Your statement is ready.</p>" in received.get_body(("html",)).get_content()
        assert message.provider_message_id == received["Message-ID"] == f"<outbox-{message.pk}@partnerzone.example>"
        assert message.sent_at is not None and message.attempts == 1

    def test_a_refused_smtp_connection_is_retried_later(self, smtp_settings):
        smtp_settings.stop()
        message = email()

        assert deliver(message) == Status.PENDING
        assert message.attempts == 1
        assert message.next_attempt_at > timezone.now() + timedelta(seconds=25)
        assert "SMTP connection failed" in message.last_error

        smtp_settings.start()
        make_due(message)
        assert deliver(message) == Status.SENT
        assert len(smtp_settings.messages) == 1

    def test_a_temporary_smtp_error_is_retried_and_a_permanent_one_fails(self, smtp_settings):
        temporary, permanent = email("temp@example.com"), email("perm@example.com")
        smtp_settings.fail_next(451)
        assert deliver(temporary) == Status.PENDING
        smtp_settings.fail_next(550)
        assert deliver(permanent) == Status.FAILED
        assert "550" in permanent.last_error
        assert smtp_settings.messages == []

    def test_an_smtp_server_that_goes_silent_after_the_data_leaves_the_outcome_unknown(self, smtp_settings, settings):
        settings.EMAIL_TIMEOUT = 1
        smtp_settings.hang_after_data = 3
        message = email()

        assert deliver(message) == Status.UNKNOWN
        assert len(smtp_settings.messages) == 1  # the server did take it

        outbox_sweep()
        message.refresh_from_db()
        assert message.status == Status.UNKNOWN
        assert len(smtp_settings.messages) == 1


class TestTwilio:
    def test_an_sms_goes_through_the_real_twilio_client_and_the_sid_is_stored(self, twilio_settings):
        message = sms()

        assert deliver(message) == Status.SENT

        [received] = twilio_settings.messages
        assert (received["to"], received["from"], received["body"]) == (
            "+4915112345678",
            TWILIO_FROM,
            "Your code is 482913",
        )
        [request] = twilio_settings.requests
        user, _, token = base64.b64decode(request["authorization"].split()[1]).decode().partition(":")
        assert (user, token) == (twilio_settings.account_sid, twilio_settings.auth_token)
        assert message.provider_message_id == received["sid"]
        assert message.provider_message_id.startswith("SM") and len(message.provider_message_id) == 34

    def test_429_twice_then_success_delivers_once_with_growing_backoff(self, twilio_settings):
        twilio_settings.fail_next(429, times=2)
        message = sms()

        before = timezone.now()
        assert deliver(message) == Status.PENDING
        first_wait = message.next_attempt_at - before
        assert timedelta(seconds=29) < first_wait <= timedelta(seconds=31)
        assert outbox_sweep()["sent"] == 0  # not due yet
        assert twilio_settings.messages == []

        make_due(message)
        before = timezone.now()
        assert deliver(message) == Status.PENDING
        assert timedelta(seconds=59) < message.next_attempt_at - before <= timedelta(seconds=61)

        make_due(message)
        assert outbox_sweep()["sent"] == 1
        message.refresh_from_db()
        assert (message.status, message.attempts, message.last_error) == (Status.SENT, 3, "")
        assert len(twilio_settings.messages) == 1
        assert len(twilio_settings.requests) == 3

    def test_a_server_error_is_retried_until_the_last_attempt_then_the_message_fails(self, twilio_settings, settings):
        settings.PORTAL_OUTBOX_MAX_ATTEMPTS = 3
        twilio_settings.fail_next(500, times=3)
        message = sms()

        statuses = []
        for _ in range(3):
            make_due(message)
            statuses.append(deliver(message))

        assert statuses == [Status.PENDING, Status.PENDING, Status.FAILED]
        assert "Twilio 500" in message.last_error
        make_due(message)
        assert deliver(message) is None
        assert twilio_settings.messages == []

    def test_a_rejected_number_fails_at_once_without_retrying(self, twilio_settings):
        message = sms(to="+4915112345678")
        OutboxMessage.objects.filter(pk=message.pk).update(recipient="+12")  # a number Twilio refuses

        assert deliver(message) == Status.FAILED
        assert "Twilio 400" in message.last_error
        assert len(twilio_settings.requests) == 1

    def test_twilio_refusing_connections_leaves_the_message_pending_for_later(self, twilio_settings):
        twilio_settings.stop()
        message = sms()

        assert deliver(message) == Status.PENDING
        assert "unreachable" in message.last_error

        twilio_settings.start()
        make_due(message)
        assert deliver(message) == Status.SENT
        assert len(twilio_settings.messages) == 1

    def test_a_timeout_after_the_request_was_sent_marks_the_outcome_unknown_and_the_sweep_never_resends(
        self, twilio_settings
    ):
        twilio_settings.hang_next(seconds=3)
        message = sms()

        assert deliver(message) == Status.UNKNOWN
        assert "No answer from Twilio" in message.last_error
        assert len(twilio_settings.messages) == 1

        OutboxMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now() - timedelta(hours=1))
        outbox_sweep()
        deliver_outbox_message(message.pk)

        message.refresh_from_db()
        assert message.status == Status.UNKNOWN
        assert len(twilio_settings.messages) == 1
        assert len(twilio_settings.requests) == 1


class TestRecovery:
    def test_a_row_left_sending_before_the_send_started_is_recovered_and_delivered_once(self, twilio_settings):
        message = sms()
        crashed_at = timezone.now() - timedelta(minutes=6)
        OutboxMessage.objects.filter(pk=message.pk).update(status=Status.SENDING, claimed_at=crashed_at, attempts=1)

        result = outbox_sweep()
        outbox_sweep()

        message.refresh_from_db()
        assert result["recovered"] == 1 and result["sent"] == 1
        assert (message.status, message.attempts) == (Status.SENT, 2)
        assert len(twilio_settings.messages) == 1

    def test_a_row_left_sending_after_the_send_started_becomes_unknown_and_is_not_sent(self, twilio_settings):
        message = sms()
        crashed_at = timezone.now() - timedelta(minutes=6)
        OutboxMessage.objects.filter(pk=message.pk).update(
            status=Status.SENDING, claimed_at=crashed_at, send_started_at=crashed_at, attempts=1
        )

        assert outbox_sweep()["unknown"] == 1

        message.refresh_from_db()
        assert message.status == Status.UNKNOWN
        assert "may have the message" in message.last_error
        assert twilio_settings.requests == []

    def test_a_row_sending_for_less_than_five_minutes_is_left_alone(self, twilio_settings):
        message = sms()
        OutboxMessage.objects.filter(pk=message.pk).update(status=Status.SENDING, claimed_at=timezone.now())

        assert outbox_sweep() == {"recovered": 0, "unknown": 0, "sent": 0, "pending": 0, "failed": 0}
        message.refresh_from_db()
        assert message.status == Status.SENDING

    def test_running_the_task_again_for_a_sent_row_sends_nothing(self, twilio_settings):
        message = sms()
        deliver(message)

        assert deliver_outbox_message(message.pk) is None
        outbox_sweep()

        message.refresh_from_db()
        assert (message.status, message.attempts) == (Status.SENT, 1)
        assert len(twilio_settings.requests) == 1


def test_the_dev_transport_marks_sent_without_leaving_the_machine(settings):
    settings.PORTAL_SMS_TRANSPORT = "dev"
    message = sms()

    assert deliver(message) == Status.SENT
    assert message.provider_message_id == f"dev-{message.pk}"


def test_an_unknown_transport_name_keeps_the_message_pending(settings):
    settings.PORTAL_SMS_TRANSPORT = "pigeon"
    message = sms()

    assert deliver(message) == Status.PENDING
    assert message.send_started_at is None
    assert "pigeon" in message.last_error


@pytest.mark.django_db(transaction=True)
def test_parallel_deliveries_of_one_row_send_it_once(twilio_settings):
    # Written directly, as if the publish after commit had failed: no delivery has run yet.
    message = OutboxMessage.objects.create(channel="sms", recipient="+4915112345678", body="Your code is 482913")
    start = threading.Barrier(6)
    results = []

    def worker():
        try:
            start.wait(timeout=10)
            results.append(delivery.outbox_message_deliver(message_id=message.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(results, key=str) == [None] * 5 + [Status.SENT]
    assert len(twilio_settings.messages) == 1
    message.refresh_from_db()
    assert (message.status, message.attempts) == (Status.SENT, 1)
