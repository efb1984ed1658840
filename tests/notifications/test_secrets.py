"""A message's secret part (a one-time code): sealed in the row, filled in by the transport only,
dropped at hand-over or when its owner destroys it, and never in clear in any column of the row.
"""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from portal.notifications import delivery, sealed, selectors, services
from portal.notifications.models import DevDelivery, OutboxMessage
from portal.notifications.transports import message_texts

Status = OutboxMessage.Status
pytestmark = pytest.mark.django_db

CODE = "482913"
BODY = f"Partnerzone: your code is {sealed.PLACEHOLDER}. Never share it."


def code_sms(**fields):
    return services.sms_queue(to="+4915112345678", body=BODY, secret=CODE, event="tests.code", **fields)


def row_columns(message) -> dict:
    """The row as the database holds it, every column, read without the model."""
    table = OutboxMessage._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table} WHERE id = %s", [message.pk])  # noqa: S608 (our own table name)
        names = [column[0] for column in cursor.description]
        return dict(zip(names, cursor.fetchone(), strict=True))


def holds_code(message) -> bool:
    return any(CODE in str(value) for value in row_columns(message).values())


def deliver(message):
    status = delivery.outbox_message_deliver(message_id=message.pk)
    message.refresh_from_db()
    return status


def make_due(message):
    OutboxMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))


class TestSealing:
    def test_the_row_keeps_the_code_only_sealed_and_the_twilio_sms_carries_it(self, twilio_settings):
        message = code_sms()

        assert not holds_code(message)
        assert message.secret and message.body == BODY
        assert message_texts(message)[0] == "Partnerzone: your code is 482913. Never share it."

        assert deliver(message) == Status.SENT

        [received] = twilio_settings.messages
        assert received["body"] == "Partnerzone: your code is 482913. Never share it."
        columns = row_columns(message)
        assert columns["secret"] == "" and columns["secret_wiped_at"] is not None
        assert not holds_code(message)
        assert message.body_display == "Partnerzone: your code is ••••••. Never share it."

    def test_a_send_twilio_refused_for_now_keeps_the_secret_until_the_hand_over(self, twilio_settings):
        twilio_settings.fail_next(429)
        message = code_sms()

        assert deliver(message) == Status.PENDING
        assert message.secret and message.secret_wiped_at is None

        make_due(message)
        assert deliver(message) == Status.SENT
        assert message.secret == "" and message.secret_wiped_at is not None
        [received] = twilio_settings.messages
        assert CODE in received["body"]

    def test_an_unknown_outcome_drops_the_secret_as_the_provider_may_hold_it(self, twilio_settings):
        twilio_settings.hang_next(seconds=3)
        message = code_sms()

        assert deliver(message) == Status.UNKNOWN

        assert message.secret == "" and message.secret_wiped_at is not None
        assert not holds_code(message)

    def test_a_refused_number_fails_and_drops_the_secret(self, twilio_settings):
        message = code_sms()
        OutboxMessage.objects.filter(pk=message.pk).update(recipient="+12")

        assert deliver(message) == Status.FAILED
        assert message.secret == "" and message.secret_wiped_at is not None

    def test_a_secret_needs_its_place_in_the_text(self):
        with pytest.raises(ValueError, match="put ⟦secret⟧"):
            services.sms_queue(to="+4915112345678", body="Your code is 482913", secret=CODE)

        assert not OutboxMessage.objects.exists()

    def test_a_message_without_a_secret_is_stored_and_sent_as_written(self, twilio_settings):
        message = services.sms_queue(to="+4915112345678", body="Your statement is ready")

        assert deliver(message) == Status.SENT
        assert (message.secret, message.secret_wiped_at) == ("", None)
        assert twilio_settings.messages[0]["body"] == "Your statement is ready"

    def test_a_secret_sealed_under_the_old_key_still_opens_after_a_rotation(self, settings, twilio_settings):
        settings.SECRET_KEY = "old-key-" + "x" * 50
        message = code_sms()
        settings.SECRET_KEY = "new-key-" + "y" * 50
        settings.SECRET_KEY_FALLBACKS = ["old-key-" + "x" * 50]

        assert deliver(message) == Status.SENT
        assert CODE in twilio_settings.messages[0]["body"]

    def test_a_secret_no_key_opens_fails_the_message_without_sending(self, settings, twilio_settings):
        settings.SECRET_KEY = "old-key-" + "x" * 50
        message = code_sms()
        settings.SECRET_KEY = "new-key-" + "y" * 50
        settings.SECRET_KEY_FALLBACKS = []

        assert deliver(message) == Status.FAILED
        assert "does not open" in message.last_error
        assert message.secret == ""
        assert twilio_settings.requests == []


