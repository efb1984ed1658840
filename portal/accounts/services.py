from django.contrib.auth.models import Group
from django.db import transaction

from portal.audit.context import acting_as

from .models import User
from .roles import OVERSIGHT_ROLES, Role


def role_groups_ensure() -> None:
    """Create the group for every role (idempotent; also run by a data migration)."""
    for role in Role:
        Group.objects.get_or_create(name=role.value)


def audit_trail_readers_grant(*, using: str = "default", **kwargs) -> None:
    """The roles whose menu shows "Audit trail" may read it in admin, and back office works the outbox there.

    A post_migrate receiver for the audit and notifications apps (connected in apps.py with those
    senders: their permission rows exist only once Django has created them in the same signal), and
    called by the demo cast and the tests. Idempotent. Writes through the migrating connection
    (`using`), which is the owner role's in production.
    """
    from django.contrib.auth.models import Permission

    view = Permission.objects.using(using).filter(content_type__app_label="audit", codename="view_auditevent")
    for role in OVERSIGHT_ROLES:
        group, _ = Group.objects.using(using).get_or_create(name=role)
        group.permissions.add(*view)
    # The outbox in admin: read every message, requeue failed ones, ask the SMS provider.
    outbox = Permission.objects.using(using).filter(
        content_type__app_label="notifications", codename__in=["view_outboxmessage", "change_outboxmessage"]
    )
    group, _ = Group.objects.using(using).get_or_create(name=Role.BACKOFFICE)
    group.permissions.add(*outbox)


def user_roles_set(*, actor: User | None, user: User, roles: list[str]) -> None:
    """Give the user exactly these roles; each addition and removal lands in the audit trail."""
    unknown = set(roles) - set(Role.values)
    if unknown:
        raise ValueError(f"Unknown roles: {sorted(unknown)}")
    with transaction.atomic(), acting_as(actor):
        wanted = set(Group.objects.filter(name__in=roles))
        current = set(user.groups.all())
        if current - wanted:
            user.groups.remove(*(current - wanted))
        if wanted - current:
            user.groups.add(*(wanted - current))
    user.forget_cached_state()
