"""Back office and credit analysts read bnpl in admin; back office also keeps merchants and shopper profiles.

Their role groups carry the permissions; what rows they reach is still the policies' call.
"""

from django.contrib.auth.models import Group, Permission

from portal.accounts.roles import Role

READ = [
    "view_merchant",
    "view_shopper",
    "view_sepamandate",
    "view_paymentsession",
    "view_creditagreement",
    "view_order",
    "view_plan",
    "view_instalment",
]
PERMISSIONS = {
    Role.BACKOFFICE: [*READ, "add_merchant", "change_merchant", "add_shopper", "change_shopper", "change_order"],
    Role.CREDIT_ANALYST: [*READ, "change_shopper"],
}
for _role in (Role.BACKOFFICE, Role.CREDIT_ANALYST):  # merchants' webhooks and credit decisions, read in admin
    PERMISSIONS[_role] = [
        *PERMISSIONS[_role],
        "view_webhookdelivery",
        "view_webhookattempt",
        "view_creditrule",
        "view_creditruleset",
        "view_creditdecision",
    ]
    # Instant shopping, read in admin: the shops' buy buttons and what their servers answered.
    PERMISSIONS[_role] += ["view_buybutton", "view_shippingoption", "view_merchantconfirmation"]
# Back office keeps the credit rules (bnpl/decision_rules.py checks the role again on every write).
PERMISSIONS[Role.BACKOFFICE] += ["add_creditrule", "change_creditrule", "change_creditruleset"]


def staff_permissions_grant(*, using: str = "default", **kwargs) -> None:
    """post_migrate receiver (after Django has created the permission rows); idempotent."""
    for role, codenames in PERMISSIONS.items():
        group, _ = Group.objects.using(using).get_or_create(name=role)
        group.permissions.add(
            *Permission.objects.using(using).filter(content_type__app_label="bnpl", codename__in=codenames)
        )
