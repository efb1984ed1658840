"""SMS whose outcome is unknown, settled by asking the loopback Twilio (the real client, its list API)."""

from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from portal.audit.models import AuditEvent
from portal.celery import app
from portal.notifications import delivery, reconcile, services
from portal.notifications.models import OutboxMessage
from portal.notifications.tasks import outbox_reconcile
from portal.notifications.transports import ProviderUnreachable
from tests.fakes.fixtures import TWILIO_FROM

Status = OutboxMessage.Status
pytestmark = pytest.mark.django_db

TO = "+4915112345678"


def sms(body="Your statement is ready", to=TO):
    return services.sms_queue(to=to, body=body, event="tests.notice")


def deliver(message):
    status = delivery.outbox_message_deliver(message_id=message.pk)
    message.refresh_from_db()
    return status


def unknown_sms(fake, *, taken: bool, body="Your statement is ready"):
    """An SMS whose connection dropped after (taken) or before Twilio took it: either way, unknown."""
    before = len(fake.messages)
    fake.drop_next(accept=taken)
    message = sms(body)
    assert deliver(message) == Status.UNKNOWN
    assert len(fake.messages) == before + (1 if taken else 0)
    return message


def posts(fake) -> int:
    return sum(1 for r in fake.requests if r["method"] == "POST")


def ask(**kwargs):
    return reconcile.outbox_reconcile(**kwargs)


def test_an_sms_twilio_took_before_the_connection_dropped_is_settled_as_sent(twilio_settings):
    message = unknown_sms(twilio_settings, taken=True)
    [taken] = twilio_settings.messages

    result = ask()

    message.refresh_from_db()
    assert (result.sent, result.pending, result.unknown) == (1, 0, 0)
    assert (message.status, message.provider_message_id, message.last_error) == (Status.SENT, taken["sid"], "")
    assert message.sent_at is not None
    assert message.provider_checked_at is not None and taken["sid"] in message.provider_check
    [event] = AuditEvent.objects.filter(action="notifications.outbox_reconciled")
    assert (event.object_id, event.actor_label) == (str(message.pk), "system")
    assert event.changes["status"] == ["unknown", "sent"] and event.changes["provider_message_id"] == taken["sid"]
    # The question went through the real client: the list endpoint, filtered by recipient and sender.
    [listing] = [r for r in twilio_settings.requests if r["method"] == "GET"]
    assert (listing["query"]["To"], listing["query"]["From"]) == (TO, TWILIO_FROM)
    assert listing["query"]["DateSent>"] < listing["query"]["DateSent<"]
    assert posts(twilio_settings) == 1


def test_an_sms_twilio_never_got_waits_out_the_grace_then_is_sent_exactly_once(twilio_settings, settings):
    message = unknown_sms(twilio_settings, taken=False)

    early = ask()
    message.refresh_from_db()
    assert early.unknown == 1 and message.status == Status.UNKNOWN
    assert "grace period" in message.provider_check

    settings.PORTAL_OUTBOX_RECONCILE_GRACE_SECONDS = 0  # time passes
    result = ask()  # the row goes back to pending and its delivery is queued on commit

    message.refresh_from_db()
    assert result.pending == 1
    assert (message.status, message.send_started_at, message.text_digest) == (Status.PENDING, None, "")
    assert "never handed over" in message.provider_check
    assert deliver(message) == Status.SENT
    assert deliver(message) is None
    ask()
    assert [m["body"] for m in twilio_settings.messages] == ["Your statement is ready"]
    assert posts(twilio_settings) == 2  # the dropped one Twilio never took, and this one
    assert AuditEvent.objects.get(action="notifications.outbox_reconciled").changes["status"] == ["unknown", "pending"]


def test_twilio_down_leaves_the_sms_unknown_and_says_so(twilio_settings):
    message = unknown_sms(twilio_settings, taken=True)
    twilio_settings.stop()

    result = ask()

    message.refresh_from_db()
    assert isinstance(result.error, ProviderUnreachable)
    assert (result.not_asked, result.sent) == (1, 0)
    assert message.status == Status.UNKNOWN
    assert message.provider_check.startswith("Could not ask Twilio: Twilio unreachable")
    assert not AuditEvent.objects.filter(action="notifications.outbox_reconciled").exists()

    twilio_settings.start()
    assert ask().sent == 1


def test_twilio_answering_503_leaves_the_sms_unknown(twilio_settings):
    message = unknown_sms(twilio_settings, taken=True)
    twilio_settings.fail_next(503)

    result = ask()

    message.refresh_from_db()
    assert isinstance(result.error, ProviderUnreachable) and message.status == Status.UNKNOWN
    assert "Twilio 503" in message.provider_check


