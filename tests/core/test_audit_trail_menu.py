"""The back office's "Audit trail" menu entry opens the audit trail in admin, read-only; nobody else gets in."""

import pytest
from django.urls import reverse

from portal.audit.models import AuditEvent
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

TRAIL = reverse("admin:audit_auditevent_changelist")


def test_the_back_office_follows_its_menu_entry_to_the_audit_trail(cast, login_as):
    client = login_as(cast.backoffice)
    event = AuditEvent.objects.exclude(action="").latest("pk")

    assert f'href="{TRAIL}"' in client.get(reverse("shell:home"), follow=True).content.decode()
    listing = client.get(TRAIL)
    assert listing.status_code == 200
    assert event.action in listing.content.decode()
    detail = client.get(reverse("admin:audit_auditevent_change", args=[event.pk]))
    assert detail.status_code == 200


def test_the_back_office_still_cannot_change_or_delete_history(cast, login_as):
    client = login_as(cast.backoffice)
    event = AuditEvent.objects.latest("pk")

    changed = client.post(reverse("admin:audit_auditevent_change", args=[event.pk]), {"action": "forged"})
    deleted = client.post(reverse("admin:audit_auditevent_delete", args=[event.pk]), {"post": "yes"})

    assert (changed.status_code, deleted.status_code) == (403, 403)
    assert AuditEvent.objects.get(pk=event.pk).action != "forged"


def test_staff_without_a_back_office_role_are_refused(cast, login_as):
    staff = UserFactory(email="intern@example.com", is_staff=True)
    assert login_as(staff).get(TRAIL).status_code == 403


def test_a_broker_is_sent_to_log_in(cast, login_as):
    response = login_as(cast.broker1).get(TRAIL)
    assert response.status_code == 302
    assert response["Location"] == f"/admin/login/?next={TRAIL}"