class TestDestroy:
    def test_the_owner_destroys_a_waiting_secret_and_the_message_is_never_sent(self, twilio_settings):
        message = code_sms()

        assert services.outbox_secret_destroy(message_ids=[message.pk], reason="Not sent: the code expired.") == 1

        message.refresh_from_db()
        assert (message.status, message.secret, message.last_error) == (
            Status.FAILED,
            "",
            "Not sent: the code expired.",
        )
        assert message.secret_wiped_at is not None
        make_due(message)
        assert deliver(message) is None
        assert twilio_settings.requests == []

    def test_destroying_again_or_without_a_secret_changes_nothing(self):
        message = code_sms()
        plain = services.sms_queue(to="+4915112345678", body="Your statement is ready")
        services.outbox_secret_destroy(message_ids=[message.pk])
        first_wipe = OutboxMessage.objects.get(pk=message.pk).secret_wiped_at

        assert services.outbox_secret_destroy(message_ids=[message.pk, plain.pk, None]) == 0

        assert OutboxMessage.objects.get(pk=message.pk).secret_wiped_at == first_wipe
        plain.refresh_from_db()
        assert (plain.status, plain.secret_wiped_at) == (Status.PENDING, None)

    def test_the_dev_copy_shows_the_code_until_the_owner_destroys_it(self, settings):
        settings.PORTAL_SMS_TRANSPORT = "dev"
        message = code_sms()

        assert deliver(message) == Status.SENT
        assert not holds_code(message)  # the row itself: the copy is the dev "provider's"
        assert DevDelivery.objects.get(message=message).body == "Partnerzone: your code is 482913. Never share it."
        assert selectors.dev_message_text(message=message) == "Partnerzone: your code is 482913. Never share it."

        services.outbox_secret_destroy(message_ids=[message.pk])

        assert DevDelivery.objects.get(message=message).body == "Partnerzone: your code is ••••••. Never share it."

    def test_a_message_whose_secret_is_gone_is_not_requeued(self, cast):
        message = code_sms()
        services.outbox_secret_destroy(message_ids=[message.pk])
        plain = services.sms_queue(to="+4915112345678", body="Your statement is ready")
        OutboxMessage.objects.filter(pk=plain.pk).update(status=Status.FAILED)

        assert services.outbox_messages_requeue(actor=cast.admin, message_ids=[message.pk, plain.pk]) == 1

        assert OutboxMessage.objects.get(pk=message.pk).status == Status.FAILED
        assert OutboxMessage.objects.get(pk=plain.pk).status == Status.PENDING


class TestSendBefore:
    def test_a_message_past_its_time_is_not_sent_and_its_secret_goes(self, twilio_settings):
        message = code_sms(send_before=timezone.now() - timedelta(seconds=1))

        assert deliver(message) == Status.FAILED

        assert "of no use after" in message.last_error
        assert message.secret == "" and message.secret_wiped_at is not None
        assert twilio_settings.requests == []

    def test_the_sweep_drops_secrets_past_their_time_without_any_worker(self, twilio_settings):
        waiting = code_sms(send_before=timezone.now() + timedelta(minutes=30))
        OutboxMessage.objects.filter(pk=waiting.pk).update(next_attempt_at=timezone.now() + timedelta(hours=1))
        late = code_sms(send_before=timezone.now() - timedelta(seconds=1))
        OutboxMessage.objects.filter(pk=late.pk).update(next_attempt_at=timezone.now() + timedelta(hours=1))

        result = delivery.outbox_sweep()

        assert result["failed"] == 1
        late.refresh_from_db()
        waiting.refresh_from_db()
        assert (late.status, late.secret) == (Status.FAILED, "")
        assert waiting.status == Status.PENDING and waiting.secret
        assert twilio_settings.requests == []