def test_the_beat_task_retries_with_backoff_while_twilio_is_down_then_gives_up(twilio_settings):
    message = unknown_sms(twilio_settings, taken=True)
    twilio_settings.stop()

    outcome = outbox_reconcile.apply()

    assert outcome.state == "FAILURE" and isinstance(outcome.result, ProviderUnreachable)
    message.refresh_from_db()
    assert message.status == Status.UNKNOWN
    assert issubclass(ProviderUnreachable, outbox_reconcile.autoretry_for)  # retried as a transient error
    assert django_settings.CELERY_BEAT_SCHEDULE["reconcile-unknown-sms"]["task"] in app.tasks


def test_the_beat_task_reports_what_it_settled(twilio_settings):
    unknown_sms(twilio_settings, taken=True)

    assert outbox_reconcile.apply().result == {
        "sent": 1,
        "pending": 0,
        "failed": 0,
        "unknown": 0,
        "skipped": 0,
        "not_asked": 0,
    }


def test_another_rows_copy_with_the_same_text_is_not_taken_for_this_one(twilio_settings, settings):
    settings.PORTAL_OUTBOX_RECONCILE_GRACE_SECONDS = 0
    first = sms()
    assert deliver(first) == Status.SENT
    second = unknown_sms(twilio_settings, taken=False)
    [copy] = twilio_settings.messages  # the first one's, a moment ago, with the same text

    result = ask()

    second.refresh_from_db()
    assert result.pending == 1 and second.status == Status.PENDING
    assert (
        second.provider_message_id == "" and copy["sid"] == OutboxMessage.objects.get(pk=first.pk).provider_message_id
    )


def test_the_match_is_found_among_many_pages_and_other_texts(twilio_settings, settings):
    settings.PORTAL_OUTBOX_RECONCILE_PAGE_SIZE = 2
    now = timezone.now()
    for n in range(3):
        twilio_settings.add_message(
            to=TO, body=f"Older notice {n}", sent_at=now - timedelta(hours=n + 1), sender=TWILIO_FROM
        )
    message = unknown_sms(twilio_settings, taken=True, body="Your statement is ready")
    for n in range(3):
        twilio_settings.add_message(
            to=TO, body=f"Later notice {n}", sent_at=now + timedelta(seconds=n), sender=TWILIO_FROM
        )
    twilio_settings.add_message(to="+4915100000000", body="Your statement is ready", sent_at=now, sender=TWILIO_FROM)

    assert ask().sent == 1

    message.refresh_from_db()
    assert message.provider_message_id == twilio_settings.messages[3]["sid"]
    pages = [r for r in twilio_settings.requests if r["method"] == "GET"]
    assert len(pages) == 4 and pages[-1]["query"]["PageToken"].startswith("PA")


def test_copies_from_another_time_or_sender_are_not_a_match(twilio_settings, settings):
    settings.PORTAL_OUTBOX_RECONCILE_GRACE_SECONDS = 0
    unknown_sms(twilio_settings, taken=False)
    now = timezone.now()
    twilio_settings.add_message(
        to=TO, body="Your statement is ready", sent_at=now - timedelta(hours=20), sender=TWILIO_FROM
    )
    twilio_settings.add_message(to=TO, body="Your statement is ready", sent_at=now, sender="+4930999999999")

    assert ask().pending == 1


def test_email_and_settled_messages_are_left_to_staff(twilio_settings, smtp_settings):
    smtp_settings.hang_after_data = 3
    mail = services.email_queue(to="anna@example.com", subject="Statement", body="Ready.")
    assert deliver(mail) == Status.UNKNOWN
    sent = sms()
    deliver(sent)

    result = ask(message_ids=[mail.pk, sent.pk])

    assert (result.skipped, result.sent) == (2, 0)
    mail.refresh_from_db()
    assert (mail.status, mail.provider_checked_at) == (Status.UNKNOWN, None)
    assert not [r for r in twilio_settings.requests if r["method"] == "GET"]


def test_a_message_whose_secret_is_gone_fails_instead_of_being_sent_again(twilio_settings, settings):
    settings.PORTAL_OUTBOX_RECONCILE_GRACE_SECONDS = 0
    twilio_settings.drop_next(accept=False)
    message = services.sms_queue(to=TO, body="Code ⟦secret⟧", secret="123456", event="tests.code")
    assert deliver(message) == Status.UNKNOWN

    result = ask()

    message.refresh_from_db()
    assert result.failed == 1
    assert message.status == Status.FAILED and "secret part was destroyed" in message.last_error
    assert posts(twilio_settings) == 1
