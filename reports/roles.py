from django.contrib.auth.models import Group, Permission

from portal.accounts.roles import Role


def backoffice_permissions_grant(*, using: str = "default", **kwargs) -> None:
    """post_migrate receiver: back office reads report requests in admin. Idempotent.

    Writes through the migrating connection (`using`), which is the owner role's in production.
    """
    group, _ = Group.objects.using(using).get_or_create(name=Role.BACKOFFICE)
    group.permissions.add(
        *Permission.objects.using(using).filter(content_type__app_label="reports", codename="view_report")
    )
