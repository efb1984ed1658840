from django.contrib.auth.models import Permission
from django.urls import reverse

from portal.audit.models import AuditEvent
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
    events = AuditEvent.objects.filter(action="notifications.outbox_requeued").order_by("object_id")
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
