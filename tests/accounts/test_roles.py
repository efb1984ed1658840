"""Role changes through the service land in the audit trail with the actor and the change."""

import pytest

from portal.accounts.roles import Role
from portal.accounts.services import user_roles_set
from portal.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_it_audits_each_role_added_and_removed(cast):
    before = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()

    user_roles_set(actor=cast.admin, user=cast.broker1, roles=[Role.FIRM_MANAGER, Role.PARTNER_AGENT])

    events = AuditEvent.objects.filter(action="auth.roles_changed", id__gt=before).order_by("id")
    assert [(e.actor, e.changes) for e in events] == [
        (cast.admin, {"removed": [Role.INTERMEDIARY]}),
        (cast.admin, {"added": sorted([Role.FIRM_MANAGER, Role.PARTNER_AGENT])}),
    ]
    cast.broker1.refresh_from_db()
    assert cast.broker1.roles == {Role.FIRM_MANAGER, Role.PARTNER_AGENT}


def test_it_writes_nothing_when_the_roles_do_not_change(cast):
    before = AuditEvent.objects.count()

    user_roles_set(actor=cast.admin, user=cast.broker1, roles=[Role.INTERMEDIARY])

    assert AuditEvent.objects.count() == before


def test_it_refuses_unknown_roles_and_changes_nothing(cast):
    before = AuditEvent.objects.count()

    with pytest.raises(ValueError, match="Unknown roles"):
        user_roles_set(actor=cast.admin, user=cast.broker1, roles=["emperor"])

    assert cast.broker1.roles == {Role.INTERMEDIARY}
    assert AuditEvent.objects.count() == before
