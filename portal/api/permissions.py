"""Who may do what with API keys (one policy for pages, services and admin), and API access by role.

- Anyone who works with the portal for a firm (brokers, firm managers, partners, merchants,
  exchange members, back office) may hold personal API keys; end clients may not.
- A key is managed by its owner only; back-office staff may also revoke anyone's key (a key that
  leaked must be stoppable without its owner).
- Creating, rotating and revoking need a session verified by a second factor.
"""

from django.db.models import Q
from rest_framework.permissions import IsAuthenticated

from portal.accounts.roles import Role
from portal.core.policy import ALL, Policy, register_policy

from .models import ApiKey

KEY_HOLDER_ROLES = (
    Role.INTERMEDIARY,
    Role.FIRM_MANAGER,
    Role.PARTNER_AGENT,
    Role.MERCHANT,
    Role.EXCHANGE_MEMBER,
    Role.BACKOFFICE,
    Role.COMPLIANCE,
)


def can_hold_api_keys(actor) -> bool:
    return bool(actor.is_authenticated and actor.is_active and actor.has_role(*KEY_HOLDER_ROLES))


def can_revoke_any_api_key(actor) -> bool:
    return bool(actor.is_authenticated and actor.is_staff and actor.has_role(Role.BACKOFFICE))


class ApiKeyPolicy(Policy):
    """manage (list on the profile page, rotate): the owner; view and revoke: also back-office staff."""

    model = ApiKey
    actions = ("manage", "view", "revoke")

    def scope(self, actor, action):
        if action != "manage" and can_revoke_any_api_key(actor):
            return ALL
        return Q(owner=actor)


api_keys = register_policy(ApiKeyPolicy())


class HasRole(IsAuthenticated):
    """API access for holders of one of `roles`; the objects they reach are their policy's business.

    Subclass with `roles` and `api_key_scope` (the resource group a key needs, portal.api.scopes).
    """

    roles: frozenset = frozenset()
    api_key_scope: str | None = None

    def has_permission(self, request, view):
        return super().has_permission(request, view) and request.user.has_role(*self.roles)
