"""Who sees whose commissions: one policy for pages, exports, PDFs, the API and admin.

view (statements and their entries):
- everyone: their own statements and entries
- a firm manager: also those of their firm's people, but only if their role carries the
  permission `commissions.view_firm_commissions` (granted to the firm-manager group in admin)
- back-office staff and compliance: everything
- a broker never sees a colleague's: the firm permission counts only together with the
  firm-manager role, so granting it to brokers by mistake shows them nothing more
"""

from django.db.models import Q

from portal.accounts.roles import BROKER_ROLES, OVERSIGHT_ROLES, Role
from portal.core.policy import ALL, Policy, register_policy

from .models import Accrual, Statement

VIEW_FIRM_COMMISSIONS = "commissions.view_firm_commissions"
READER_ROLES = (*BROKER_ROLES, *OVERSIGHT_ROLES)


def sees_everything(actor) -> bool:
    return actor.has_role(*OVERSIGHT_ROLES)


def firm_seen(actor) -> int | None:
    """The firm whose people's commissions the actor sees besides their own, if any."""
    firm = actor.managed_firm_id
    return firm if firm and actor.has_perm(VIEW_FIRM_COMMISSIONS) else None


class StatementPolicy(Policy):
    model = Statement
    # The statement's own fields: a statement row, or an entry through its statement.
    path = ""

    def scope(self, actor, action):
        if sees_everything(actor):
            return ALL
        scope = Q(**{f"{self.path}beneficiary_id": actor.pk})
        if firm_seen(actor):
            scope |= Q(**{f"{self.path}firm_id": firm_seen(actor)})
        return scope


class AccrualPolicy(StatementPolicy):
    """An entry is seen by whoever sees its statement."""

    model = Accrual
    path = "statement__"


statements = register_policy(StatementPolicy())
accruals = register_policy(AccrualPolicy())


def can_read_commissions(actor) -> bool:
    return bool(actor.is_authenticated and actor.has_role(*READER_ROLES))


def can_operate_payouts(actor) -> bool:
    """Close months, approve and mark statements paid: back-office staff."""
    return bool(actor.is_authenticated and actor.is_active and actor.is_staff and actor.has_role(Role.BACKOFFICE))
