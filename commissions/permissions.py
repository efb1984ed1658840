"""Who sees whose commissions: one policy for pages, exports, PDFs, the API and admin actions.

- everyone: their own statements and entries
- a firm manager: also those of their firm's people, but only if their role carries the
  permission `commissions.view_firm_commissions` (granted to the firm-manager group in admin)
- back-office staff and compliance: everything
- a broker never sees a colleague's: the firm permission counts only together with the
  firm-manager role, so granting it to brokers by mistake shows them nothing more
"""

from django.db.models import Q

from portal.accounts.roles import Role

VIEW_FIRM_COMMISSIONS = "commissions.view_firm_commissions"
READER_ROLES = (Role.INTERMEDIARY, Role.FIRM_MANAGER, Role.BACKOFFICE, Role.COMPLIANCE)


def sees_everything(actor) -> bool:
    return actor.has_role(Role.BACKOFFICE, Role.COMPLIANCE)


def sees_firm(actor) -> bool:
    return bool(actor.has_role(Role.FIRM_MANAGER) and actor.organisation_id and actor.has_perm(VIEW_FIRM_COMMISSIONS))


def statement_scope(actor, prefix: str = "") -> Q | None:
    """The filter for the statements (or, with prefix "statement__", entries) the actor may see; None: all."""
    if not actor.is_authenticated or not actor.is_active:
        return Q(pk__in=[])
    if sees_everything(actor):
        return None
    scope = Q(**{f"{prefix}beneficiary_id": actor.pk})
    if sees_firm(actor):
        scope |= Q(**{f"{prefix}firm_id": actor.organisation_id})
    return scope


def can_read_commissions(actor) -> bool:
    return bool(actor.is_authenticated and actor.has_role(*READER_ROLES))


def can_operate_payouts(actor) -> bool:
    """Close months, approve and mark statements paid: back-office staff."""
    return bool(actor.is_authenticated and actor.is_active and actor.is_staff and actor.has_role(Role.BACKOFFICE))
