"""Who may do what with API keys: one policy for pages, services and admin.

- Anyone who works with the portal for a firm (brokers, firm managers, partners, merchants,
  exchange members, back office) may hold personal API keys; end clients may not.
- A key is managed by its owner only; back-office staff may also revoke anyone's key (a key that
  leaked must be stoppable without its owner).
- Creating, rotating and revoking need a session verified by a second factor.
"""

from portal.accounts.roles import Role

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
