"""Back office reads every API key and idempotency record in admin (and may revoke a key): its role group carries the permissions."""

from django.contrib.auth.models import Group, Permission

from portal.accounts.roles import Role

BACKOFFICE_PERMISSIONS = ["view_apikey", "view_idempotencyrecord"]


def backoffice_permissions_grant(**kwargs) -> None:
    """post_migrate receiver (after Django has created the permission rows); idempotent."""
    group, _ = Group.objects.get_or_create(name=Role.BACKOFFICE)
    group.permissions.add(
        *Permission.objects.filter(content_type__app_label="portal_api", codename__in=BACKOFFICE_PERMISSIONS)
    )
