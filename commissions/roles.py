"""Back office works the commissions in admin: its role group carries these permissions.

The firm managers' `view_firm_commissions` is deliberately not granted here: a firm manager sees
the firm's brokers' commissions only once back office gives the role that permission.
"""

from django.contrib.auth.models import Group, Permission

from portal.accounts.roles import Role

BACKOFFICE_PERMISSIONS = [
    "view_commissionplan",
    "add_commissionplan",
    "change_commissionplan",
    "view_commissionrule",
    "add_commissionrule",
    "change_commissionrule",
    "view_commissionmonth",
    "change_commissionmonth",
    "view_statement",
    "change_statement",
    "view_accrual",
]


def backoffice_permissions_grant(*, using: str = "default", **kwargs) -> None:
    """post_migrate receiver (after Django has created the permission rows); idempotent.

    Writes through the migrating connection (`using`), which is the owner role's in production.
    """
    group, _ = Group.objects.using(using).get_or_create(name=Role.BACKOFFICE)
    group.permissions.add(
        *Permission.objects.using(using).filter(
            content_type__app_label="commissions", codename__in=BACKOFFICE_PERMISSIONS
        )
    )
