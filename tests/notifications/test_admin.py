from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from portal.audit.models import AuditEvent
from portal.notifications import delivery, services
from portal.notifications.models import OutboxMessage
from tests.factories import UserFactory

Status = OutboxMessage.Status
CHANGELIST = reverse("admin:notifications_outboxmessage_changelist")


def outbox(status, **fields):
    return OutboxMessage.objects.create(
        channel="sms", recipient="+4915112345001", body="Code 1", status=status, attempts=3, **fields
    )


def test_requeueing_unknown_and_failed_messages_makes_them_pending_and_audits_each(cast, login_as, settings):
    settings.PORTAL_SMS_TRANSPORT = "dev"
    unknown = outbox(Status.UNKNOWN, last_error="No answer from Twilio")
    failed = outbox(Status.FAILED)
    sent = outbox(Status.SENT, provider_message_id="SM1")

    response = login_as(cast.admin).post(
        CHANGELIST, {"action": "requeue", "_selected_action": [unknown.pk, failed.pk, sent.pk]}, follow=True
    )

    assert response.status_code == 200
    assert "2 messages requeued." in response.text
    assert "1 message was skipped" in response.text
    events = sorted(AuditEvent.objects.filter(action="notifications.outbox_requeued"), key=lambda e: int(e.object_id))
    assert [(e.object_id, e.actor, e.changes["status"]) for e in events] == [
        (str(unknown.pk), cast.admin, ["unknown", "pending"]),
        (str(failed.pk), cast.admin, ["failed", "pending"]),
    ]
    assert all(e.ip == "127.0.0.1" and e.request_id for e in events)
    for message in (unknown, failed):
        message.refresh_from_db()
        assert (message.status, message.attempts) == (Status.PENDING, 0)
    sent.refresh_from_db()
    assert sent.status == Status.SENT


def test_the_outbox_admin_shows_a_message_read_only(cast, login_as):
    message = outbox(Status.SENT, provider_message_id="SM1")
    client = login_as(cast.admin)

    page = client.get(reverse("admin:notifications_outboxmessage_change", args=[message.pk]))
    client.post(reverse("admin:notifications_outboxmessage_change", args=[message.pk]), {"body": "Changed"})

    assert page.status_code == 200
    assert "Code 1" in page.text
    message.refresh_from_db()
    assert message.body == "Code 1"


def test_staff_who_may_only_view_the_outbox_cannot_requeue(login_as, db):
    viewer = UserFactory(email="viewer@example.com", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_outboxmessage"))
    unknown = outbox(Status.UNKNOWN)
    client = login_as(viewer)

    page = client.get(CHANGELIST)
    client.post(CHANGELIST, {"action": "requeue", "_selected_action": [unknown.pk]})

    assert page.status_code == 200
    assert "requeue" not in page.text.lower()
    unknown.refresh_from_db()
    assert unknown.status == Status.UNKNOWN
    assert not AuditEvent.objects.filter(action="notifications.outbox_requeued").exists()


def test_asking_the_provider_settles_unknown_sms_shows_the_answer_and_audits_it(cast, login_as, twilio_settings):
    twilio_settings.drop_next(accept=True)
    unknown = services.sms_queue(to="+4915112345001", body="Your statement is ready")
    assert delivery.outbox_message_deliver(message_id=unknown.pk) == Status.UNKNOWN
    sent = outbox(Status.SENT, provider_message_id="SM1")
    client = login_as(cast.admin)

    response = client.post(
        CHANGELIST, {"action": "ask_provider", "_selected_action": [unknown.pk, sent.pk]}, follow=True
    )

    assert response.status_code == 200
    assert "1 SMS was handed over: now sent." in response.text
    assert "1 message was skipped: only SMS whose outcome is unknown can be checked" in response.text
    unknown.refresh_from_db()
    [taken] = twilio_settings.messages
    assert (unknown.status, unknown.provider_message_id) == (Status.SENT, taken["sid"])
    [event] = AuditEvent.objects.filter(action="notifications.outbox_reconciled")
    assert (event.actor, event.object_id, event.ip) == (cast.admin, str(unknown.pk), "127.0.0.1")
    # The change list and the detail page say when the provider was asked and what it said.
    assert f"Twilio has it as {taken['sid']}" in client.get(CHANGELIST).text
    detail = client.get(reverse("admin:notifications_outboxmessage_change", args=[unknown.pk])).text
    assert f"Twilio has it as {taken['sid']}" in detail


def test_asking_the_provider_while_it_is_down_says_so_and_changes_nothing(cast, login_as, twilio_settings):
    twilio_settings.drop_next(accept=True)
    unknown = services.sms_queue(to="+4915112345001", body="Your statement is ready")
    delivery.outbox_message_deliver(message_id=unknown.pk)
    twilio_settings.stop()

    response = login_as(cast.admin).post(
        CHANGELIST, {"action": "ask_provider", "_selected_action": [unknown.pk]}, follow=True
    )

    assert "The provider could not be asked" in response.text and "1 SMS stays unknown." in response.text
    unknown.refresh_from_db()
    assert unknown.status == Status.UNKNOWN and "Could not ask Twilio" in unknown.provider_check
    assert not AuditEvent.objects.filter(action="notifications.outbox_reconciled").exists()


def test_the_admin_never_shows_a_secret_not_even_sealed(cast, login_as):
    message = services.sms_queue(to="+4915112345001", body="Code ⟦secret⟧ for you", secret="482913")
    sealed_token = OutboxMessage.objects.get(pk=message.pk).secret

    page = login_as(cast.admin).get(reverse("admin:notifications_outboxmessage_change", args=[message.pk])).text

    assert "Code •••••• for you" in page
    assert "482913" not in page and sealed_token not in page
    assert "held, encrypted, until it is handed over" in page


def test_viewers_cannot_ask_the_provider(login_as, db, twilio_settings):
    viewer = UserFactory(email="viewer@example.com", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_outboxmessage"))
    unknown = outbox(Status.UNKNOWN, send_started_at=timezone.now())

    login_as(viewer).post(CHANGELIST, {"action": "ask_provider", "_selected_action": [unknown.pk]})

    assert twilio_settings.requests == []
    unknown.refresh_from_db()
    assert unknown.provider_checked_at is None
