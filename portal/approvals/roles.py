"""Staff roles read approvals in admin (what each sees is the approvals policy's call): their groups
carry the view permissions. Nothing is changed there by hand; the actions go through the services."""

from django.contrib.auth.models import Group, Permission

from portal.accounts.roles import Role

STAFF_ROLES = (Role.BACKOFFICE, Role.COMPLIANCE, Role.CREDIT_ANALYST, Role.ADMISSION)
PERMISSIONS = ["view_approval", "view_approvaldecision"]


def staff_permissions_grant(*, using: str = "default", **kwargs) -> None:
    """post_migrate receiver; idempotent."""
    permissions = list(
        Permission.objects.using(using).filter(content_type__app_label="approvals", codename__in=PERMISSIONS)
    )
    for role in STAFF_ROLES:
        group, _ = Group.objects.using(using).get_or_create(name=role)
        group.permissions.add(*permissions)
