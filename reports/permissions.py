"""Who may request which report, and whose reports one sees.

- A broker or firm manager requests client reports for the clients the client policy lets them see,
  and the inducements disclosure for themselves.
- Back office and compliance request any report for any firm: any client, any broker.
- Everyone sees the reports they requested; back office and compliance see all.
"""

from django.db.models import Q

from portal.accounts.roles import Role

REQUESTER_ROLES = (Role.INTERMEDIARY, Role.FIRM_MANAGER, Role.BACKOFFICE, Role.COMPLIANCE)
BROKER_ROLES = (Role.INTERMEDIARY, Role.FIRM_MANAGER)


def can_request_reports(actor) -> bool:
    return bool(actor.is_authenticated and actor.is_active and actor.has_role(*REQUESTER_ROLES))


def for_any_firm(actor) -> bool:
    return actor.has_role(Role.BACKOFFICE, Role.COMPLIANCE)


def report_scope(actor) -> Q | None:
    if not actor.is_authenticated:
        return Q(pk__in=[])
    if for_any_firm(actor):
        return None
    return Q(requested_by_id=actor.pk)


def may_disclose_for(actor, broker) -> bool:
    """Whose inducements the actor may put into a disclosure."""
    if broker is None or not broker.has_role(*BROKER_ROLES):
        return False
    return for_any_firm(actor) or broker.pk == actor.pk
