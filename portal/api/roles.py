"""Back office reads every API key and idempotency record in admin (and may revoke a key): its role group carries the permissions."""

from django.contrib.auth.models import Group, Permission

from portal.accounts.roles import Role

BACKOFFICE_PERMISSIONS = ["view_apikey", "view_idempotencyrecord"]


def backoffice_permissions_grant(*, using: str = "default", **kwargs) -> None:
    """post_migrate receiver (after Django has created the permission rows); idempotent.

    Writes through the migrating connection (`using`), which is the owner role's in production.
    """
    group, _ = Group.objects.using(using).get_or_create(name=Role.BACKOFFICE)
    group.permissions.add(
        *Permission.objects.using(using).filter(
            content_type__app_label="portal_api", codename__in=BACKOFFICE_PERMISSIONS
        )
    )
