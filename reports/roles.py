from django.contrib.auth.models import Group, Permission

from portal.accounts.roles import Role


def backoffice_permissions_grant(**kwargs) -> None:
    """post_migrate receiver: back office reads report requests in admin. Idempotent."""
    group, _ = Group.objects.get_or_create(name=Role.BACKOFFICE)
    group.permissions.add(*Permission.objects.filter(content_type__app_label="reports", codename="view_report"))
